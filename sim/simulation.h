// The simulated machine: CPUs, scheduler, NIC, NET_RX softirq, sockets, wait queues,
// select/poll, epoll, the server program of one strategy, and the clients across the wire.
//
// Rules of the model (what a student may rely on):
//  - Time is integer nanoseconds. Scheduled happenings run in (time, sequence) order, so two at
//    the same time run in the order they were scheduled. Time never runs backward (asserted).
//  - All randomness comes from the scenario's seed: same scenario + seed = same trace, byte for
//    byte.
//  - Code of a simulated thread runs only while that thread is current on a CPU in task
//    context. Anything that costs time is a co_await; the CPU may be interrupted during it (the
//    hard IRQ and the softirq run on top and push the rest of the work later).
//  - The NIC has one RX queue; its IRQ goes to CPU 0 (no RSS). There is no load balancing: a
//    task moves to another CPU only when woken while that CPU is idle.
//  - The epoll model follows Linux 6.1's fs/eventpoll.c (rdllist under ep->lock, with ovflist).
//    ep_send_events runs as one step in the model, so what 6.1 would park on ovflist during the
//    scan lands on rdllist right after it: the same result in the same order.
//  - Not modelled: TCP retransmission (a packet dropped at the NIC is a failed request),
//    ksoftirqd (softirq restarts run inline), the netdev_budget_usecs time limit, SMP locking.
#pragma once

#include <coroutine>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/co.h"
#include "sim/counters.h"
#include "sim/engine.h"
#include "sim/metrics.h"
#include "sim/rbtree.h"
#include "sim/scenario.h"
#include "sim/trace.h"

namespace eps {

// What the event queue holds for the simulation (QEvent::kind).
enum QKind : std::uint32_t {
  kActDone, kIrqDone, kSliceEnd, kClientSend, kPacketArrive, kReplyArrive, kStart, kSendEnd, kStop
};

inline constexpr int kEAGAIN = 11, kEEXIST = 17, kENOENT = 2, kEINVAL = 22;
inline constexpr std::uint32_t EPOLLIN = 0x001, EPOLLERR = 0x008, EPOLLHUP = 0x010,
                               EPOLLONESHOT = 1u << 30, EPOLLET = 1u << 31;
inline constexpr int EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;
inline constexpr int FD_SETSIZE_ = 1024;  // glibc's FD_SETSIZE
inline constexpr int kMaxTasks = 60000;   // task ids are 16-bit in the trace

struct Skb {                 // one request segment on its way to the server
  std::uint32_t conn = 0, req = 0, flow = 0, bytes = 0;
};

struct Task;
struct EpItem;
struct EventPoll;
struct PollTable;

// An entry on a wait queue (struct wait_queue_entry): who to call when the queue is woken.
struct WaitEntry {
  WaitKind kind;
  bool exclusive;            // WQ_FLAG_EXCLUSIVE: ep_poll's waiters; one is woken per event
  Task* task = nullptr;      // TaskWake, EpWait: the sleeper; PollWake: the polling task
  EpItem* epi = nullptr;     // EpCallback
  PollTable* pt = nullptr;   // PollWake: its poll_wqueues (for `triggered`)
};

struct WaitQueue {           // wait_queue_head_t
  std::uint32_t owner_fd = kNone;
  std::vector<WaitEntry> entries;
};

struct Socket {
  std::uint32_t fd = kNone;
  std::uint32_t conn = 0;
  bool open = false;         // accepted and not closed
  bool refused = false;      // closed by the program (select: fd >= FD_SETSIZE)
  std::deque<Skb> rxq;       // sk_receive_queue
  WaitQueue wq;              // sk->sk_wq: sk_wait_data, __pollwait, ep_ptable_queue_proc
};

struct EpItem {              // struct epitem
  EventPoll* ep = nullptr;
  std::uint32_t fd = 0;
  std::uint32_t events = 0;  // requested mask (EPOLLONESHOT disarms it to 0 after one event)
  bool on_rdllist = false;   // ep_is_linked(&epi->rdllink)
};

struct EventPoll {           // struct eventpoll
  std::uint32_t epfd = 0;
  RbTree rbr;                // every watched (file, fd): ep_find / ep_insert / ep_remove
  std::deque<EpItem*> rdllist;  // ready items, in ep_poll_callback order
  WaitQueue wq;              // ep->wq: tasks in epoll_wait (exclusive waiters)
  std::vector<std::unique_ptr<EpItem>> items;  // by fd (sparse)
  EpItem* item(std::uint32_t fd) const { return fd < items.size() ? items[fd].get() : nullptr; }
};

struct PollTable {           // struct poll_wqueues: one select/poll call's registrations
  Task* task = nullptr;
  bool triggered = false;    // pollwake ran: do not sleep, rescan (poll_schedule_timeout)
  std::vector<Socket*> registered;
};

struct Task {                // struct task_struct (the part the model needs)
  std::uint16_t id = 0;
  TaskKind kind = TaskKind::ServerMain;
  std::string name;
  TaskState state = TaskState::Runnable;
  int cpu = 0;               // where it runs, or last ran
  Co<void> program;
  std::coroutine_handle<> resume;  // where its code goes on when it next runs
  bool started = false;
  SimTime seg_remaining = 0;       // CPU time left in the current burn (after a preemption)
  CpuMode seg_mode = CpuMode::User;
  SimTime vruntime = 0;
  Sys in_sys = Sys::None;
  std::uint64_t nvcsw = 0, nivcsw = 0;  // voluntary / involuntary context switches
  SimTime utime = 0, stime = 0;
  bool server() const { return kind == TaskKind::ServerMain || kind == TaskKind::ServerWorker; }
  bool pinned = false;       // per-CPU kernel threads never move
};

struct Cpu {
  int id = 0;
  Task* curr = nullptr;             // nullptr = the idle task
  // Task context: what the CPU does between interrupts.
  enum class Act : std::uint8_t { None, Run, Switch, Wake } act = Act::None;
  SimTime act_end = 0;              // when act finishes (if not interrupted)
  SimTime act_left = 0;             // while interrupted: how much of act is left
  Task* switch_to = nullptr;        // Act::Switch/Wake: the task coming in (nullptr = idle)
  std::uint64_t act_gen = 0;        // invalidates a scheduled end after an interruption
  // Interrupt context (runs on top of the task context).
  enum class Irq : std::uint8_t { None, Hard, Soft } irq = Irq::None;
  std::uint64_t irq_gen = 0;
  int softirq_done_in_run = 0;      // packets this net_rx_action run
  int softirq_restarts = 0;
  bool need_resched = false;        // TIF_NEED_RESCHED: switch at the next chance
  // Runqueue: runnable tasks, picked by smallest vruntime, ties by id (CFS-like).
  std::vector<Task*> rq;
  SimTime min_vruntime = 0;
  SimTime slice_end = 0;            // when curr's slice ends (the scheduler tick)
  std::uint64_t slice_gen = 0;
  bool slice_armed = false;
  SimTime run_start = 0;            // when curr's current burn (re)started
  SimTime slice_start = 0;          // when curr was switched in
  SimTime softirq_since = 0;        // when this handle_softirqs invocation began
  CpuMode saved_mode = CpuMode::Idle;  // task context's mode while an interrupt runs
  Task* saved_owner = nullptr;
  Skb softirq_skb;                  // the packet net_rx_action is working on
  // Accounting.
  CpuMode mode = CpuMode::Idle;
  Task* mode_task = nullptr;
  SimTime mode_since = 0;
  SimTime busy_ns[kCpuModeCount] = {};
};

// A connection's client, across the wire.
struct Client {
  std::uint32_t conn = 0;
  const ClientGroup* group = nullptr;
  std::uint32_t sent = 0;          // requests sent so far (= next request id)
  std::vector<SimTime> send_t;     // per request id
  std::vector<std::uint8_t> state; // 0 outstanding, 1 done, 2 dropped at NIC
  bool finished_sending = false;
  std::unique_ptr<class ArrivalStream> arrivals;
};

class Simulation;
using ProgramFn = std::function<Co<void>(Simulation&, Task&)>;

struct RunOptions {
  bool record_trace = true;        // false: metrics only (fast, little memory)
  ProgramFn program_override;      // tests: run this instead of the strategy's program
};

class Simulation {
 public:
  explicit Simulation(Scenario sc, RunOptions opt = {});
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  // Runs to the end (all requests answered after duration, or duration + drain).
  void run();
  // Runs until simulated time `t` (or the end); returns false once the run has ended.
  bool run_until(SimTime t);

  const Scenario& scenario() const { return sc_; }
  const Trace& trace() const { return trace_; }
  Trace take_trace() {
    trace_.events.shrink_to_fit();  // growth by doubling leaves up to half unused
    return std::move(trace_);
  }
  Metrics metrics() const;
  SimTime now() const { return q_.now(); }
  bool finished() const { return finished_; }
  std::uint64_t engine_events() const { return q_.popped(); }

  // Read-only access for tests and for WorldState capture.
  const std::vector<std::unique_ptr<Task>>& tasks() const { return tasks_; }
  const std::vector<Cpu>& cpus() const { return cpus_; }
  const std::vector<std::unique_ptr<Socket>>& sockets() const { return socks_; }
  const Socket* socket_by_fd(std::uint32_t fd) const;
  const EventPoll* epoll() const { return ep_.get(); }
  const std::deque<Skb>& rx_ring() const { return ring_; }
  bool napi_scheduled() const { return napi_scheduled_; }
  const std::vector<Client>& clients() const { return clients_; }

  // ---- the system calls, as a program sees them (sim/syscalls.cpp) ----
  struct Recv { int result = 0; Skb skb; };
  Co<int> sys_accept4(Task& t, std::uint32_t conn, bool nonblock);
  Co<int> sys_clone(Task& t, std::string name, ProgramFn fn);
  Co<int> sys_close(Task& t, std::uint32_t fd);
  Co<Recv> sys_recvfrom(Task& t, std::uint32_t fd, bool nonblock);
  Co<int> sys_sendto(Task& t, std::uint32_t fd, const Skb& request);
  Co<int> sys_select(Task& t, const std::vector<std::uint32_t>& fds, std::vector<std::uint32_t>& ready);
  Co<int> sys_poll(Task& t, const std::vector<std::uint32_t>& fds, std::vector<std::uint32_t>& ready);
  Co<int> sys_epoll_create1(Task& t);
  Co<int> sys_epoll_ctl(Task& t, std::uint32_t epfd, int op, std::uint32_t fd, std::uint32_t events);
  Co<int> sys_epoll_wait(Task& t, std::uint32_t epfd, std::vector<std::uint32_t>& ready, int maxevents);
  // User-mode work of a request (the server's own code).
  Co<void> user_work(Task& t, const Skb& request);
  // The program reached this line of its listing (the GUI lights it).
  void line(Task& t, int n) { emit(Ev::ProgramLine, t.cpu, t.id, kNone, std::uint32_t(n)); }
  std::uint32_t conn_fd(std::uint32_t conn) const { return first_conn_fd_ + conn; }
  int connections() const { return int(clients_.size()); }

  // Awaitable: spend `ns` of CPU in `mode` (User or System) as task `t`.
  // If nothing can happen before the burn ends, time just advances and the program goes on
  // without a trip through the event queue (await_suspend returns false: no suspension).
  struct Burn {
    Simulation* s; Task* t; CpuMode mode; SimTime ns;
    bool await_ready() const noexcept { return ns <= 0; }
    bool await_suspend(std::coroutine_handle<> h) {
      if (s->fast_burn(*t, mode, ns)) return false;
      t->resume = h;
      s->task_burn(*t, mode, ns);
      return true;
    }
    void await_resume() const noexcept {}
  };
  Burn burn(Task& t, CpuMode m, SimTime ns) { return Burn{this, &t, m, ns}; }
  // Awaitable: sleep (the caller already put itself on a wait queue and set Sleeping).
  struct Block {
    Simulation* s; Task* t;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) { t->resume = h; s->task_block(*t); }
    void await_resume() const noexcept {}
  };
  Block block(Task& t) { return Block{this, &t}; }

 private:
  friend struct RbTraceObserver;
  // engine
  void dispatch(const QEvent& e);
  void emit(Ev kind, int cpu, std::uint16_t actor, std::uint32_t obj, std::uint32_t a = 0,
            std::uint32_t b = 0, std::uint32_t flow = kNone) {
    if (opt_.record_trace) record(kind, cpu, actor, obj, a, b, flow);
    trace_count_++;
  }
  [[gnu::noinline]] void record(Ev kind, int cpu, std::uint16_t actor, std::uint32_t obj, std::uint32_t a,
                                std::uint32_t b, std::uint32_t flow) {
    trace_.events.push_back(TraceEvent{now(), std::uint32_t(trace_count_), kind, std::uint8_t(cpu), actor,
                                       obj, a, b, flow});
  }
  std::uint32_t add_string(const std::string& s);
  void finish(SimTime at);
  void maybe_finish();

  // scheduler and CPUs (sim/sched.cpp)
  Task& new_task(TaskKind kind, std::string name, int cpu, ProgramFn fn, SimTime vruntime);
  void set_mode(Cpu& c, CpuMode m, Task* owner);
  void account(Cpu& c);
  void task_burn(Task& t, CpuMode mode, SimTime ns);
  bool fast_burn(Task& t, CpuMode mode, SimTime ns);
  void task_block(Task& t);
  void set_task_state(Task& t, TaskState s);
  void start_act(Cpu& c, Cpu::Act act, SimTime ns);
  void on_act_done(Cpu& c);
  void schedule(Cpu& c, bool preempt);
  void finish_switch(Cpu& c);
  void continue_task(Cpu& c, Task& t);
  void enqueue(Cpu& c, Task& t);
  Task* pick_next(Cpu& c);
  void arm_slice(Cpu& c);
  void update_min_vruntime(Cpu& c, SimTime candidate);
  void on_slice_end(Cpu& c);
  bool cpu_idle(const Cpu& c) const;
  void kick_cpu(Cpu& c);

 public:
  bool try_to_wake_up(Task& t, std::uint32_t flow = kNone);  // kernel/sched/core.c

 private:
  // interrupts and the network (sim/net.cpp)
  void interrupt_enter(Cpu& c);
  void interrupt_exit(Cpu& c);
  void on_irq_done(Cpu& c);
  void softirq_start(Cpu& c);
  void softirq_next_packet(Cpu& c);
  void net_rx_deliver(Cpu& c, const Skb& skb);     // ip_rcv .. tcp_rcv_established
  void sk_data_ready(Socket& s, std::uint32_t flow);  // sock_def_readable
  int wake_up(WaitQueue& wq, int nr_exclusive, std::uint32_t flow);  // __wake_up_common
  void ep_poll_callback(EpItem& epi, std::uint32_t flow);
  void nic_receive(const Skb& skb);
  void client_send(Client& cl);
  void client_reply(std::uint32_t conn, std::uint32_t req, std::uint32_t flow);
  Co<void> ksoftirqd_main(Task& t);

 public:
  // Helpers for syscalls (sim/syscalls.cpp).
  void wait_add(WaitQueue& wq, WaitEntry e);
  void wait_remove(WaitQueue& wq, WaitKind kind, const void* who);
  Socket* sock(std::uint32_t fd);
  // Entry and exit are plain awaitables, not coroutines: a syscall costs no extra frames.
  Burn syscall_enter(Task& t, Sys s, std::uint32_t fd);
  struct ExitBurn {  // the exit half of the cost, then the return (traced in await_resume)
    Burn cost; Sys sys; std::uint32_t fd; int result;
    bool await_ready() const noexcept { return cost.await_ready(); }
    bool await_suspend(std::coroutine_handle<> h) { return cost.await_suspend(h); }
    void await_resume() { cost.s->syscall_returned(*cost.t, sys, fd, result); }
  };
  ExitBurn syscall_exit(Task& t, Sys s, std::uint32_t fd, int result) {
    return ExitBurn{burn(t, CpuMode::System, sc_.costs.syscall_ns - sc_.costs.syscall_ns / 2), s, fd, result};
  }
  void syscall_returned(Task& t, Sys s, std::uint32_t fd, int result);
  SimTime copy_cost(std::uint64_t bytes) const { return SimTime(bytes * sc_.costs.copy_per_kib_ns / 1024); }
  int do_poll_pass(Task& t, const std::vector<std::uint32_t>& fds, std::vector<std::uint32_t>& ready,
                   PollTable* pt, bool register_entries);
  int ep_send_events(EventPoll& ep, std::vector<std::uint32_t>& ready, int maxevents, int& examined);
  void rdllist_add(EventPoll& ep, EpItem& epi, std::uint32_t flow);
  void trace_scan(Task& t, Sys s, std::uint32_t examined, std::uint32_t ready) {
    emit(Ev::PollScan, t.cpu, t.id, std::uint32_t(s), examined, ready);
  }

 private:
  Scenario sc_;
  RunOptions opt_;
  EventQueue q_;
  Trace trace_;
  bool finished_ = false;
  SimTime end_ = 0;
  SimTime horizon_ = INT64_MAX;      // run_until's bound: fast burns never jump past it

  std::vector<Cpu> cpus_;
  std::vector<std::unique_ptr<Task>> tasks_;
  std::vector<std::unique_ptr<Socket>> socks_;   // by connection index
  std::unique_ptr<Socket> listen_;
  std::unique_ptr<EventPoll> ep_;
  Task* ksoftirqd_ = nullptr;                    // ksoftirqd/0: NET_RX work under load
  std::uint32_t first_conn_fd_ = 4;
  std::uint32_t next_fd_ = 4;

  std::deque<Skb> ring_;                         // NIC RX ring
  bool napi_scheduled_ = false;                  // NAPI on poll_list; device IRQ masked
  std::uint32_t next_flow_ = 0;

  std::vector<Client> clients_;
  std::uint64_t outstanding_ = 0;
  int clients_sending_ = 0;
  SimTime min_end_ = 0;             // open-loop clients: the run lasts the whole sending window

  Counters st_;                     // what the metrics are made from
  std::uint64_t trace_count_ = 0;   // events emitted (also when not recorded)
  std::vector<WaitEntry> wake_scratch_[2];  // wake_up's copies of a queue (by nesting depth)
  int wake_depth_ = 0;
  std::deque<EpItem*> txlist_;      // ep_send_events' txlist (kept to reuse its storage)
};

// The listing of a strategy's server loop, one entry per line, as the GUI shows it.
const std::vector<std::string>& program_listing(Strategy s, bool et_read_once = false);
ProgramFn server_program(Strategy s, bool et_read_once = false);

}  // namespace eps
