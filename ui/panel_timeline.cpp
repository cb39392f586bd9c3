// "Timeline": one lane per CPU coloured by what it runs, one lane per task with its state,
// wake-up arrows, a cursor. Wheel zooms at the mouse, drag pans, click seeks. Spans are
// picked and merged per pixel in ui/view/timeline before anything is drawn.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "ui/panel_common.h"
#include "ui/view/format.h"

namespace eps::app {

namespace {

// Tick spacing: 1, 2 or 5 times a power of ten, at least `min_px` apart.
double tick_step(double ns_per_px, double min_px) {
  const double raw = ns_per_px * min_px;
  double p = std::pow(10.0, std::floor(std::log10(std::max(raw, 1e-3))));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (p * m >= raw) return p * m;
  return p * 10;
}

}  // namespace

void draw_timeline(const PanelCtx& c, ViewState& vs, Commands& out) {
  const Pane& p = c.pane;
  const Trace& tr = *p.run->trace;
  const view::TimelineIndex& idx = p.run->timeline;
  const float label_w = ImGui::GetFontSize() * 7.5f;
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float lane_w = std::max(50.0f, avail.x - label_w);
  const float ruler_h = ImGui::GetTextLineHeight() + 4;
  const float lane_h = std::max(ImGui::GetTextLineHeight() + 2, 20 * c.scale);
  const double now = view::display_time(tr, p.pb.cursor, p.pb.frac);

  if (!vs.axis_fitted) {
    vs.axis.fit(0, std::min(double(idx.end), 400e3), lane_w);
    vs.axis_fitted = true;
  }
  ImGui::InvisibleButton("##timeline", ImVec2(std::max(avail.x, 1.0f), std::max(avail.y, 1.0f)),
                         ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight);
  const bool hovered = ImGui::IsItemHovered();
  ImGuiIO& io = ImGui::GetIO();
  const float mx = io.MousePos.x - origin.x - label_w;
  if (hovered && io.MouseWheel != 0) {
    vs.axis.zoom_at(mx, std::pow(1.25, io.MouseWheel));
    vs.follow = false;
  }
  if (ImGui::IsItemActive() && (ImGui::IsMouseDragging(ImGuiMouseButton_Right) || ImGui::IsMouseDragging(ImGuiMouseButton_Left, 6 * c.scale))) {
    vs.axis.pan_px(io.MouseDelta.x);
    vs.follow = false;
  } else if (ImGui::IsItemDeactivated() && mx >= 0 && ImGui::IsMouseReleased(ImGuiMouseButton_Left) &&
             std::abs(io.MouseDragMaxDistanceSqr[0]) < 36 * c.scale * c.scale) {
    out.push_back({Cmd::RunUntilTime, 0, vs.axis.t_of(mx)});  // click: seek to that time
  }
  if (vs.follow || p.pb.playing) vs.axis.keep_visible(now, lane_w, lane_w * 0.15);

  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float x0 = origin.x + label_w;
  dl->PushClipRect(origin, ImVec2(origin.x + avail.x, origin.y + avail.y), true);
  // Ruler.
  const double step = tick_step(vs.axis.ns_per_px, 110 * c.scale);
  const double t_lo = vs.axis.t_of(0), t_hi = vs.axis.t_of(lane_w);
  for (double t = std::floor(t_lo / step) * step; t <= t_hi; t += step) {
    const float x = x0 + float(vs.axis.x_of(t));
    if (x < x0) continue;
    dl->AddLine(ImVec2(x, origin.y + ruler_h - 4), ImVec2(x, origin.y + avail.y), col(view::with_alpha(c.pal.frame, 60)));
    const std::string s = view::format_duration(SimTime(t));
    dl->AddText(ImVec2(x + 3, origin.y), col(c.pal.dim), s.c_str());
  }
  float y = origin.y + ruler_h;
  auto lane_label = [&](const std::string& s, ImU32 color) {
    dl->AddText(ImVec2(origin.x + 2, y + (lane_h - ImGui::GetTextLineHeight()) / 2), color, s.c_str());
  };
  // A live trace's task lanes hold CpuMode values (in a syscall or not), like CPU lanes.
  auto draw_spans = [&](const std::vector<view::Span>& spans, bool cpu) {
    const bool modes = cpu || idx.live;
    for (const auto& b : view::visible_spans(spans, vs.axis, lane_w)) {
      const view::Rgba fill = modes ? c.pal.mode[b.value % kCpuModeCount] : c.pal.state[b.value & 3];
      if (!modes && TaskState(b.value) == TaskState::Sleeping && !b.merged) {
        // Sleeping: a thin line, so running/runnable stand out.
        dl->AddRectFilled(ImVec2(x0 + b.x0, y + lane_h * 0.42f), ImVec2(x0 + std::max(b.x1, b.x0 + 1), y + lane_h * 0.58f), col(fill));
        continue;
      }
      dl->AddRectFilled(ImVec2(x0 + b.x0, y + 2), ImVec2(x0 + std::max(b.x1, b.x0 + 1), y + lane_h - 2), col(fill));
      if (b.x1 - b.x0 > 60 * c.scale && !b.merged) {
        const std::string s =
            cpu ? std::string(cpu_mode_name(CpuMode(b.value))) +
                      (b.task != kNoTask && b.task < idx.task_name.size() ? " " + idx.task_name[b.task] : "")
            : idx.live ? (CpuMode(b.value) == CpuMode::System ? "in " + std::string(sys_name(Sys(b.task))) : "user space")
                       : std::string(task_state_name(TaskState(b.value)));
        dl->PushClipRect(ImVec2(x0 + b.x0, y), ImVec2(x0 + b.x1, y + lane_h), true);
        dl->AddText(c.fonts.small, c.fonts.small->FontSize, ImVec2(x0 + std::max(b.x0, 0.0f) + 3, y + (lane_h - c.fonts.small->FontSize) / 2),
                    col(view::rgb(0, 0, 0)), s.c_str());
        dl->PopClipRect();
      }
    }
  };
  std::vector<float> cpu_y(idx.cpu.size());
  const std::string prefix = c.other ? "A " : "";
  if (idx.live) {  // nothing recorded what the CPUs did; the lanes below are the threads' syscalls
    lane_label("CPUs: not recorded live; below, each thread in or out of its syscalls", col(c.pal.dim));
    y += lane_h + 2;
  }
  for (std::size_t k = 0; k < idx.cpu.size(); k++) {
    cpu_y[k] = y;
    lane_label(prefix + "CPU" + std::to_string(k), col(c.pal.text));
    draw_spans(idx.cpu[k], true);
    y += lane_h + 2;
  }
  // Compare: the other run's CPUs on the same time axis, right under these.
  if (c.other) {
    const view::TimelineIndex& oidx = c.other->run->timeline;
    for (std::size_t k = 0; k < oidx.cpu.size(); k++) {
      lane_label("B CPU" + std::to_string(k), col(c.pal.text));
      draw_spans(oidx.cpu[k], true);
      y += lane_h + 2;
    }
  }
  // Task lanes: server threads first, then neighbours, as many as fit.
  std::vector<bool> server(idx.task.size(), true);
  for (const auto& t : p.world.tasks)
    if (t.id < server.size()) server[t.id] = t.server();
  auto is_server = [&](std::size_t k) { return k < server.size() && server[k]; };
  const std::vector<std::size_t> order = view::lane_order(idx, vs.axis, lane_w, server);
  const float bottom = origin.y + avail.y;
  std::vector<float> task_y(idx.task.size(), -1);
  std::size_t shown = 0;
  y += 4;
  for (std::size_t k : order) {
    if (y + lane_h > bottom - (shown + 1 < order.size() ? lane_h : 0)) break;
    task_y[k] = y;
    lane_label(idx.task_name[k], col(is_server(k) ? c.pal.text : c.pal.dim));
    draw_spans(idx.task[k], false);
    y += lane_h;
    shown++;
  }
  if (shown < order.size()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "+ %zu more task lanes", order.size() - shown);
    lane_label(buf, col(c.pal.dim));
  }
  // Wake-up arrows: from the CPU that will run the task down to the woken task's lane.
  auto [wlo, whi] = view::visible_wakeups(idx, vs.axis, lane_w);
  if (whi - wlo < 2000)
    for (std::size_t i = wlo; i < whi; i++) {
      const auto& w = idx.wakeups[i];
      if (w.task >= task_y.size() || task_y[w.task] < 0 || w.cpu >= cpu_y.size()) continue;
      const float x = x0 + float(vs.axis.x_of(double(w.t)));
      arrow(dl, ImVec2(x, cpu_y[w.cpu] + lane_h * 0.5f), ImVec2(x, task_y[w.task] + 2), col(c.pal.wake_arrow), 1.5f * c.scale, 7 * c.scale);
    }
  // Cursor.
  const float cx = x0 + float(vs.axis.x_of(now));
  dl->AddLine(ImVec2(cx, origin.y), ImVec2(cx, bottom), col(c.pal.cursor), 2 * c.scale);
  dl->PopClipRect();
  if (hovered && mx >= 0) ImGui::SetTooltip("%s\nclick: seek · wheel: zoom · drag: pan", view::format_time(SimTime(vs.axis.t_of(mx))).c_str());
}

}  // namespace eps::app
