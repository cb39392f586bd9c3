// Compare mode's headline: what differs between the two sides, and why (ui/view/compare).
#include "ui/panel_common.h"
#include "ui/view/compare.h"
#include "ui/view/format.h"

namespace eps::app {

void draw_compare_line(const PanelCtx& c, ViewState& vs, Commands& out) {
  if (!c.other) return;
  const Trace& ta = *c.pane.run->trace;
  const Trace& tb = *c.other->run->trace;
  const SimTime t = c.pane.pb.cursor ? ta.events[c.pane.pb.cursor - 1].t : 0;
  const Metrics a = metrics_of(c.pane.world, ta, t);
  const Metrics b = metrics_of(c.other->world, tb, t);
  ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(col(c.pal.dim)));
  ImGui::Text("A: %s   vs   B: %s   ·   same lesson, same clients, one clock: t = %s", std::string(strategy_name(ta.strategy)).c_str(),
              std::string(strategy_name(tb.strategy)).c_str(), view::format_time(t).c_str());
  ImGui::PopStyleColor();
  ImGui::PushFont(c.fonts.big);
  ImGui::TextWrapped("%s", view::explain_difference(a, b).c_str());
  ImGui::PopFont();
  (void)vs;
  (void)out;
}

}  // namespace eps::app
