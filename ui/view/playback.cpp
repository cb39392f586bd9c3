#include "ui/view/playback.h"

#include <algorithm>
#include <cmath>

namespace eps::view {

std::string_view story_name(Story s) {
  switch (s) {
    case Story::Milestone: return "milestone";
    case Story::Packet: return "packet path";
    case Story::SyscallReturn: return "syscall return";
    case Story::Wakeup: return "wake-up";
    case Story::ReadyList: return "ready list";
    case Story::TreeChange: return "tree change";
    case Story::ContextSwitch: return "context switch";
  }
  return "?";
}

bool is_story(Story s, const TraceEvent& e) {
  switch (s) {
    case Story::Milestone:
      switch (e.kind) {
        case Ev::CpuMode: case Ev::TaskState: case Ev::ProgramLine: case Ev::WaitAdd:
        case Ev::WaitRemove: case Ev::TaskCreate: case Ev::SocketCreate:
          return false;
        case Ev::HardIrq: case Ev::Softirq:
          return e.a == 1;
        default:
          return true;
      }
    case Story::Packet:
      switch (e.kind) {
        case Ev::ClientSend: case Ev::NicRx: case Ev::NicDrop: case Ev::NapiRx: case Ev::SkbQueue:
        case Ev::WaitWake: case Ev::RdllistAdd: case Ev::TryToWakeUp: case Ev::SkbDequeue:
        case Ev::ReplyRecv:
          return true;
        case Ev::HardIrq: case Ev::Softirq:
          return e.a == 1;
        case Ev::SyscallExit:
          return Sys(e.a) == Sys::EpollWait || Sys(e.a) == Sys::Select || Sys(e.a) == Sys::Poll ||
                 Sys(e.a) == Sys::Recvfrom;
        default:
          return false;
      }
    case Story::SyscallReturn: return e.kind == Ev::SyscallExit;
    case Story::Wakeup: return e.kind == Ev::TryToWakeUp;
    case Story::ReadyList: return e.kind == Ev::RdllistAdd || e.kind == Ev::RdllistRemove;
    case Story::TreeChange:
      return e.kind == Ev::EpitemInsert || e.kind == Ev::EpitemRemove || e.kind == Ev::RbRotate ||
             e.kind == Ev::RbRecolor;
    case Story::ContextSwitch: return e.kind == Ev::ContextSwitch;
  }
  return false;
}

const std::vector<Speed>& speed_ladder() {
  static const std::vector<Speed> k = {
      {false, 1, "1 event/s"},   {false, 2, "2 events/s"},   {false, 5, "5 events/s"},
      {false, 10, "10 events/s"}, {false, 30, "30 events/s"}, {false, 100, "100 events/s"},
      {false, 1000, "1,000 events/s"}, {true, 1e-6, "1 µs per s"}, {true, 1e-5, "10 µs per s"},
      {true, 1e-4, "100 µs per s"}, {true, 1e-3, "1 ms per s"}, {true, 1e-2, "10 ms per s"},
      {true, 1e-1, "100 ms per s"}, {true, 1, "real time"},
  };
  return k;
}

int default_speed() { return 1; }

namespace {
SimTime time_of(const Trace& tr, std::size_t i) { return tr.events[i].t; }
}  // namespace

double display_time(const Trace& tr, std::size_t cursor, double frac) {
  if (tr.events.empty() || cursor == 0) return tr.events.empty() ? 0.0 : double(time_of(tr, 0)) * frac;
  const std::size_t n = tr.events.size();
  const double t0 = double(time_of(tr, std::min(cursor, n) - 1));
  if (cursor >= n) return t0;
  return t0 + (double(time_of(tr, cursor)) - t0) * frac;
}

void seek(Playback& pb, const Trace& tr, std::size_t cursor) {
  pb.cursor = std::min(cursor, tr.events.size());
  pb.frac = 0;
  pb.vtime = -1;
}

void step(Playback& pb, const Trace& tr, long delta) {
  const long c = long(pb.cursor) + delta;
  seek(pb, tr, c < 0 ? 0 : std::size_t(c));
}

std::size_t cursor_at_time(const Trace& tr, SimTime t) {
  auto it = std::upper_bound(tr.events.begin(), tr.events.end(), t,
                             [](SimTime x, const TraceEvent& e) { return x < e.t; });
  return std::size_t(it - tr.events.begin());
}

void advance(Playback& pb, const Trace& tr, double wall_seconds) {
  const std::size_t n = tr.events.size();
  if (!pb.playing) return;
  if (pb.cursor >= n) {
    pb.playing = false;
    pb.frac = 0;
    return;
  }
  const auto& ladder = speed_ladder();
  const Speed sp = ladder[std::size_t(std::clamp(pb.speed, 0, int(ladder.size()) - 1))];
  if (!sp.by_time) {
    pb.vtime = -1;
    pb.frac += wall_seconds * sp.rate;
    const double whole = std::floor(pb.frac);
    pb.frac -= whole;
    pb.cursor = std::min(n, pb.cursor + std::size_t(whole));
  } else {
    if (pb.vtime < 0) pb.vtime = display_time(tr, pb.cursor, pb.frac);
    pb.vtime += wall_seconds * sp.rate * 1e9;
    // Never fall behind the cursor (a seek may have moved it).
    if (pb.cursor > 0) pb.vtime = std::max(pb.vtime, double(time_of(tr, pb.cursor - 1)));
    pb.cursor = std::max(pb.cursor, cursor_at_time(tr, SimTime(pb.vtime)));
    if (pb.cursor < n) {
      const double t0 = pb.cursor ? double(time_of(tr, pb.cursor - 1)) : 0.0;
      const double t1 = double(time_of(tr, pb.cursor));
      pb.frac = t1 > t0 ? std::clamp((pb.vtime - t0) / (t1 - t0), 0.0, 0.999) : 0.0;
    }
  }
  if (pb.cursor >= n) {
    pb.cursor = n;
    pb.playing = false;
    pb.frac = 0;
  }
}

std::size_t next_story(const Trace& tr, std::size_t cursor, Story s) {
  for (std::size_t i = cursor; i < tr.events.size(); i++)
    if (is_story(s, tr.events[i])) return i + 1;
  return cursor;
}

std::size_t prev_story(const Trace& tr, std::size_t cursor, Story s) {
  // The current event is cursor - 1; the previous story event is before it.
  for (std::size_t i = std::min(cursor, tr.events.size()); i-- > 1;)
    if (is_story(s, tr.events[i - 1])) return i;
  return cursor > 0 ? 0 : cursor;
}

std::size_t next_kind(const Trace& tr, std::size_t cursor, Ev kind) {
  for (std::size_t i = cursor; i < tr.events.size(); i++)
    if (tr.events[i].kind == kind) return i + 1;
  return cursor;
}

std::vector<std::uint64_t> kind_counts(const Trace& tr) {
  std::vector<std::uint64_t> n(std::size_t(Ev::Count), 0);
  for (const TraceEvent& e : tr.events)
    if (e.kind < Ev::Count) n[std::size_t(e.kind)]++;
  return n;
}

Ev until_kind_for(const std::vector<std::uint64_t>& counts, Ev current) {
  const auto has = [&](Ev k) { return std::size_t(k) < counts.size() && counts[std::size_t(k)] > 0; };
  if (has(current)) return current;
  for (Ev k : {Ev::RdllistAdd, Ev::TryToWakeUp, Ev::PollScan, Ev::SyscallExit, Ev::NicRx})
    if (has(k)) return k;
  return current;
}

std::optional<Ev> parse_ev(std::string_view name) {
  for (int k = 0; k < int(Ev::Count); k++)
    if (ev_name(Ev(k)) == name) return Ev(k);
  return std::nullopt;
}

}  // namespace eps::view
