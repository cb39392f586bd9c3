#include "ui/view/timeline.h"

#include <algorithm>
#include <cmath>

namespace eps::view {

void TimeAxis::zoom_at(double x, double factor, double min_ns_per_px, double max_ns_per_px) {
  const double t = t_of(x);
  ns_per_px = std::clamp(ns_per_px / factor, min_ns_per_px, max_ns_per_px);
  left = t - x * ns_per_px;
}

void TimeAxis::fit(double t0, double t1, double width_px) {
  if (width_px < 1) width_px = 1;
  if (t1 <= t0) t1 = t0 + 1000;
  ns_per_px = (t1 - t0) / width_px;
  left = t0;
}

void TimeAxis::keep_visible(double t, double width_px, double margin_px) {
  const double x = x_of(t);
  if (x < margin_px) left = t - margin_px * ns_per_px;
  else if (x > width_px - margin_px) left = t - (width_px - margin_px) * ns_per_px;
}

namespace {

// Appends a span for [t0, t1) with value v, or extends the last one if it has the same value.
void close_span(std::vector<Span>& lane, SimTime t0, SimTime t1, std::uint8_t v, std::uint16_t task) {
  if (t1 <= t0) return;
  if (!lane.empty() && lane.back().t1 == t0 && lane.back().value == v && lane.back().task == task) {
    lane.back().t1 = t1;
    return;
  }
  lane.push_back(Span{t0, t1, v, task});
}

}  // namespace

namespace {

// A live trace's lanes: per thread, inside a syscall or not (see TimelineIndex::live).
TimelineIndex build_live_timeline(const Trace& trace, TimelineIndex idx) {
  idx.live = true;
  struct Open { SimTime since = 0; std::uint8_t value = std::uint8_t(CpuMode::User); std::uint16_t sys = 0; };
  std::vector<Open> open;
  for (const TraceEvent& e : trace.events) {
    if (e.actor == kNoTask) continue;
    if (e.kind == Ev::TaskCreate) {
      if (open.size() <= e.actor) {
        open.resize(std::size_t(e.actor) + 1);
        idx.task.resize(std::size_t(e.actor) + 1);
        idx.task_name.resize(std::size_t(e.actor) + 1);
      }
      open[e.actor] = Open{e.t};
      idx.task_name[e.actor] = e.b < trace.strings.size() ? trace.strings[e.b] : "task " + std::to_string(e.actor);
    } else if ((e.kind == Ev::SyscallEnter || e.kind == Ev::SyscallExit) && e.actor < open.size()) {
      Open& o = open[e.actor];
      close_span(idx.task[e.actor], o.since, e.t, o.value, o.sys);
      o = e.kind == Ev::SyscallEnter ? Open{e.t, std::uint8_t(CpuMode::System), std::uint16_t(e.a)} : Open{e.t};
    } else if (e.kind == Ev::TryToWakeUp) {
      idx.wakeups.push_back(WakeArrow{e.t, e.actor, e.cpu, e.seq});
    }
  }
  for (std::size_t k = 0; k < open.size(); k++) close_span(idx.task[k], open[k].since, idx.end, open[k].value, open[k].sys);
  idx.cpu.clear();
  return idx;
}

}  // namespace

TimelineIndex build_timeline(const Trace& trace) {
  TimelineIndex idx;
  idx.end = trace.end_ns;
  if (!trace.events.empty()) idx.end = std::max(idx.end, trace.events.back().t);
  if (trace.source == "live") return build_live_timeline(trace, std::move(idx));
  const std::size_t ncpu = std::size_t(std::max(trace.cpus, 1));
  idx.cpu.resize(ncpu);
  struct Open { SimTime since = 0; std::uint8_t value = 0; std::uint16_t task = kNoTask; bool live = false; };
  std::vector<Open> cpu_open(ncpu, Open{0, std::uint8_t(CpuMode::Idle), kNoTask, true});
  std::vector<Open> task_open;
  for (const TraceEvent& e : trace.events) {
    switch (e.kind) {
      case Ev::CpuMode: {
        if (e.cpu >= ncpu) break;
        Open& o = cpu_open[e.cpu];
        close_span(idx.cpu[e.cpu], o.since, e.t, o.value, o.task);
        o = Open{e.t, std::uint8_t(e.a), e.actor, true};
        break;
      }
      case Ev::TaskCreate: {
        if (e.actor == kNoTask) break;
        if (task_open.size() <= e.actor) {
          task_open.resize(std::size_t(e.actor) + 1);
          idx.task.resize(std::size_t(e.actor) + 1);
          idx.task_name.resize(std::size_t(e.actor) + 1);
        }
        task_open[e.actor] = Open{e.t, std::uint8_t(TaskState::Runnable), e.actor, true};
        idx.task_name[e.actor] = e.b < trace.strings.size() ? trace.strings[e.b] : "task " + std::to_string(e.actor);
        break;
      }
      case Ev::TaskState: {
        if (e.actor >= task_open.size()) break;
        Open& o = task_open[e.actor];
        close_span(idx.task[e.actor], o.since, e.t, o.value, e.actor);
        o = Open{e.t, std::uint8_t(e.a), e.actor, true};
        break;
      }
      case Ev::TryToWakeUp:
        idx.wakeups.push_back(WakeArrow{e.t, e.actor, e.cpu, e.seq});
        break;
      default: break;
    }
  }
  for (std::size_t c = 0; c < ncpu; c++)
    close_span(idx.cpu[c], cpu_open[c].since, idx.end, cpu_open[c].value, cpu_open[c].task);
  for (std::size_t k = 0; k < task_open.size(); k++)
    if (task_open[k].live)
      close_span(idx.task[k], task_open[k].since, idx.end, task_open[k].value, task_open[k].task);
  return idx;
}

std::vector<DrawSpan> visible_spans(const std::vector<Span>& spans, const TimeAxis& axis,
                                    float width_px, float min_px) {
  std::vector<DrawSpan> out;
  if (spans.empty() || width_px <= 0) return out;
  const double t_lo = axis.t_of(0), t_hi = axis.t_of(width_px);
  // First span that ends after t_lo.
  auto it = std::upper_bound(spans.begin(), spans.end(), t_lo,
                             [](double t, const Span& s) { return t < double(s.t1); });
  // Per merged box: time each value covers, to pick the dominant one.
  double weight[8] = {};
  auto flush = [&](DrawSpan& box) {
    int best = box.value;
    for (int v = 0; v < 8; v++)
      if (weight[v] > weight[best]) best = v;
    box.value = std::uint8_t(best);
    out.push_back(box);
    std::fill(std::begin(weight), std::end(weight), 0.0);
  };
  bool open = false;
  DrawSpan box;
  for (; it != spans.end() && double(it->t0) < t_hi; ++it) {
    const float x0 = float(std::max(axis.x_of(double(it->t0)), -1.0));
    const float x1 = float(std::min(axis.x_of(double(it->t1)), double(width_px) + 1));
    const double w = double(it->t1 - it->t0);
    if (open && box.x1 - box.x0 < min_px && x0 - box.x1 < min_px) {
      // Merge into the open box while it is too thin to stand alone. Each box closes once it
      // is min_px wide, so a lane never has more than ~2 * width / min_px boxes.
      box.x1 = std::max(box.x1, x1);
      box.merged = true;
      if (box.task != it->task) box.task = kNoTask;
      weight[it->value & 7] += w;
      continue;
    }
    if (open) flush(box);
    box = DrawSpan{x0, x1, it->value, false, it->task};
    weight[it->value & 7] += w;
    open = true;
  }
  if (open) flush(box);
  return out;
}

std::vector<std::size_t> lane_order(const TimelineIndex& idx, const TimeAxis& axis, float width_px,
                                    const std::vector<bool>& server) {
  const double t_lo = axis.t_of(0), t_hi = axis.t_of(width_px);
  auto awake_in_view = [&](const std::vector<Span>& lane) {
    auto it = std::upper_bound(lane.begin(), lane.end(), t_lo,
                               [](double t, const Span& s) { return t < double(s.t1); });
    for (; it != lane.end() && double(it->t0) < t_hi; ++it)
      if (TaskState(it->value) != TaskState::Sleeping) return true;
    return false;
  };
  std::vector<std::size_t> groups[3];
  for (std::size_t k = 0; k < idx.task.size(); k++) {
    if (idx.task[k].empty()) continue;
    const bool srv = k < server.size() ? bool(server[k]) : true;
    groups[!srv ? 2 : awake_in_view(idx.task[k]) ? 0 : 1].push_back(k);
  }
  std::vector<std::size_t> out;
  for (auto& g : groups) out.insert(out.end(), g.begin(), g.end());
  return out;
}

std::pair<std::size_t, std::size_t> visible_wakeups(const TimelineIndex& idx, const TimeAxis& axis,
                                                    float width_px) {
  const double t_lo = axis.t_of(0), t_hi = axis.t_of(width_px);
  auto lo = std::lower_bound(idx.wakeups.begin(), idx.wakeups.end(), t_lo,
                             [](const WakeArrow& w, double t) { return double(w.t) < t; });
  auto hi = std::upper_bound(lo, idx.wakeups.end(), t_hi,
                             [](double t, const WakeArrow& w) { return t < double(w.t); });
  return {std::size_t(lo - idx.wakeups.begin()), std::size_t(hi - idx.wakeups.begin())};
}

}  // namespace eps::view
