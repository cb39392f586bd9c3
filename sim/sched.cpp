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
//    runnable is an involuntary one (as /proc/PID/status counts them).
// A CPU's task context is one activity at a time (Run: a task burns CPU; Switch: a context
// switch; Wake: leaving an idle state). Interrupts push the rest of that activity later.
#include <algorithm>
#include <cassert>

#include "sim/simulation.h"

namespace eps {

void Simulation::account(Cpu& c) {
  SimTime dt = now() - c.mode_since;
  if (dt <= 0) return;
  c.busy_ns[std::size_t(c.mode)] += dt;
  Task* t = c.mode_task;
  if (t) {
    if (c.mode == CpuMode::User) t->utime += dt;
    else if (c.mode == CpuMode::System || c.mode == CpuMode::Switch) t->stime += dt;
  }
  c.mode_since = now();
}

void Simulation::set_mode(Cpu& c, CpuMode m, Task* owner) {
  account(c);
  if (c.mode == m && c.mode_task == owner) return;
  c.mode = m;
  c.mode_task = owner;
  emit(Ev::CpuMode, c.id, owner ? owner->id : kNoTask, kNone, std::uint32_t(m));
}

void Simulation::set_task_state(Task& t, TaskState s) {
  if (t.state == s) return;
  TaskState old = t.state;
  t.state = s;
  emit(Ev::TaskState, t.cpu, t.id, kNone, std::uint32_t(s), std::uint32_t(old));
}

Task& Simulation::new_task(TaskKind kind, std::string name, int cpu, ProgramFn fn, SimTime vr) {
  if (tasks_.size() >= std::size_t(kMaxTasks))
    throw std::runtime_error("the model supports at most 60000 tasks");
  auto t = std::make_unique<Task>();
  t->id = std::uint16_t(tasks_.size());
  t->kind = kind;
  t->name = std::move(name);
  t->cpu = cpu;
  t->vruntime = vr;
  t->state = TaskState::Runnable;
  Task& ref = *t;
  tasks_.push_back(std::move(t));
  emit(Ev::TaskCreate, cpu, ref.id, std::uint32_t(cpu), std::uint32_t(kind), add_string(ref.name));
  ref.program = fn(*this, ref);
  ref.resume = ref.program.handle();
  enqueue(cpus_[std::size_t(cpu)], ref);
  return ref;
}

void Simulation::enqueue(Cpu& c, Task& t) {
  c.rq.push_back(&t);
  if (c.curr && !c.slice_armed) arm_slice(c);
}

Task* Simulation::pick_next(Cpu& c) {
  if (c.rq.empty()) return nullptr;
  auto it = std::min_element(c.rq.begin(), c.rq.end(), [](const Task* x, const Task* y) {
    return x->vruntime != y->vruntime ? x->vruntime < y->vruntime : x->id < y->id;
  });
  Task* t = *it;
  *it = c.rq.back();
  c.rq.pop_back();
  return t;
}

void Simulation::arm_slice(Cpu& c) {
  // scheduler_tick: the current task may keep the CPU for one slice while others wait.
  c.slice_armed = true;
  c.slice_end = std::max(now(), c.slice_start + sc_.effective_slice_ns());
  q_.push(c.slice_end, kSliceEnd, std::uint32_t(c.id), ++c.slice_gen);
}

void Simulation::start_act(Cpu& c, Cpu::Act act, SimTime ns) {
  c.act = act;
  c.act_end = now() + ns;
  q_.push(c.act_end, kActDone, std::uint32_t(c.id), ++c.act_gen);
}

bool Simulation::cpu_idle(const Cpu& c) const {
  return !c.curr && c.rq.empty() && (c.act == Cpu::Act::None || c.act == Cpu::Act::Wake);
}

// A CPU in its idle loop gets work: it leaves the idle state (wakeup_ns), then switches.
void Simulation::kick_cpu(Cpu& c) {
  if (c.irq != Cpu::Irq::None) { c.need_resched = true; return; }  // switch at irq exit
  if (c.act != Cpu::Act::None) return;  // already waking or switching: it will look at rq
  start_act(c, Cpu::Act::Wake, sc_.costs.wakeup_ns);
}

void Simulation::task_burn(Task& t, CpuMode mode, SimTime ns) {
  Cpu& c = cpus_[std::size_t(t.cpu)];
  assert(c.curr == &t && c.act == Cpu::Act::None && c.irq == Cpu::Irq::None);
  t.seg_mode = mode;
  t.seg_remaining = ns;
  set_mode(c, mode, &t);
  c.run_start = now();
  start_act(c, Cpu::Act::Run, ns);
}

// The burn ends strictly before anything else is due (an event at the same time would have
// been scheduled first and must run first): no interrupt, wake-up or tick can fall inside
// it, so it ends exactly as the slow path would, with the same trace.
bool Simulation::fast_burn(Task& t, CpuMode mode, SimTime ns) {
  Cpu& c = cpus_[std::size_t(t.cpu)];
  SimTime end = now() + ns;
  if (c.curr != &t || c.act != Cpu::Act::None || c.irq != Cpu::Irq::None || c.need_resched) return false;
  if (end > horizon_ || (!q_.empty() && q_.next_time() <= end)) return false;
  set_mode(c, mode, &t);
  t.vruntime += ns;
  q_.advance_to(end);
  return true;
}

void Simulation::task_block(Task& t) {
  Cpu& c = cpus_[std::size_t(t.cpu)];
  assert(c.curr == &t && c.act == Cpu::Act::None);
  set_task_state(t, TaskState::Sleeping);
  schedule(c, false);
}

// __schedule: take prev off the CPU (it sleeps, or is preempted back onto the runqueue),
// pick the next task, and start the context switch.
void Simulation::schedule(Cpu& c, bool preempt) {
  assert(c.act == Cpu::Act::None && c.irq == Cpu::Irq::None);
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
      c.slice_start = now();
      continue_task(c, *prev);
      return;
    }
    prev->nivcsw++;
    set_task_state(*prev, TaskState::Runnable);
    c.rq.push_back(prev);
  } else if (prev && prev->state == TaskState::Sleeping) {
    prev->nvcsw++;
  }
  Task* next = pick_next(c);
  if (!next && !prev) { set_mode(c, CpuMode::Idle, nullptr); return; }
  if (next) update_min_vruntime(c, next->vruntime);
  c.slice_armed = false;
  c.slice_gen++;
  if (next) {
    next->cpu = c.id;
    set_task_state(*next, TaskState::Running);
  }
  emit(Ev::ContextSwitch, c.id, next ? next->id : kNoTask, kNone, prev ? prev->id : kNoTask,
       prev_runnable ? 1u : 0u);
  c.curr = next;
  set_mode(c, CpuMode::Switch, next ? next : prev);
  start_act(c, Cpu::Act::Switch, sc_.costs.context_switch_ns);
}

void Simulation::finish_switch(Cpu& c) {
  c.act = Cpu::Act::None;
  if (!c.curr) {
    set_mode(c, CpuMode::Idle, nullptr);
    if (!c.rq.empty()) schedule(c, false);  // woken while we were switching to idle
    return;
  }
  c.slice_start = now();
  if (c.need_resched) { schedule(c, true); return; }
  continue_task(c, *c.curr);
}

// The task is on the CPU in task context: finish its interrupted burn, or run its code.
void Simulation::continue_task(Cpu& c, Task& t) {
  if (!c.rq.empty() && !c.slice_armed) arm_slice(c);
  if (t.seg_remaining > 0) {
    set_mode(c, t.seg_mode, &t);
    c.run_start = now();
    start_act(c, Cpu::Act::Run, t.seg_remaining);
    return;
  }
  std::coroutine_handle<> h = std::exchange(t.resume, {});
  assert(h);
  t.started = true;
  drive(h);  // runs the program until it next burns CPU or sleeps
  if (t.program.done() && c.curr == &t && c.act == Cpu::Act::None) {
    set_task_state(t, TaskState::Dead);
    schedule(c, false);
  }
}

void Simulation::on_act_done(Cpu& c) {
  switch (c.act) {
    case Cpu::Act::Run: {
      Task& t = *c.curr;
      t.vruntime += now() - c.run_start;
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

void Simulation::on_slice_end(Cpu& c) {
  c.slice_armed = false;
  if (!c.curr || c.rq.empty()) return;
  if (c.irq != Cpu::Irq::None || c.act != Cpu::Act::Run) { c.need_resched = true; return; }
  // Preempt the burn in the middle: the rest of it waits on the runqueue.
  Task& t = *c.curr;
  t.seg_remaining = c.act_end - now();
  t.vruntime += now() - c.run_start;
  c.act = Cpu::Act::None;
  c.act_gen++;
  schedule(c, true);
}

// try_to_wake_up: a sleeping task becomes runnable on a CPU, which may preempt or wake up.
bool Simulation::try_to_wake_up(Task& t, std::uint32_t flow) {
  if (t.state != TaskState::Sleeping) return false;
  // select_task_rq: stay where it ran if that CPU is idle, else any idle CPU, else stay.
  Cpu* target = &cpus_[std::size_t(t.cpu)];
  if (!cpu_idle(*target) && !t.pinned) {
    for (Cpu& c : cpus_) if (cpu_idle(c)) { target = &c; break; }
  }
  Cpu& c = *target;
  SimTime credit = 3 * sc_.effective_wakeup_granularity_ns();
  t.vruntime = std::max(t.vruntime, c.min_vruntime - credit);
  t.cpu = c.id;
  if (t.server()) st_.wakeups++;
  bool preempt = false;
  if (c.curr) {
    SimTime curr_vr = c.curr->vruntime + (c.act == Cpu::Act::Run ? now() - c.run_start : 0);
    preempt = curr_vr - t.vruntime > sc_.effective_wakeup_granularity_ns();
  }
  emit(Ev::TryToWakeUp, c.id, t.id, kNone, preempt ? 1u : 0u, 0, flow);
  set_task_state(t, TaskState::Runnable);
  c.rq.push_back(&t);
  if (!c.curr) {
    kick_cpu(c);
  } else if (preempt) {
    if (c.irq != Cpu::Irq::None || c.act != Cpu::Act::Run) {
      c.need_resched = true;  // at irq exit, or when the switch in progress ends
    } else {
      Task& cur = *c.curr;  // resched_curr on another CPU: the IPI lands at once
      cur.seg_remaining = c.act_end - now();
      cur.vruntime += now() - c.run_start;
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

// update_min_vruntime: the smallest vruntime on the CPU, and it only moves forward.
void Simulation::update_min_vruntime(Cpu& c, SimTime candidate) {
  SimTime m = candidate;
  for (Task* r : c.rq) m = std::min(m, r->vruntime);
  c.min_vruntime = std::max(c.min_vruntime, m);
}

}  // namespace eps
