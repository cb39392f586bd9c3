// The trace checker: is every field of every event within what its kind allows? A trace file
// is read from disk, so it may hold anything its checksum was computed over; replay and the
// views index vectors with event fields, so read_trace_file refuses a trace that fails here.
//
// The rules are a table (trace_check.cpp): one row per event kind saying what each of the
// fields obj, a, b, actor and flow may hold. When the trace format gains a kind or a field
// changes meaning, the table gains or changes a row (a test walks it: every kind has one).
// Rules that hold for every kind: kind is known, seq is the event's index, time never runs
// backward (and starts at 0 or later), cpu < the header's cpus.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "sim/trace.h"

namespace eps {

// What one field may hold.
enum class Field : std::uint8_t {
  Unused,       // the kind does not use the field: it holds the default (0; obj/flow kNone; actor kNoTask)
  Any,          // any value: a count, a length, a mask, a request id, a result, a packet id
  Flag,         // 0 or 1
  SwitchHow,    // ContextSwitch's b: kSwitchVoluntary, kSwitchInvoluntary or kSwitchUncounted
  CloseReason,  // FdClose's reason: 0 closed, 1 refused (fd >= FD_SETSIZE)
  CpuModeV,     // a CpuMode
  TaskStateV,   // a TaskState
  TaskKindV,    // a TaskKind
  SysV,         // a Sys other than None: a syscall the programs make
  WaitKindV,    // a WaitKind
  FailReasonV,  // a FailReason
  Cpu,          // a CPU: < the header's cpus
  Task,         // a task created by an earlier TaskCreate
  TaskOrNone,   // kNoTask, or a task created by an earlier TaskCreate
  NewTask,      // TaskCreate's actor: the next task id (0, 1, 2, ... in trace order)
  Conn,         // a connection index: < the header's connections
  ConnOrNone,   // kNone, or a connection index
  Fd,           // an fd: < trace_fd_limit()
  FdOrNone,     // kNone, or an fd
  Sid,          // a socket id: < the header's connections + listeners
  SidOrNone,    // kNone, or a socket id
  Eid,          // an epoll instance made by an earlier EpollCreate
  NewEid,       // EpollCreate's obj: the next instance id (0, 1, 2, ... in trace order)
  WaitQueue,    // a wait queue: a socket id, or kEpWq | an epoll instance
  WaitA,        // a of the wait-queue kinds: a WaitKind, with the kWaitExclusive / kWaitAtTail flags
  WaitWho,      // b of the wait-queue kinds: an epoll instance for WaitKind::EpCallback, else a task
  FileKindV,    // a FileKind
  FileId,       // FdInstall's b: a socket id or an epoll instance, as its a says
  String,       // an index into Trace::strings
  Line,         // an index into Trace::program
};
std::string_view field_rule_name(Field f);

// What each field of one kind of event may hold (the cpu field is always a CPU).
struct EvRule {
  Ev kind;
  Field obj, a, b, actor, flow;
};

// The table, one row per kind, in Ev order.
std::span<const EvRule> trace_rules();

// Room for fds that are not connections in the model: 0..2 stdio, the listening sockets (one
// per worker at most: 64) and the epoll instances (one per worker at most: 64).
inline constexpr std::uint32_t kSimExtraFds = 3 + 64 + 64;
// Room in a live run for the process's other files (see trace_fd_limit).
inline constexpr std::uint32_t kLiveExtraFds = 4096;

// One more than the highest fd a trace may name, from its header:
//  - sim: fds are numbered as a process numbers them (fdtable.cpp, alloc_fd: the lowest free):
//    0..2 stdio, the listening sockets, the epoll instances, one per connection:
//    connections + kSimExtraFds.
//  - live: the fds are the kernel's. The load generator runs in the server's process, so both
//    ends of every connection hold an fd, beside the process's own files (stdio, perf's pipe,
//    what a test runner holds open). The kernel gives out the lowest free fd (POSIX,
//    fs/file.c alloc_fd), so no fd is higher than the number of files open:
//    2 x connections + kLiveExtraFds.
// The bound also caps what replay allocates by fd (WorldState::fd_conn) to a few bytes per fd.
std::uint32_t trace_fd_limit(const Trace& trace);

// "" if the trace keeps every rule; otherwise the first broken one, naming the event, its kind
// and the field: "events[1234] (cpu_mode): a = 250 is not a CpuMode (0..5)". Header problems
// (e.g. connections out of range) are named as "header: ...".
std::string check_trace(const Trace& trace);

}  // namespace eps
