// Playback: where the cursor is, how it moves. The cursor counts applied events: at cursor N
// the world shows the state after events 1..N (numbered from 1 on screen), and event N is the
// "current" one the narration explains. Everything here is plain arithmetic over the trace,
// so it is tested without a window; the GUI only turns keys and buttons into these calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/trace.h"

namespace eps::view {

// Kinds of "story step" that Shift+arrow jumps between.
enum class Story : std::uint8_t {
  Milestone,      // every event a student should see (no bookkeeping: cpu_mode, task_state...)
  Packet,         // the path of a packet: send, NIC, IRQ, softirq, socket, wake, return
  SyscallReturn,  // the next sys_exit
  Wakeup,         // the next try_to_wake_up
  ReadyList,      // rdllist changes
  TreeChange,     // ep_insert and the rotations and recolours it causes
  ContextSwitch,
};
inline constexpr int kStoryCount = 7;
std::string_view story_name(Story s);
bool is_story(Story s, const TraceEvent& e);

// The speeds, slowest first: so many events per second, then so much simulated time per
// second of wall time, up to real time.
struct Speed {
  bool by_time = false;  // false: `rate` events per second; true: `rate` sim-seconds per second
  double rate = 1;
  std::string_view label;
};
const std::vector<Speed>& speed_ladder();
int default_speed();

struct Playback {
  std::size_t cursor = 0;   // events applied
  bool playing = false;
  int speed = 1;            // index into speed_ladder()
  double frac = 0;          // progress towards the next event, [0, 1): drives the animation
  double vtime = -1;        // by-time speeds: the simulated time reached (ns); -1 = not started
};

// Moves the cursor by `wall_seconds` of play (only while playing). Stops at the end.
void advance(Playback& pb, const Trace& tr, double wall_seconds);
// Moves the cursor to `cursor` (clamped), resets the in-between progress.
void seek(Playback& pb, const Trace& tr, std::size_t cursor);
void step(Playback& pb, const Trace& tr, long delta);

// The cursor that makes the next (or previous) event of the story current. When there is
// none: next_story keeps the cursor, prev_story goes to the start (0).
std::size_t next_story(const Trace& tr, std::size_t cursor, Story s);
std::size_t prev_story(const Trace& tr, std::size_t cursor, Story s);
std::size_t next_kind(const Trace& tr, std::size_t cursor, Ev kind);
// All events at or before time t applied.
std::size_t cursor_at_time(const Trace& tr, SimTime t);
// Simulated time to show at cursor (time of the current event; 0 at cursor 0), plus the
// in-between progress (frac) toward the next event.
double display_time(const Trace& tr, std::size_t cursor, double frac);

// Parses an Ev name as ev_name() prints it ("rdllist_add"); nullopt if unknown.
std::optional<Ev> parse_ev(std::string_view name);

// How many events of each kind the trace has (index: Ev), for "run until" to offer only
// what happens in this run.
std::vector<std::uint64_t> kind_counts(const Trace& tr);
// The kind "run until" should show: `current` if this run has it, else the first of the
// story's usual moments (rdllist_add, sched_wakeup, poll_scan, sys_exit, nic_rx) it has.
Ev until_kind_for(const std::vector<std::uint64_t>& counts, Ev current);

}  // namespace eps::view
