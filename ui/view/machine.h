// What the machine picture shows, decided without drawing: which sockets get a box (the busy
// ones, the one the story is about; the idle crowd is summarised), where the packet of the
// current event is on its way NIC -> IRQ -> softirq -> socket -> ready list -> task, and how
// far it has moved toward the next stage of its path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/trace.h"
#include "sim/world.h"

namespace eps::view {

struct SocketPick {
  std::vector<std::size_t> shown;   // indexes into WorldState::sockets (sids), in fd order
  std::size_t hidden = 0;           // sockets not shown
  std::size_t hidden_busy = 0;      // of them, how many have data queued
  std::uint64_t hidden_queued = 0;  // segments queued on hidden sockets
};

// Up to `max_shown` connection sockets: the focus first, then those with data queued, on a
// ready list or with a task waiting, then the rest in fd order. Closed sockets, listening
// sockets and connections not yet accepted (they are in a listener's accept queue) are not
// among them.
SocketPick pick_sockets(const WorldState& w, std::size_t max_shown, std::uint32_t focus_sid = kNone);
// Whether any epoll instance has this socket's fd on its ready list.
bool on_any_rdllist(const WorldState& w, const WsSocket& s);

// The stops of a packet's trip through the machine.
enum class Stage : std::uint8_t {
  None, Client, Wire, Ring, HardIrq, Softirq, Socket, ReadyList, WaitQueue, Task, User, Reply
};
std::string_view stage_name(Stage s);
// Where event e leaves the packet it concerns (None if e is not a step of a packet's trip).
Stage stage_of(const TraceEvent& e);

// What the current event is about: the picture highlights these.
struct Focus {
  std::uint32_t sid = kNone;        // the socket (connection or listener)
  std::uint32_t eid = kNone;        // the epoll instance
  std::int32_t fd = -1;             // the fd the event names (an epitem's key), if any
  std::uint32_t conn = kNone;
  std::uint16_t task = kNoTask;
  int cpu = -1;
  std::uint32_t flow = kNone;
  Stage stage = Stage::None;
};
Focus focus_of(const Trace& tr, const TraceEvent& e, const WorldState& w);

// The packet's move in progress at `cursor` (current event = cursor - 1): from the stage of
// the current event to the stage of the next event of the same flow within `lookahead`
// events. `t` is the progress in [0, 1] the playback gives.
struct PacketMove {
  bool active = false;
  Stage from = Stage::None, to = Stage::None;
  std::uint32_t flow = kNone, sid = kNone, conn = kNone, eid = kNone;
  float t = 0;
};
PacketMove packet_move(const Trace& tr, std::size_t cursor, float t, std::size_t lookahead = 64);
// The packet's arrival at the current event's stage: from the stage of the previous event of
// the same flow (within `lookback` events) to this one, `t` of the way. Inactive if the
// current event is not a packet stage. This is what plays after a step.
PacketMove packet_arrival(const Trace& tr, std::size_t cursor, float t, std::size_t lookback = 64);

// The task whose program the program panel follows: the focused task if it is a server
// thread, else a running server thread, else the first server thread (kNoTask if none).
std::uint16_t program_task(const WorldState& w, std::uint16_t focus_task);
// The line to light for that task (-1: none yet).
int lit_line(const WorldState& w, std::uint16_t task);

}  // namespace eps::view
