// "What happened": the current event in one or two plain sentences (ui/view/narration).
#include "ui/panel_common.h"
#include "ui/view/format.h"
#include "ui/view/narration.h"

namespace eps::app {

void draw_narration(const PanelCtx& c, ViewState& vs, Commands& out) {
  const Trace& tr = *c.pane.run->trace;
  const std::size_t cur = c.pane.pb.cursor;
  ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(col(c.pal.dim)));
  if (cur == 0) {
    ImGui::TextUnformatted("Before the first event");
  } else {
    const TraceEvent& e = tr.events[cur - 1];
    ImGui::Text("Event %s of %s  ·  t = %s  ·  %s", view::group_digits(cur).c_str(),
                view::group_digits(tr.events.size()).c_str(), view::format_time(e.t).c_str(),
                std::string(ev_name(e.kind)).c_str());
  }
  ImGui::PopStyleColor();
  ImGui::Separator();
  ImGui::PushFont(c.fonts.big);
  const std::string s = cur == 0 ? view::narrate_start(tr) : view::narrate(tr, tr.events[cur - 1], c.pane.world);
  ImGui::TextWrapped("%s", s.c_str());
  ImGui::PopFont();
  (void)vs;
  (void)out;
}

}  // namespace eps::app
