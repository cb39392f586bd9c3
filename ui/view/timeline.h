// Timeline geometry: which span of simulated time is on screen, and the lanes drawn in it.
// Like Tracy's timeline, the spans of each lane are worked out once from the trace, and each
// frame first picks what is visible, merging anything narrower than a pixel, then draws; so
// a frame costs O(pixels + log events), not O(events), even with millions of events.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/trace.h"

namespace eps::view {

// Maps simulated time to pixels: x = (t - left) / ns_per_px.
struct TimeAxis {
  double left = 0;                // simulated ns at x = 0
  double ns_per_px = 1000;        // zoom
  double x_of(double t) const { return (t - left) / ns_per_px; }
  double t_of(double x) const { return left + x * ns_per_px; }
  // Zooms by `factor` (> 1 zooms in) keeping the time under x fixed; clamps the zoom to
  // [min_ns_per_px, max_ns_per_px].
  void zoom_at(double x, double factor, double min_ns_per_px = 0.05, double max_ns_per_px = 1e9);
  void pan_px(double dx) { left -= dx * ns_per_px; }
  // Shows [t0, t1] across `width_px`.
  void fit(double t0, double t1, double width_px);
  // Scrolls (no zoom change) so that t is visible with a margin of `margin_px`.
  void keep_visible(double t, double width_px, double margin_px);
};

// A stretch of time a lane spends in one value (a CpuMode or a TaskState).
struct Span {
  SimTime t0 = 0, t1 = 0;
  std::uint8_t value = 0;
  std::uint16_t task = kNoTask;   // CPU lanes: whose time it is
};

// What one drawn box of a lane is: one span, or several merged because each is < 1 px.
struct DrawSpan {
  float x0 = 0, x1 = 0;
  std::uint8_t value = 0;         // the value that covers most of the box
  bool merged = false;            // more than one span fell into this box
  std::uint16_t task = kNoTask;
};

struct WakeArrow {
  SimTime t = 0;
  std::uint16_t task = kNoTask;   // the woken task
  std::uint8_t cpu = 0;           // the CPU it will run on
  std::uint32_t event = 0;        // the TryToWakeUp event's index
};

struct TimelineIndex {
  std::vector<std::vector<Span>> cpu;   // per CPU: CpuMode spans
  std::vector<std::vector<Span>> task;  // per task id: TaskState spans
  std::vector<std::string> task_name;   // per task id
  std::vector<WakeArrow> wakeups;       // in time order
  SimTime end = 0;
  // A live recording: no CPU lanes (CPU modes were not recorded), and each task lane holds
  // what was: CpuMode::System spans while the thread was inside a syscall (Span::task = the
  // Sys), CpuMode::User between them.
  bool live = false;
};

TimelineIndex build_timeline(const Trace& trace);

// The boxes of `spans` that fall in [axis.t_of(0), axis.t_of(width_px)], merged so that no
// box is narrower than min_px (except where a single span is), in x order.
std::vector<DrawSpan> visible_spans(const std::vector<Span>& spans, const TimeAxis& axis,
                                    float width_px, float min_px = 1.0f);

// The order of the task lanes: server tasks that are not asleep somewhere in the visible range
// first (the ones worth a lane when only a few fit), then the other server tasks, then the
// neighbours; each group by task id. `server[id]` says whether a task is the server's.
std::vector<std::size_t> lane_order(const TimelineIndex& idx, const TimeAxis& axis, float width_px,
                                    const std::vector<bool>& server);

// The wake-ups in the visible time range (index range into idx.wakeups).
std::pair<std::size_t, std::size_t> visible_wakeups(const TimelineIndex& idx, const TimeAxis& axis,
                                                    float width_px);

}  // namespace eps::view
