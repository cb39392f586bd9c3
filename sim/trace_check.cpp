// The trace checker's table and its one pass over the events (see trace_check.h).
#include "sim/trace_check.h"

#include <algorithm>
#include <cstdio>

namespace eps {

namespace {

using F = Field;

// One row per kind, in Ev order: what obj, a, b, actor and flow may hold. The sim column of
// each comes from where the model emits the kind (sched.cpp, syscalls.cpp, net.cpp,
// simulation.cpp); live traces (live/sys.cpp, live/live_run.cpp, live/kernel_trace.cpp) use
// a subset, noted where they differ.
constexpr EvRule kRules[] = {
    //                      obj            a               b              actor          flow
    // --- setup ---
    {Ev::TaskCreate,      F::Cpu,        F::TaskKindV,   F::String,     F::NewTask,    F::Unused},  // obj = cpu hint
    {Ev::SocketCreate,    F::Sid,        F::ConnOrNone,  F::SidOrNone,  F::Unused,     F::Any},     // b = its listener
    {Ev::EpollCreate,     F::NewEid,     F::Unused,      F::Unused,     F::Task,       F::Unused},
    {Ev::FdClose,         F::Fd,         F::CloseReason, F::Unused,     F::Task,       F::Unused},
    // --- CPUs and the scheduler ---
    {Ev::CpuMode,         F::Unused,     F::CpuModeV,    F::Unused,     F::TaskOrNone, F::Unused},
    {Ev::TaskState,       F::Unused,     F::TaskStateV,  F::TaskStateV, F::Task,       F::Unused},
    {Ev::ContextSwitch,   F::Unused,     F::TaskOrNone,  F::SwitchHow,  F::TaskOrNone, F::Unused},  // a = prev, actor = next
    {Ev::TryToWakeUp,     F::Unused,     F::Flag,        F::Unused,     F::Task,       F::Any},
    // --- the task's program ---
    {Ev::ProgramLine,     F::Unused,     F::Line,        F::Unused,     F::Task,       F::Unused},
    {Ev::SyscallEnter,    F::FdOrNone,   F::SysV,        F::Unused,     F::Task,       F::Unused},
    {Ev::SyscallExit,     F::FdOrNone,   F::SysV,        F::Any,        F::Task,       F::Unused},  // b = result
    {Ev::UserWork,        F::Unused,     F::Conn,        F::Any,        F::Task,       F::Any},     // b = work ns
    {Ev::PollScan,        F::SysV,       F::Any,         F::Any,        F::Task,       F::Unused},  // obj = the scanning call
    // --- the wire and the NIC ---
    {Ev::ClientSend,      F::Conn,       F::Any,         F::Unused,     F::Unused,     F::Any},     // a = request id
    {Ev::NicRx,           F::Conn,       F::Any,         F::Any,        F::Unused,     F::Any},     // a = ring, b = request id
    {Ev::NicDrop,         F::Conn,       F::Any,         F::Unused,     F::Unused,     F::Any},
    {Ev::HardIrq,         F::Unused,     F::Flag,        F::Unused,     F::Unused,     F::Unused},
    {Ev::NapiSchedule,    F::Unused,     F::Unused,      F::Unused,     F::Unused,     F::Unused},
    {Ev::Softirq,         F::Unused,     F::Flag,        F::Any,        F::TaskOrNone, F::Unused},  // actor: ksoftirqd
    // NapiRx: live (perf's napi_poll) has no connection, a = work, b = budget.
    {Ev::NapiRx,          F::ConnOrNone, F::Any,         F::Any,        F::TaskOrNone, F::Any},
    {Ev::TimeSqueeze,     F::Unused,     F::Unused,      F::Unused,     F::TaskOrNone, F::Unused},
    // --- sockets and wait queues ---
    {Ev::SkbQueue,        F::Sid,        F::Any,         F::Any,        F::Unused,     F::Any},     // b = ring occupancy
    {Ev::SkbDequeue,      F::Sid,        F::Any,         F::Unused,     F::Task,       F::Any},
    {Ev::WaitAdd,         F::WaitQueue,  F::WaitA,       F::WaitWho,    F::TaskOrNone, F::Unused},
    {Ev::WaitRemove,      F::WaitQueue,  F::WaitA,       F::WaitWho,    F::TaskOrNone, F::Unused},
    {Ev::WaitWake,        F::WaitQueue,  F::WaitA,       F::WaitWho,    F::TaskOrNone, F::Any},
    // --- epoll (obj = the instance, a = the watched fd) ---
    {Ev::EpitemInsert,    F::Eid,        F::Fd,          F::Any,        F::Task,       F::Unused},  // b = events mask
    {Ev::EpitemRemove,    F::Eid,        F::Fd,          F::Unused,     F::Task,       F::Unused},
    {Ev::EpitemModify,    F::Eid,        F::Fd,          F::Any,        F::Task,       F::Unused},
    {Ev::RbRotate,        F::Eid,        F::Fd,          F::Flag,       F::Unused,     F::Unused},
    {Ev::RbRecolor,       F::Eid,        F::Fd,          F::Flag,       F::Unused,     F::Unused},
    {Ev::RdllistAdd,      F::Eid,        F::Fd,          F::Any,        F::Unused,     F::Any},     // b = list length
    {Ev::RdllistRemove,   F::Eid,        F::Fd,          F::Any,        F::TaskOrNone, F::Unused},
    // --- the client side (obj = connection, a = request id) ---
    {Ev::ReplySend,       F::Conn,       F::Any,         F::Unused,     F::Task,       F::Any},
    {Ev::ReplyRecv,       F::Conn,       F::Any,         F::Any,        F::Unused,     F::Any},     // b = latency us
    {Ev::RequestFailed,   F::Conn,       F::Any,         F::FailReasonV, F::TaskOrNone, F::Any},
    // --- trace format 2 ---
    {Ev::FdInstall,       F::Fd,         F::FileKindV,   F::FileId,     F::TaskOrNone, F::Unused},
    {Ev::ClientConnect,   F::Conn,       F::Unused,      F::Unused,     F::Unused,     F::Any},
};

constexpr bool rows_in_ev_order() {
  for (std::size_t i = 0; i < std::size(kRules); i++)
    if (kRules[i].kind != Ev(i)) return false;
  return true;
}
static_assert(std::size(kRules) == std::size_t(Ev::Count), "every Ev kind needs its row in kRules");
static_assert(rows_in_ev_order(), "kRules must list the kinds in Ev order");

// The enums' ranges. Each enum ends at the value listed here (its last member).
constexpr std::uint32_t kCpuModeMax = kCpuModeCount - 1;
constexpr std::uint32_t kTaskStateMax = std::uint32_t(TaskState::Dead);
constexpr std::uint32_t kTaskKindMax = std::uint32_t(TaskKind::Ksoftirqd);
constexpr std::uint32_t kSysMax = std::uint32_t(Sys::Count) - 1;
constexpr std::uint32_t kWaitKindMax = std::uint32_t(WaitKind::EpWait);
constexpr std::uint32_t kFailReasonMax = std::uint32_t(FailReason::Refused);

enum Slot { kObj, kA, kB, kActor, kFlow };
constexpr const char* kSlotName[] = {"obj", "a", "b", "actor", "flow"};

constexpr std::uint32_t unused_value(Slot s) {
  return s == kA || s == kB ? 0u : s == kActor ? std::uint32_t(kNoTask) : kNone;
}

// What the pass knows so far.
struct Ctx {
  const Trace& tr;
  std::uint32_t cpus, conns, fds, strings, lines, sockets;
  std::uint32_t tasks = 0;  // TaskCreate events seen: task ids 0 .. tasks-1 exist
  std::uint32_t eids = 0;   // EpollCreate events seen: instances 0 .. eids-1 exist
};

std::string num(std::uint32_t v) {
  std::string s = std::to_string(v);
  if (v >= 0x10000) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%x", v);
    s += std::string(" (") + hex + ")";
  }
  return s;
}

std::string upto(std::uint32_t n) { return n ? "0.." + std::to_string(n - 1) : "none"; }

// The fast test: does v fit rule f?
inline bool fits(Field f, std::uint32_t v, Slot slot, const Ctx& c, const TraceEvent& e) {
  switch (f) {
    case F::Unused: return v == unused_value(slot);
    case F::Any: return true;
    case F::Flag: return v <= 1;
    case F::SwitchHow: return v <= kSwitchUncounted;
    case F::CloseReason: return v <= 1;
    case F::CpuModeV: return v <= kCpuModeMax;
    case F::TaskStateV: return v <= kTaskStateMax;
    case F::TaskKindV: return v <= kTaskKindMax;
    case F::SysV: return v >= 1 && v <= kSysMax;
    case F::WaitKindV: return v <= kWaitKindMax;
    case F::FailReasonV: return v <= kFailReasonMax;
    case F::Cpu: return v < c.cpus;
    case F::Task: return v < c.tasks;
    case F::TaskOrNone: return v == kNoTask || v < c.tasks;
    case F::NewTask: return v == c.tasks && v != kNoTask;
    case F::Conn: return v < c.conns;
    case F::ConnOrNone: return v == kNone || v < c.conns;
    case F::Fd: return v < c.fds;
    case F::FdOrNone: return v == kNone || v < c.fds;
    case F::Sid: return v < c.sockets;
    case F::SidOrNone: return v == kNone || v < c.sockets;
    case F::Eid: return v < c.eids;
    case F::NewEid: return v == c.eids;
    case F::WaitQueue: return (v & kEpWq) ? (v & ~kEpWq) < c.eids : v < c.sockets;
    case F::WaitA: return (v & ~(0xffu | kWaitExclusive | kWaitAtTail)) == 0 && (v & 0xff) <= kWaitKindMax;
    case F::WaitWho: return wait_kind_of(e.a) == WaitKind::EpCallback ? v < c.eids : v < c.tasks;
    case F::FileKindV: return v <= std::uint32_t(FileKind::Epoll);
    case F::FileId: return e.a == std::uint32_t(FileKind::Epoll) ? v < c.eids : v < c.sockets;
    case F::String: return v < c.strings;
    case F::Line: return v < c.lines;
  }
  return false;
}

// Why v does not fit f: the rest of "FIELD = V ...".
std::string why(Field f, std::uint32_t v, Slot slot, const Ctx& c, const TraceEvent& e) {
  const std::string tasks = c.tasks ? "tasks 0.." + std::to_string(c.tasks - 1) + " created so far"
                                    : "no task created yet";
  const std::string fds = upto(c.fds) + " for " + std::to_string(c.conns) + " connections";
  const std::string sockets = upto(c.sockets) + ": the header's connections and listeners";
  const std::string eids = c.eids ? "instances 0.." + std::to_string(c.eids - 1) + " made so far" : "none made yet";
  switch (f) {
    case F::Unused:
      return "should be " + num(unused_value(slot)) + ": " + std::string(ev_name(e.kind)) + " does not use " +
             kSlotName[slot];
    case F::Any: return "";
    case F::Flag: return "is not 0 or 1";
    case F::SwitchHow: return "is not how a task left the CPU (0 voluntary, 1 involuntary, 2 neither)";
    case F::CloseReason: return "is not a close reason (0 closed, 1 refused)";
    case F::CpuModeV: return "is not a CpuMode (0.." + std::to_string(kCpuModeMax) + ")";
    case F::TaskStateV: return "is not a TaskState (0.." + std::to_string(kTaskStateMax) + ")";
    case F::TaskKindV: return "is not a TaskKind (0.." + std::to_string(kTaskKindMax) + ")";
    case F::SysV: return "is not a Sys (1.." + std::to_string(kSysMax) + ")";
    case F::WaitKindV: return "is not a WaitKind (0.." + std::to_string(kWaitKindMax) + ")";
    case F::FailReasonV: return "is not a FailReason (0.." + std::to_string(kFailReasonMax) + ")";
    case F::Cpu: return "is not a CPU (the header says " + std::to_string(c.cpus) + ": " + upto(c.cpus) + ")";
    case F::Task: return "is not a task (" + tasks + ")";
    case F::TaskOrNone: return "is neither kNoTask nor a task (" + tasks + ")";
    case F::NewTask: return "is not the next task id (" + std::to_string(c.tasks) + ")";
    case F::Conn: return "is not a connection (the header says " + std::to_string(c.conns) + ": " + upto(c.conns) + ")";
    case F::ConnOrNone:
      return "is neither kNone nor a connection (the header says " + std::to_string(c.conns) + ": " +
             upto(c.conns) + ")";
    case F::Fd: return "is not an fd (" + fds + ")";
    case F::FdOrNone: return "is neither kNone nor an fd (" + fds + ")";
    case F::Sid: return "is not a socket (" + sockets + ")";
    case F::SidOrNone: return "is neither kNone nor a socket (" + sockets + ")";
    case F::Eid: return "is not an epoll instance (" + eids + ")";
    case F::NewEid: return "is not the next epoll instance (" + std::to_string(c.eids) + ")";
    case F::WaitQueue: return "is not a wait queue (a socket: " + sockets + "; or kEpWq | an epoll instance: " + eids + ")";
    case F::WaitA: return "is not a WaitKind (0.." + std::to_string(kWaitKindMax) + ") with its flags";
    case F::WaitWho:
      return wait_kind_of(e.a) == WaitKind::EpCallback ? "is not an epoll instance (" + eids + ")"
                                                       : "is not a task (" + tasks + ")";
    case F::FileKindV: return "is not a FileKind (0 socket, 1 epoll)";
    case F::FileId:
      return e.a == std::uint32_t(FileKind::Epoll) ? "is not an epoll instance (" + eids + ")"
                                                   : "is not a socket (" + sockets + ")";
    case F::String: return "is not a string index (the header has " + std::to_string(c.strings) + ")";
    case F::Line: return "is not a program line (the header's program has " + std::to_string(c.lines) + ")";
  }
  return "is not valid";
}

std::string at(std::size_t i, const TraceEvent& e) {
  std::string kind = e.kind < Ev::Count ? std::string(ev_name(e.kind)) : "kind " + std::to_string(int(e.kind));
  return "events[" + std::to_string(i) + "] (" + kind + "): ";
}

}  // namespace

std::string_view field_rule_name(Field f) {
  switch (f) {
    case F::Unused: return "unused";
    case F::Any: return "any";
    case F::Flag: return "0 or 1";
    case F::SwitchHow: return "switch kind";
    case F::CloseReason: return "close reason";
    case F::CpuModeV: return "CpuMode";
    case F::TaskStateV: return "TaskState";
    case F::TaskKindV: return "TaskKind";
    case F::SysV: return "Sys";
    case F::WaitKindV: return "WaitKind";
    case F::FailReasonV: return "FailReason";
    case F::Cpu: return "CPU";
    case F::Task: return "task";
    case F::TaskOrNone: return "task or kNoTask";
    case F::NewTask: return "next task id";
    case F::Conn: return "connection";
    case F::ConnOrNone: return "connection or kNone";
    case F::Fd: return "fd";
    case F::FdOrNone: return "fd or kNone";
    case F::Sid: return "socket id";
    case F::SidOrNone: return "socket id or kNone";
    case F::Eid: return "epoll instance";
    case F::NewEid: return "next epoll instance";
    case F::WaitQueue: return "wait queue";
    case F::WaitA: return "WaitKind and flags";
    case F::WaitWho: return "task, or epoll instance";
    case F::FileKindV: return "FileKind";
    case F::FileId: return "socket id or epoll instance";
    case F::String: return "string index";
    case F::Line: return "program line";
  }
  return "?";
}

std::span<const EvRule> trace_rules() { return kRules; }

std::uint32_t trace_fd_limit(const Trace& tr) {
  const std::uint64_t conns = std::uint64_t(std::max(0, tr.connections));
  const std::uint64_t lim = tr.source == "live" ? 2 * conns + kLiveExtraFds : conns + kSimExtraFds;
  return std::uint32_t(std::min<std::uint64_t>(lim, kNone));
}

std::string check_trace(const Trace& tr) {
  if (tr.cpus < 1 || tr.cpus > 64) return "header: cpus = " + std::to_string(tr.cpus) + " is not 1..64";
  if (tr.connections < 0 || tr.connections > kMaxTotalConnections)
    return "header: connections = " + std::to_string(tr.connections) + " is not 0.." +
           std::to_string(kMaxTotalConnections);
  if (tr.source != "sim" && tr.source != "live") return "header: source = \"" + tr.source + "\" is not sim or live";
  auto clamp32 = [](std::size_t n) { return std::uint32_t(std::min<std::size_t>(n, kNone)); };
  if (tr.listeners < 0 || tr.listeners > 64)
    return "header: listeners = " + std::to_string(tr.listeners) + " is not 0..64";
  Ctx c{tr,
        std::uint32_t(tr.cpus),
        std::uint32_t(tr.connections),
        trace_fd_limit(tr),
        clamp32(tr.strings.size()),
        clamp32(tr.program.size()),
        std::uint32_t(tr.connections + tr.listeners)};
  const auto& ev = tr.events;
  SimTime prev_t = 0;
  for (std::size_t i = 0; i < ev.size(); i++) {
    const TraceEvent& e = ev[i];
    if (e.kind >= Ev::Count)
      return at(i, e) + "kind = " + std::to_string(int(e.kind)) + " is not an event kind (0.." +
             std::to_string(int(Ev::Count) - 1) + ")";
    if (e.seq != i) return at(i, e) + "seq = " + std::to_string(e.seq) + " is not the event's index";
    if (e.t < prev_t)
      return at(i, e) + "t = " + std::to_string(e.t) +
             (i ? " is before the previous event's t = " + std::to_string(prev_t) : " is before 0");
    prev_t = e.t;
    if (e.cpu >= c.cpus)
      return at(i, e) + "cpu = " + std::to_string(int(e.cpu)) + " is not a CPU (the header says " +
             std::to_string(c.cpus) + ": " + upto(c.cpus) + ")";
    const EvRule& r = kRules[std::size_t(e.kind)];
    const std::uint32_t v[5] = {e.obj, e.a, e.b, e.actor, e.flow};
    const Field f[5] = {r.obj, r.a, r.b, r.actor, r.flow};
    for (int s = 0; s < 5; s++)
      if (!fits(f[s], v[s], Slot(s), c, e))
        return at(i, e) + kSlotName[s] + " = " + num(v[s]) + " " + why(f[s], v[s], Slot(s), c, e);
    if (e.kind == Ev::TaskCreate) c.tasks++;
    if (e.kind == Ev::EpollCreate) c.eids++;
  }
  return "";
}

}  // namespace eps
