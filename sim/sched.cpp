// CPUs and the scheduler: what runs where, and what it costs to change it.
// Mirrors kernel/sched/core.c (try_to_wake_up, __schedule, context_switch, scheduler_tick)
// and kernel/softirq.c's irq_exit, in a deliberately simple, CFS-like form:
//  - each CPU has a runqueue; the task with the smallest vruntime runs next (ties: lower id);
//  - vruntime grows by the CPU time a task uses; a woken sleeper is placed no lower than
//    min_vruntime - 3 * wakeup_granularity (CFS's sleeper credit of half a latency period);
//  - a wake-up preempts the current task when the current task's vruntime is ahead of the
//    wakee's by more than the wakeup granularity; otherwise the wakee waits for the tick that
//    ends the current slice;
//  - leaving a CPU because you sleep is a voluntary context switch, being preempted while
//    runnable is an involuntary one (as /proc/PID/status counts them);
//  - tasks spread over CPUs three ways, each the kernel's: a new thread starts on the idlest
//    CPU (wake_up_new_task -> select_task_rq, SD_BALANCE_FORK), a woken task goes to an idle
//    CPU (select_idle_sibling), and a CPU about to go idle pulls a waiting task from the
//    busiest runqueue (newidle_balance). There is no periodic load balancing beyond that.
// A CPU's task context is one activity at a time (Run: a task burns CPU; Switch: a context
// switch; Wake: leaving an idle state). Interrupts push the rest of that activity later.
#include "sim/sched.h"

#include <algorithm>
#include <cassert>
#include <stdexcept>

namespace eps {

Scheduler::Scheduler(Core& k) : k_(k) {
  cpus.resize(std::size_t(k.sc.cpus));
  for (int i = 0; i < k.sc.cpus; i++) cpus[std::size_t(i)].id = i;
}

void Scheduler::change_mode(Cpu& c, CpuMode m, Task* owner) {
  c.mode = m;
  c.mode_task = owner;
  k_.emit(Ev::CpuMode, c.id, owner ? owner->id : kNoTask, kNone, std::uint32_t(m));
}

void Scheduler::set_task_state(Task& t, TaskState s) {
  if (t.state == s) return;
  TaskState old = t.state;
  t.state = s;
  k_.emit(Ev::TaskState, t.cpu, t.id, kNone, std::uint32_t(s), std::uint32_t(old));
}

Task& Scheduler::new_task(TaskKind kind, std::string name, int cpu, SimTime vr,
                          const std::function<Co<void>(Task&)>& make) {
  if (tasks.size() >= std::size_t(kMaxTasks))
    throw std::runtime_error("the model supports at most " + std::to_string(kMaxTasks) + " tasks");
  auto t = std::make_unique<Task>();
  t->id = std::uint16_t(tasks.size());
  t->kind = kind;
  t->name = std::move(name);
  t->cpu = cpu;
  t->vruntime = vr;
  t->state = TaskState::Runnable;
  Task& ref = *t;
  tasks.push_back(std::move(t));
  k_.emit(Ev::TaskCreate, cpu, ref.id, std::uint32_t(cpu), std::uint32_t(kind), k_.add_string(ref.name));
  ref.program = make(ref);
  ref.resume = ref.program.handle();
  Cpu& c = cpus[std::size_t(cpu)];
  enqueue(c, ref);
  if (k_.now() > 0 && !c.curr) kick_cpu(c);  // a thread made during the run, on an idle CPU
  return ref;
}

void Scheduler::start() {
  for (Cpu& c : cpus)
    if (!c.rq.empty() && !c.curr && c.act == Cpu::Act::None) schedule(c, false);
}

void Scheduler::enqueue(Cpu& c, Task& t) {
  c.rq.push_back(&t);
  if (c.curr && !c.slice_armed) arm_slice(c);
}

Task* Scheduler::pick_next(Cpu& c) {
  if (c.rq.empty()) return nullptr;
  auto it = std::min_element(c.rq.begin(), c.rq.end(), [](const Task* x, const Task* y) {
    return x->vruntime != y->vruntime ? x->vruntime < y->vruntime : x->id < y->id;
  });
  Task* t = *it;
  *it = c.rq.back();
  c.rq.pop_back();
  return t;
}

void Scheduler::arm_slice(Cpu& c) {
  // scheduler_tick: the current task may keep the CPU for one slice while others wait.
  c.slice_armed = true;
  c.slice_end = std::max(k_.now(), c.slice_start + k_.sc.effective_slice_ns());
  k_.q.push(c.slice_end, kSliceEnd, std::uint32_t(c.id), ++c.slice_gen);
}

void Scheduler::start_act(Cpu& c, Cpu::Act act, SimTime ns) {
  c.act = act;
  c.act_end = k_.now() + ns;
  k_.q.push(c.act_end, kActDone, std::uint32_t(c.id), ++c.act_gen);
}

bool Scheduler::cpu_idle(const Cpu& c) const {
  return !c.curr && c.rq.empty() && (c.act == Cpu::Act::None || c.act == Cpu::Act::Wake);
}

// A CPU in its idle loop gets work: it leaves the idle state (wakeup_ns), then switches.
void Scheduler::kick_cpu(Cpu& c) {
  if (c.irq != Cpu::Irq::None) { c.need_resched = true; return; }  // switch at irq exit
  if (c.act != Cpu::Act::None) return;  // already waking or switching: it will look at rq
  start_act(c, Cpu::Act::Wake, k_.sc.costs.wakeup_ns);
}

void Scheduler::task_burn(Task& t, CpuMode mode, SimTime ns) {
  Cpu& c = cpus[std::size_t(t.cpu)];
  assert(c.curr == &t && c.act == Cpu::Act::None && c.irq == Cpu::Irq::None);
  t.seg_mode = mode;
  t.seg_remaining = ns;
  set_mode(c, mode, &t);
  c.run_start = k_.now();
  start_act(c, Cpu::Act::Run, ns);
}

// The burn ends strictly before anything else is due (an event at the same time would have
// been scheduled first and must run first): no interrupt, wake-up or tick can fall inside
// it, so it ends exactly as the slow path would, with the same trace.
bool Scheduler::fast_burn(Task& t, CpuMode mode, SimTime ns) {
  Cpu& c = cpus[std::size_t(t.cpu)];
  SimTime end = k_.now() + ns;
  if (c.curr != &t || c.act != Cpu::Act::None || c.irq != Cpu::Irq::None || c.need_resched) return false;
  if (end > k_.horizon || (!k_.q.empty() && k_.q.next_time() <= end)) return false;
  set_mode(c, mode, &t);
  t.vruntime += ns;
  k_.q.advance_to(end);
  return true;
}

void Scheduler::task_block(Task& t) {
  Cpu& c = cpus[std::size_t(t.cpu)];
  assert(c.curr == &t && c.act == Cpu::Act::None);
  set_task_state(t, TaskState::Sleeping);
  schedule(c, false);
}

// __schedule: take prev off the CPU (it sleeps, or is preempted back onto the runqueue),
// pick the next task, and start the context switch. The accounting counts the switch from
// the ContextSwitch event: voluntary if prev left asleep, involuntary if preempted.
void Scheduler::schedule(Cpu& c, bool preempt) {
  assert(c.act == Cpu::Act::None && c.irq == Cpu::Irq::None);
  (void)preempt;
  c.need_resched = false;
  Task* prev = c.curr;
  bool prev_runnable = prev && (prev->state == TaskState::Running);
  if (prev_runnable) {
    // Preempted (or yielding a finished slice): compete with the others on the runqueue.
    if (c.rq.empty()) { continue_task(c, *prev); return; }
    Task* best = *std::min_element(c.rq.begin(), c.rq.end(), [](const Task* x, const Task* y) {
      return x->vruntime != y->vruntime ? x->vruntime < y->vruntime : x->id < y->id;
    });
    bool prev_wins = prev->vruntime < best->vruntime ||
                     (prev->vruntime == best->vruntime && prev->id < best->id);
    if (prev_wins) {  // no switch, nothing counted; a fresh slice starts
      c.slice_start = k_.now();
      continue_task(c, *prev);
      return;
    }
    set_task_state(*prev, TaskState::Runnable);
    c.rq.push_back(prev);
  }
  Task* next = pick_next(c);
  if (!next && cpus.size() > 1) next = newidle_balance(c);
  if (!next && !prev) { set_mode(c, CpuMode::Idle, nullptr); return; }
  if (next) update_min_vruntime(c, next->vruntime);
  c.slice_armed = false;
  c.slice_gen++;
  if (next) {
    next->cpu = c.id;
    set_task_state(*next, TaskState::Running);
  }
  const std::uint32_t how = prev_runnable                                  ? kSwitchInvoluntary
                           : prev && prev->state == TaskState::Sleeping ? kSwitchVoluntary
                                                                        : kSwitchUncounted;
  k_.emit(Ev::ContextSwitch, c.id, next ? next->id : kNoTask, kNone, prev ? prev->id : kNoTask, how);
  c.curr = next;
  set_mode(c, CpuMode::Switch, next ? next : prev);
  start_act(c, Cpu::Act::Switch, k_.sc.costs.context_switch_ns);
}

void Scheduler::finish_switch(Cpu& c) {
  c.act = Cpu::Act::None;
  if (!c.curr) {
    set_mode(c, CpuMode::Idle, nullptr);
    if (!c.rq.empty()) schedule(c, false);  // woken while we were switching to idle
    return;
  }
  c.slice_start = k_.now();
  if (c.need_resched) { schedule(c, true); return; }
  continue_task(c, *c.curr);
}

// The task is on the CPU in task context: finish its interrupted burn, or run its code.
void Scheduler::continue_task(Cpu& c, Task& t) {
  if (!c.rq.empty() && !c.slice_armed) arm_slice(c);
  if (t.seg_remaining > 0) {
    set_mode(c, t.seg_mode, &t);
    c.run_start = k_.now();
    start_act(c, Cpu::Act::Run, t.seg_remaining);
    return;
  }
  std::coroutine_handle<> h = std::exchange(t.resume, {});
  assert(h);
  drive(h);  // runs the program until it next burns CPU or sleeps
  if (t.program.done() && c.curr == &t && c.act == Cpu::Act::None) {
    set_task_state(t, TaskState::Dead);
    schedule(c, false);
  }
}

void Scheduler::on_act_done(int cpu, std::uint64_t gen) {
  Cpu& c = cpus[std::size_t(cpu)];
  if (gen != c.act_gen || c.irq != Cpu::Irq::None) return;  // interrupted: rescheduled later
  switch (c.act) {
    case Cpu::Act::Run: {
      Task& t = *c.curr;
      t.vruntime += k_.now() - c.run_start;
      t.seg_remaining = 0;
      c.act = Cpu::Act::None;
      if (c.need_resched) schedule(c, true);
      else continue_task(c, t);
      break;
    }
    case Cpu::Act::Switch:
      finish_switch(c);
      break;
    case Cpu::Act::Wake:
      c.act = Cpu::Act::None;
      schedule(c, false);
      break;
    case Cpu::Act::None:
      assert(false && "activity done on a CPU doing nothing");
      break;
  }
}

void Scheduler::on_slice_end(int cpu, std::uint64_t gen) {
  Cpu& c = cpus[std::size_t(cpu)];
  if (gen != c.slice_gen) return;
  c.slice_armed = false;
  if (!c.curr || c.rq.empty()) return;
  if (c.irq != Cpu::Irq::None || c.act != Cpu::Act::Run) { c.need_resched = true; return; }
  // Preempt the burn in the middle: the rest of it waits on the runqueue.
  Task& t = *c.curr;
  t.seg_remaining = c.act_end - k_.now();
  t.vruntime += k_.now() - c.run_start;
  c.act = Cpu::Act::None;
  c.act_gen++;
  schedule(c, true);
}

// try_to_wake_up: a sleeping task becomes runnable on a CPU, which may preempt or wake up.
bool Scheduler::try_to_wake_up(Task& t, std::uint32_t flow) {
  if (t.state != TaskState::Sleeping) return false;
  // select_task_rq: stay where it ran if that CPU is idle, else any idle CPU, else stay.
  Cpu* target = &cpus[std::size_t(t.cpu)];
  if (!cpu_idle(*target) && !t.pinned) {
    for (Cpu& c : cpus) if (cpu_idle(c)) { target = &c; break; }
  }
  Cpu& c = *target;
  SimTime credit = 3 * k_.sc.effective_wakeup_granularity_ns();
  t.vruntime = std::max(t.vruntime, c.min_vruntime - credit);
  t.cpu = c.id;
  bool preempt = false;
  if (c.curr) {
    SimTime curr_vr = c.curr->vruntime + (c.act == Cpu::Act::Run ? k_.now() - c.run_start : 0);
    preempt = curr_vr - t.vruntime > k_.sc.effective_wakeup_granularity_ns();
  }
  // ttwu_do_activate: activate_task (onto the runqueue), then ttwu_do_wakeup sets
  // TASK_RUNNING and fires the sched_wakeup tracepoint: the state changes before the event
  // that reports it, so the picture and the narration agree at that event.
  set_task_state(t, TaskState::Runnable);
  c.rq.push_back(&t);
  k_.emit(Ev::TryToWakeUp, c.id, t.id, kNone, preempt ? 1u : 0u, 0, flow);
  if (!c.curr) {
    kick_cpu(c);
  } else if (preempt) {
    if (c.irq != Cpu::Irq::None || c.act != Cpu::Act::Run) {
      c.need_resched = true;  // at irq exit, or when the switch in progress ends
    } else {
      Task& cur = *c.curr;  // resched_curr on another CPU: the IPI lands at once
      cur.seg_remaining = c.act_end - k_.now();
      cur.vruntime += k_.now() - c.run_start;
      c.act = Cpu::Act::None;
      c.act_gen++;
      schedule(c, true);
    }
  } else if (!c.slice_armed) {
    arm_slice(c);
  }
  update_min_vruntime(c, c.curr ? c.curr->vruntime : t.vruntime);
  return true;
}

// newidle_balance (kernel/sched/fair.c): CPU c has nothing to run; take a task that waits on
// the busiest other runqueue (one with a running task and others queued behind it). Its
// vruntime is carried over relative to the two CPUs' min_vruntime, as 6.1 does for a queued
// task that load balancing moves (dequeue_entity subtracts the old min_vruntime,
// enqueue_entity adds the new; migrate_task_rq_fair does it only for a waking task). Per-CPU
// kernel threads stay where they are.
Task* Scheduler::newidle_balance(Cpu& c) {
  Cpu* busiest = nullptr;
  for (Cpu& o : cpus) {
    if (&o == &c || !o.curr || o.rq.empty()) continue;
    if (!busiest || o.rq.size() > busiest->rq.size()) busiest = &o;
  }
  if (!busiest) return nullptr;
  Task* best = nullptr;
  for (Task* t : busiest->rq)
    if (!t->pinned && (!best || t->vruntime < best->vruntime || (t->vruntime == best->vruntime && t->id < best->id)))
      best = t;
  if (!best) return nullptr;
  busiest->rq.erase(std::find(busiest->rq.begin(), busiest->rq.end(), best));
  best->vruntime = best->vruntime - busiest->min_vruntime + c.min_vruntime;
  return best;
}

// wake_up_new_task's select_task_rq (SD_BALANCE_FORK): the idlest CPU, the parent's on a tie.
int Scheduler::fork_cpu(int parent_cpu) const {
  int best = parent_cpu;
  auto load = [&](const Cpu& o) { return o.rq.size() + (o.curr ? 1u : 0u) + (o.act == Cpu::Act::Switch ? 1u : 0u); };
  for (const Cpu& o : cpus)
    if (load(o) < load(cpus[std::size_t(best)])) best = o.id;
  return best;
}

// update_min_vruntime: the smallest vruntime on the CPU, and it only moves forward.
void Scheduler::update_min_vruntime(Cpu& c, SimTime candidate) {
  SimTime m = candidate;
  for (Task* r : c.rq) m = std::min(m, r->vruntime);
  c.min_vruntime = std::max(c.min_vruntime, m);
}

// An interrupt arrives: whatever runs in task context stops for now (irq_enter).
void Scheduler::irq_enter(Cpu& c) {
  assert(c.irq == Cpu::Irq::None);
  if (c.act != Cpu::Act::None) {
    c.act_left = c.act_end - k_.now();
    c.act_gen++;  // its scheduled end is void; it is rescheduled at irq exit
    if (c.act == Cpu::Act::Run) c.curr->vruntime += k_.now() - c.run_start;
  }
  c.saved_mode = c.mode;
  c.saved_owner = c.mode_task;
}

// irq_exit, after the softirq: back to task context, switching first if a wake-up asked to.
void Scheduler::irq_exit(Cpu& c) {
  c.irq = Cpu::Irq::None;
  if (c.act == Cpu::Act::None) {
    // The idle task was interrupted (task context is never "between" activities otherwise).
    set_mode(c, CpuMode::Idle, nullptr);
    if (c.need_resched || !c.rq.empty()) schedule(c, false);
    return;
  }
  if (c.act == Cpu::Act::Run && c.need_resched) {
    c.curr->seg_remaining = c.act_left;
    c.act = Cpu::Act::None;
    schedule(c, true);
    return;
  }
  set_mode(c, c.saved_mode, c.saved_owner);
  if (c.act == Cpu::Act::Run) c.run_start = k_.now();
  c.act_end = k_.now() + c.act_left;
  k_.q.push(c.act_end, kActDone, std::uint32_t(c.id), ++c.act_gen);
}

}  // namespace eps
