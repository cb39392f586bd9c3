// CPUs, tasks and the scheduler (kernel/sched/core.c and fair.c, in a deliberately simple
// form; see sched.cpp for the rules). A CPU's task context is one activity at a time (a task
// burning CPU, a context switch, leaving the idle state); interrupts run on top of it and push
// the rest of that activity later (irq_enter / irq_exit).
#pragma once

#include <coroutine>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/co.h"
#include "sim/core.h"

namespace eps {

inline constexpr int kMaxTasks = 60000;  // task ids are 16-bit in the trace

struct Skb {                 // one segment on its way to the server (a request, or a handshake)
  std::uint32_t conn = 0, req = 0, flow = 0, bytes = 0;
  bool syn = false;          // the handshake's last ACK (no data): it makes the connection
};

struct Task {                // struct task_struct (the part the model needs)
  std::uint16_t id = 0;
  TaskKind kind = TaskKind::ServerMain;
  std::string name;
  TaskState state = TaskState::Runnable;
  int cpu = 0;               // where it runs, or last ran
  Co<void> program;
  std::coroutine_handle<> resume;  // where its code goes on when it next runs
  SimTime seg_remaining = 0;       // CPU time left in the current burn (after a preemption)
  CpuMode seg_mode = CpuMode::User;
  SimTime vruntime = 0;
  Sys in_sys = Sys::None;
  bool pinned = false;       // per-CPU kernel threads never move
  bool server() const { return kind == TaskKind::ServerMain || kind == TaskKind::ServerWorker; }
};

struct Cpu {
  int id = 0;
  Task* curr = nullptr;             // nullptr = the idle task
  // Task context: what the CPU does between interrupts.
  enum class Act : std::uint8_t { None, Run, Switch, Wake } act = Act::None;
  SimTime act_end = 0;              // when act finishes (if not interrupted)
  SimTime act_left = 0;             // while interrupted: how much of act is left
  std::uint64_t act_gen = 0;        // invalidates a scheduled end after an interruption
  // Interrupt context (runs on top of the task context).
  enum class Irq : std::uint8_t { None, Hard, Soft } irq = Irq::None;
  std::uint64_t irq_gen = 0;
  bool need_resched = false;        // TIF_NEED_RESCHED: switch at the next chance
  // Runqueue: runnable tasks, picked by smallest vruntime, ties by id (CFS-like).
  std::vector<Task*> rq;
  SimTime min_vruntime = 0;
  SimTime slice_end = 0;            // when curr's slice ends (the scheduler tick)
  std::uint64_t slice_gen = 0;
  bool slice_armed = false;
  SimTime run_start = 0;            // when curr's current burn (re)started
  SimTime slice_start = 0;          // when curr was switched in
  CpuMode saved_mode = CpuMode::Idle;  // task context's mode while an interrupt runs
  Task* saved_owner = nullptr;
  CpuMode mode = CpuMode::Idle;     // what the CPU spends its time on now (traced by CpuMode)
  Task* mode_task = nullptr;
};

class Scheduler {
 public:
  explicit Scheduler(Core& k);

  // Awaitable: spend `ns` of CPU in `mode` (User, System or Softirq) as task `t`. If nothing
  // can happen before the burn ends, time just advances and the program goes on without a
  // trip through the event queue (await_suspend returns false: no suspension).
  struct Burn {
    Scheduler* s; Task* t; CpuMode mode; SimTime ns;
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
  // Awaitable: sleep (the caller already put itself on a wait queue).
  struct Block {
    Scheduler* s; Task* t;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) { t->resume = h; s->task_block(*t); }
    void await_resume() const noexcept {}
  };
  Block block(Task& t) { return Block{this, &t}; }

  // Syscall entry and exit (entry_SYSCALL_64 .. do_syscall_64): half the syscall cost on the
  // way in, half on the way out; plain awaitables, so a syscall costs no extra coroutine frame.
  Burn syscall_enter(Task& t, Sys s, std::uint32_t fd) {
    t.in_sys = s;
    k_.emit(Ev::SyscallEnter, t.cpu, t.id, fd, std::uint32_t(s));
    return burn(t, CpuMode::System, k_.sc.costs.syscall_ns / 2);
  }
  struct ExitBurn {  // the exit half of the cost, then the return (traced in await_resume)
    Burn cost; Sys sys; std::uint32_t fd; int result;
    bool await_ready() const noexcept { return cost.await_ready(); }
    bool await_suspend(std::coroutine_handle<> h) { return cost.await_suspend(h); }
    void await_resume() { cost.s->syscall_returned(*cost.t, sys, fd, result); }
  };
  ExitBurn syscall_exit(Task& t, Sys s, std::uint32_t fd, int result) {
    return ExitBurn{burn(t, CpuMode::System, k_.sc.costs.syscall_ns - k_.sc.costs.syscall_ns / 2), s, fd, result};
  }
  void syscall_returned(Task& t, Sys s, std::uint32_t fd, int result) {
    t.in_sys = Sys::None;
    k_.emit(Ev::SyscallExit, t.cpu, t.id, fd, std::uint32_t(s), std::uint32_t(result));
  }

  std::vector<Cpu> cpus;
  std::vector<std::unique_ptr<Task>> tasks;

  // A new runnable task on `cpu`; make() builds its program (not started until it runs).
  Task& new_task(TaskKind kind, std::string name, int cpu, SimTime vruntime,
                 const std::function<Co<void>(Task&)>& make);
  // try_to_wake_up (kernel/sched/core.c): a sleeping task becomes runnable; false if it was not asleep.
  bool try_to_wake_up(Task& t, std::uint32_t flow = kNone);
  void set_task_state(Task& t, TaskState s);
  // What CPU c spends its time on from now (traced when it changes; most calls change nothing,
  // so the test is inline).
  void set_mode(Cpu& c, CpuMode m, Task* owner) {
    if (c.mode != m || c.mode_task != owner) change_mode(c, m, owner);
  }
  // The kRun start: every CPU with work picks its first task.
  void start();
  // Queue events for the scheduler.
  void on_act_done(int cpu, std::uint64_t gen);
  void on_slice_end(int cpu, std::uint64_t gen);
  bool cpu_idle(const Cpu& c) const;

  // The task burns `ns` of CPU in `mode` (then its program goes on), or sleeps.
  void task_burn(Task& t, CpuMode mode, SimTime ns);
  bool fast_burn(Task& t, CpuMode mode, SimTime ns);
  void task_block(Task& t);

  // An interrupt arrives on / leaves CPU c: the task context's activity is suspended, then
  // resumed (or, if a wake-up asked for it, the CPU reschedules at irq exit).
  void irq_enter(Cpu& c);
  void irq_exit(Cpu& c);

 private:
  void start_act(Cpu& c, Cpu::Act act, SimTime ns);
  void schedule(Cpu& c, bool preempt);
  void finish_switch(Cpu& c);
  void continue_task(Cpu& c, Task& t);
  void enqueue(Cpu& c, Task& t);
  Task* pick_next(Cpu& c);
  void change_mode(Cpu& c, CpuMode m, Task* owner);
  Task* newidle_balance(Cpu& c);

 public:
  int fork_cpu(int parent_cpu) const;

 private:
  void arm_slice(Cpu& c);
  void update_min_vruntime(Cpu& c, SimTime candidate);
  void kick_cpu(Cpu& c);

  Core& k_;
};

}  // namespace eps
