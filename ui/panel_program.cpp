// "The program": the server loop of the current strategy, with the line the followed thread
// is on lit, like a debugger.
#include "sim/simulation.h"
#include "ui/panel_common.h"
#include "ui/view/machine.h"
#include "ui/view/narration.h"

namespace eps::app {

void draw_program(const PanelCtx& c, ViewState& vs, Commands& out) {
  const Pane& p = c.pane;
  // The listing recorded with the run: the variant this run really executed.
  const std::vector<std::string>& lines = p.run->trace->program;
  const std::size_t cur = p.pb.cursor;
  const std::uint16_t focus = cur ? p.run->trace->events[cur - 1].actor : kNoTask;
  const std::uint16_t task = view::program_task(p.world, focus);
  const int lit = view::lit_line(p.world, task);
  ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(col(c.pal.dim)));
  ImGui::Text("%s  ·  following %s", std::string(strategy_name(p.run->trace->strategy)).c_str(),
              task == kNoTask ? "no thread yet" : view::task_name(p.world, task).c_str());
  ImGui::PopStyleColor();
  ImGui::Separator();
  ImGui::BeginChild("##listing", ImVec2(0, 0), false, ImGuiWindowFlags_HorizontalScrollbar);
  ImGui::PushFont(c.fonts.mono);
  const float lh = ImGui::GetTextLineHeightWithSpacing();
  for (int i = 0; i < int(lines.size()); i++) {
    const ImVec2 pos = ImGui::GetCursorScreenPos();
    if (i == lit) {
      ImGui::GetWindowDrawList()->AddRectFilled(
          pos, ImVec2(pos.x + ImGui::GetWindowWidth() + ImGui::GetScrollX(), pos.y + lh),
          col(view::with_alpha(c.pal.focus, 70)));
      ImGui::GetWindowDrawList()->AddRectFilled(pos, ImVec2(pos.x + 4 * c.scale, pos.y + lh), col(c.pal.focus));
    }
    ImGui::Text("%s%2d  %s", i == lit ? "▶" : " ", i + 1, lines[std::size_t(i)].c_str());
    if (i == lit && lit != vs.program_lit) {  // scroll only when the line changes
      ImGui::SetScrollHereY(0.4f);
      vs.program_lit = lit;
    }
  }
  ImGui::PopFont();
  ImGui::EndChild();
  (void)out;
}

}  // namespace eps::app
