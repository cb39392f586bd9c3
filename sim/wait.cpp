#include "sim/wait.h"

#include <cassert>

#include "sim/eventpoll.h"
#include "sim/sched.h"

namespace eps {

namespace {
// Who an entry stands for, in the trace: the task, or for an epoll hook its instance (eid).
std::uint32_t who_of(const WaitEntry& e) {
  return e.kind == WaitKind::EpCallback ? e.epi->ep->eid : e.task->id;
}
}  // namespace

void WaitQueues::add(WaitQueue& wq, WaitEntry e, WaitAt at, int cpu) {
  if (at == WaitAt::Head) wq.entries.insert(wq.entries.begin(), e);
  else wq.entries.push_back(e);
  const std::uint32_t a = std::uint32_t(e.kind) | (e.exclusive ? kWaitExclusive : 0) |
                          (at == WaitAt::Tail ? kWaitAtTail : 0);
  k_.emit(Ev::WaitAdd, cpu, e.task ? e.task->id : kNoTask, wq.id, a, who_of(e));
}

void WaitQueues::remove(WaitQueue& wq, WaitKind kind, const void* who) {
  for (auto it = wq.entries.begin(); it != wq.entries.end(); ++it) {
    const void* w = kind == WaitKind::EpCallback ? static_cast<const void*>(it->epi)
                                                 : static_cast<const void*>(it->task);
    if (it->kind != kind || w != who) continue;
    k_.emit(Ev::WaitRemove, 0, it->task ? it->task->id : kNoTask, wq.id, std::uint32_t(kind), who_of(*it));
    wq.entries.erase(it);
    return;
  }
}

int WaitQueues::wake_up(WaitQueue& wq, int nr_exclusive, std::uint32_t flow, int cpu) {
  int woken = 0;
  // Entries remove themselves as we go: walk a copy. ep_poll_callback wakes ep->wq from
  // inside a socket's walk, so walks nest; each depth reuses its own buffer.
  assert(depth_ < 3);
  std::vector<WaitEntry>& entries = scratch_[depth_++];
  entries.assign(wq.entries.begin(), wq.entries.end());
  struct Leave { int& d; ~Leave() { d--; } } leave{depth_};
  for (const WaitEntry& e : entries) {
    k_.emit(Ev::WaitWake, cpu, e.task ? e.task->id : kNoTask, wq.id, std::uint32_t(e.kind), who_of(e), flow);
    bool ret = false;
    switch (e.kind) {
      case WaitKind::TaskWake:  // autoremove_wake_function: off the queue if it woke
        ret = sched_.try_to_wake_up(*e.task, flow);
        if (ret) remove(wq, e.kind, e.task);
        break;
      case WaitKind::PollWake:  // pollwake (fs/select.c): mark triggered so the poller rescans
        e.pt->triggered = true;
        ret = sched_.try_to_wake_up(*e.task, flow);
        break;
      case WaitKind::EpCallback:
        ret = ep_->ep_poll_callback(*e.epi, flow, cpu);
        break;
      case WaitKind::EpWait:    // ep_poll's init_wait: autoremove_wake_function
        ret = sched_.try_to_wake_up(*e.task, flow);
        remove(wq, e.kind, e.task);
        break;
    }
    if (ret) woken++;
    if (ret && e.exclusive && --nr_exclusive == 0) break;
  }
  return woken;
}

}  // namespace eps
