// The trace: every change of visible state, in order. It is the contract between the model
// and everything that shows it (replay, GUI, exporters). An event is 32 bytes; its meaning
// is (kind, and the fields that kind documents below). What each field may hold, kind by
// kind, is the table in sim/trace_check.cpp: change it with the kinds and fields here
// (read_trace_file refuses a trace that breaks it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/scenario.h"
#include "sim/strategy.h"

namespace eps {

// What a CPU is doing. The timeline colours its lanes by this.
enum class CpuMode : std::uint8_t { Idle, User, System, HardIrq, Softirq, Switch };
inline constexpr int kCpuModeCount = 6;
std::string_view cpu_mode_name(CpuMode m);

enum class TaskState : std::uint8_t { Running, Runnable, Sleeping, Dead };
std::string_view task_state_name(TaskState s);

// Ksoftirqd: the per-CPU kernel thread that takes over softirq work under load.
enum class TaskKind : std::uint8_t { ServerMain, ServerWorker, Background, Ksoftirqd };

// Real Linux syscall names the model's programs make.
enum class Sys : std::uint8_t {
  None, Accept4, Clone, Close, Recvfrom, Sendto, Select, Poll, EpollCreate1, EpollCtl, EpollWait,
  Count
};
std::string_view sys_name(Sys s);

// Whose wait queue, and what kind of entry waits on it.
enum class WaitKind : std::uint8_t {
  TaskWake,       // sk_wait_data / default_wake_function: wake this task
  PollWake,       // select/poll's __pollwait entry: pollwake wakes the polling task
  EpCallback,     // epoll's ep_ptable_queue_proc entry: ep_poll_callback
  EpWait,         // a task in ep_poll on ep->wq (exclusive)
};

// Who an event is about. Sockets are numbered by a socket id (sid): connection sockets
// first, sid = the connection's index (the order of [[clients]]), then the listening sockets
// (sid = connections + k). An fd is what a program holds: the fd table (FdInstall, FdClose)
// maps it to a socket or an epoll instance, as fs/file.c does, so the same connection may be
// fd 4 under one strategy and fd 5 under another. Epoll instances are numbered in creation
// order (eid). A wait queue is named by its owner: a sid, or kEpWq | eid for an ep->wq.
inline constexpr std::uint32_t kEpWq = 0x80000000u;

enum class FileKind : std::uint8_t { Socket, Epoll };

// How ContextSwitch's b says the previous task left the CPU, as /proc/PID/status counts it:
// asleep (a voluntary switch), preempted while runnable (involuntary), or neither (it exited,
// or the CPU was idle).
inline constexpr std::uint32_t kSwitchVoluntary = 0, kSwitchInvoluntary = 1, kSwitchUncounted = 2;

// How WaitAdd/WaitRemove/WaitWake encode an entry in field `a`: the WaitKind, and (WaitAdd)
// whether it is exclusive and whether it went to the tail of the queue (else the head).
inline constexpr std::uint32_t kWaitExclusive = 0x100, kWaitAtTail = 0x200;
inline WaitKind wait_kind_of(std::uint32_t a) { return WaitKind(a & 0xff); }

enum class Ev : std::uint8_t {
  // --- setup (the world's cast) ---
  TaskCreate,      // actor=task, a=TaskKind, b=name index in Trace::strings, obj=cpu hint
  SocketCreate,    // obj=sid, a=connection (kNone: a listening socket), b=the listener sid whose
                   // accept queue the connection waits in (kNone for a listener)
  EpollCreate,     // obj=eid (ep_alloc), actor=task
  FdClose,         // obj=fd, a=reason (0 closed, 1 refused: fd >= FD_SETSIZE), actor=task
  // --- CPUs and the scheduler ---
  CpuMode,         // cpu, a=CpuMode, actor=task running (or kNoTask)
  TaskState,       // actor=task, a=new TaskState, b=old TaskState, cpu=its cpu
  ContextSwitch,   // cpu, actor=next task (kNoTask = idle), a=prev task, b=how prev left (kSwitch*)
  TryToWakeUp,     // actor=woken task, cpu=target cpu, a=1 if it preempts the current task, flow
  // --- the task's program ---
  ProgramLine,     // actor=task, a=line of Trace::program (0-based)
  SyscallEnter,    // actor=task, a=Sys, obj=fd argument (or kNone), cpu
  SyscallExit,     // actor=task, a=Sys, b=result as int32 (-11 = -EAGAIN), obj=fd, cpu
  UserWork,        // actor=task, a=request's connection, b=work ns, flow: the server handles one request
  PollScan,        // actor=task, obj=Sys (select/poll/epoll_wait), a=fds or items examined, b=ready
  // --- the wire and the NIC ---
  ClientSend,      // obj=connection, a=request id (per connection), flow=packet id
  NicRx,           // obj=connection, a=ring occupancy after, b=request id (kNone: the handshake's
                   // ACK), flow=packet id  (DMA into ring)
  NicDrop,         // obj=connection, a=ring occupancy, flow=packet id
  HardIrq,         // cpu, a=1 entry / 0 exit
  NapiSchedule,    // cpu: napi_schedule put the NAPI instance on poll_list, raised NET_RX
  Softirq,         // cpu, a=1 entry / 0 exit, b=packets processed in this run (exit),
                   // actor=ksoftirqd when it runs net_rx_action as a task (else kNoTask)
  NapiRx,          // cpu, obj=connection, a=ring occupancy after, flow, actor as Softirq: the NAPI
                   // poll takes a packet (live, from perf's napi_poll: obj=kNone, a=work, b=budget)
  TimeSqueeze,     // cpu, actor as Softirq: net_rx_action ran out of budget
  // --- sockets and wait queues ---
  SkbQueue,        // obj=sid, a=sk_receive_queue length after, b=ring occupancy, flow=packet id
  SkbDequeue,      // obj=sid, a=queue length after, actor=task, flow=packet id (recvfrom)
  WaitAdd,         // obj=wait queue (sid or kEpWq|eid), a=WaitKind with flags, b=task, or the eid
                   // of an EpCallback entry (the epitem of this socket in that epoll instance),
                   // actor=the entry's task (kNoTask for EpCallback)
  WaitRemove,      // as WaitAdd
  WaitWake,        // as WaitAdd: the entry's wake function runs
  // --- epoll (obj=eid, a=fd: an epitem is keyed by (file, fd)) ---
  EpitemInsert,    // b=events mask (ep_insert); the tree insert follows
  EpitemRemove,    // (ep_remove)
  EpitemModify,    // b=new events mask (ep_modify, re-arms EPOLLONESHOT)
  RbRotate,        // b=0 left / 1 right: a rotation about the node of fd a
  RbRecolor,       // b=0 red / 1 black
  RdllistAdd,      // b=list length after (ep_poll_callback, LT re-queue in ep_send_events, ...)
  RdllistRemove,   // b=list length after (ep_send_events took it, or ep_remove)
  // --- the client side ---
  ReplySend,       // obj=connection, a=request id, actor=task, flow: the reply leaves on the wire (sendto)
  ReplyRecv,       // obj=connection, a=request id, flow=packet id, b=latency in us (capped)
  RequestFailed,   // obj=connection, a=request id, b=FailReason
  // --- added in trace format 2 ---
  FdInstall,       // obj=fd, a=FileKind, b=sid or eid: alloc_fd (lowest free) + fd_install
  ClientConnect,   // obj=connection, flow=packet id: the client's connect(); its handshake's
                   // last ACK crosses the wire like a request (NicRx with b = kNone)
  Count
};
std::string_view ev_name(Ev e);

enum class FailReason : std::uint8_t { NicDrop, Unanswered, Refused };
std::string_view fail_reason_name(FailReason r);

inline constexpr std::uint16_t kNoTask = 0xffff;
inline constexpr std::uint32_t kNone = 0xffffffffu;

struct TraceEvent {
  SimTime t = 0;           // ns
  std::uint32_t seq = 0;   // position in the trace (0, 1, 2, ...)
  Ev kind = Ev::Count;
  std::uint8_t cpu = 0;
  std::uint16_t actor = kNoTask;  // task id
  std::uint32_t obj = kNone;      // a socket (sid), fd, epoll instance (eid) or wait queue, as the kind says
  std::uint32_t a = 0, b = 0;
  std::uint32_t flow = kNone;     // packet id: ties packet -> IRQ -> softirq -> wake -> return
  bool operator==(const TraceEvent&) const = default;
};
static_assert(sizeof(TraceEvent) == 32, "trace events must stay compact");

// What a run recorded, plus what is needed to read it without the scenario file.
struct Trace {
  // "sim": the model's, every visible change. "live": a real server's syscalls as its seam saw
  // them (and, with --kernel-trace, perf's sched/softirq/napi tracepoints): the kernel's
  // queues, lists and tree are not in it.
  std::string source = "sim";
  std::string scenario_title;
  Strategy strategy = Strategy::Epoll;
  std::uint64_t seed = 1;
  int cpus = 1;
  int connections = 0;             // connection sockets: sids 0 .. connections - 1
  int listeners = 1;               // listening sockets: sids connections .. + listeners - 1
  std::int64_t end_ns = 0;         // when the run stopped
  std::vector<std::string> strings;  // task names etc.
  std::vector<std::string> program;  // the server program's listing (ProgramLine indexes it)
  std::vector<TraceEvent> events;
};

}  // namespace eps
