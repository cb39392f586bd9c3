// "Event log": every event of the run, filtered by kind, drawn with ImGuiListClipper so only
// the visible rows cost anything (fast with millions). Click a row to seek there.
#include <algorithm>
#include <cstdio>

#include "ui/panel_common.h"
#include "ui/view/format.h"
#include "ui/view/narration.h"

namespace eps::app {

namespace {

void rebuild_rows(const Trace& tr, ViewState& vs) {
  vs.log_rows.clear();
  bool all = true;
  for (bool b : vs.log_kind) all &= b;
  if (all) {
    vs.log_rows.resize(tr.events.size());
    for (std::size_t i = 0; i < tr.events.size(); i++) vs.log_rows[i] = std::uint32_t(i);
  } else {
    for (std::size_t i = 0; i < tr.events.size(); i++)
      if (vs.log_kind[std::size_t(tr.events[i].kind)]) vs.log_rows.push_back(std::uint32_t(i));
  }
  vs.log_dirty = false;
  vs.log_for = &tr;
}

}  // namespace

void draw_log(const PanelCtx& c, ViewState& vs, Commands& out) {
  const Trace& tr = *c.pane.run->trace;
  if (vs.log_dirty || vs.log_for != &tr) rebuild_rows(tr, vs);
  if (ImGui::Button("Filter...")) ImGui::OpenPopup("##filter");
  if (ImGui::BeginPopup("##filter")) {
    if (ImGui::Button("all")) { for (bool& b : vs.log_kind) b = true; vs.log_dirty = true; }
    ImGui::SameLine();
    if (ImGui::Button("none")) { for (bool& b : vs.log_kind) b = false; vs.log_dirty = true; }
    ImGui::SameLine();
    if (ImGui::Button("story only")) {
      for (bool& b : vs.log_kind) b = true;
      for (Ev k : {Ev::CpuMode, Ev::TaskState, Ev::ProgramLine, Ev::WaitAdd, Ev::WaitRemove}) vs.log_kind[std::size_t(k)] = false;
      vs.log_dirty = true;
    }
    ImGui::Columns(3, nullptr, false);
    for (int k = 0; k < int(Ev::Count); k++) {
      if (ImGui::Checkbox(std::string(ev_name(Ev(k))).c_str(), &vs.log_kind[std::size_t(k)])) vs.log_dirty = true;
      ImGui::NextColumn();
    }
    ImGui::Columns(1);
    ImGui::EndPopup();
  }
  ImGui::SameLine();
  ImGui::Checkbox("follow", &vs.log_follow);
  ImGui::SameLine();
  ImGui::TextDisabled("%s shown", view::group_digits(vs.log_rows.size()).c_str());

  const std::size_t cur = c.pane.pb.cursor;  // the current event is cur - 1
  ImGui::BeginChild("##rows", ImVec2(0, 0), false);
  const float lh = ImGui::GetTextLineHeightWithSpacing();
  // The row of the current event (or the last one before it).
  const auto it = std::upper_bound(vs.log_rows.begin(), vs.log_rows.end(), std::uint32_t(cur ? cur - 1 : 0));
  const long cur_row = cur ? long(it - vs.log_rows.begin()) - 1 : -1;
  if (vs.log_follow && cur_row >= 0) {
    const float y = float(cur_row) * lh;
    if (y < ImGui::GetScrollY() || y > ImGui::GetScrollY() + ImGui::GetWindowHeight() - 2 * lh)
      ImGui::SetScrollY(std::max(0.0f, y - ImGui::GetWindowHeight() * 0.5f));
  }
  ImGuiListClipper clip;
  clip.Begin(int(vs.log_rows.size()), lh);
  char buf[256];
  while (clip.Step()) {
    for (int r = clip.DisplayStart; r < clip.DisplayEnd; r++) {
      const std::uint32_t i = vs.log_rows[std::size_t(r)];
      const TraceEvent& e = tr.events[i];
      std::snprintf(buf, sizeof buf, "%7u  %10.3f µs  %-15s %s##%u", i + 1, double(e.t) / 1e3,
                    std::string(ev_name(e.kind)).c_str(), view::event_label(tr, e, c.pane.run->timeline.task_name).c_str(), i);
      if (ImGui::Selectable(buf, long(r) == cur_row)) out.push_back({Cmd::Seek, (long long)i + 1});
    }
  }
  ImGui::EndChild();
}

}  // namespace eps::app
