// Drawing helpers shared by the panels.
#include <cmath>

#include "ui/panel_common.h"

namespace eps::app {

void text_centered(ImDrawList* dl, ImFont* f, float size, ImVec2 center, ImU32 color, const char* text) {
  const ImVec2 ts = f->CalcTextSizeA(size, 1e9f, 0, text);
  dl->AddText(f, size, ImVec2(std::floor(center.x - ts.x / 2), std::floor(center.y - ts.y / 2)), color, text);
}

void box(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 fill, ImU32 outline, float rounding, float thick) {
  dl->AddRectFilled(a, b, fill, rounding);
  if (thick > 0) dl->AddRect(a, b, outline, rounding, 0, thick);
}

void arrow(ImDrawList* dl, ImVec2 from, ImVec2 to, ImU32 color, float thick, float head) {
  const float dx = to.x - from.x, dy = to.y - from.y;
  const float len = std::sqrt(dx * dx + dy * dy);
  if (len < 1) return;
  const float ux = dx / len, uy = dy / len;
  const ImVec2 base(to.x - ux * head, to.y - uy * head);
  dl->AddLine(from, base, color, thick);
  dl->AddTriangleFilled(to, ImVec2(base.x - uy * head * 0.5f, base.y + ux * head * 0.5f),
                        ImVec2(base.x + uy * head * 0.5f, base.y - ux * head * 0.5f), color);
}

}  // namespace eps::app
