// Wait queues (kernel/sched/wait.c): who to call when something a task waits for happens.
// A socket's queue holds sk_wait_data's sleepers, select/poll's __pollwait entries and
// epoll's ep_poll_callback hooks; an epoll instance's ep->wq holds the tasks in epoll_wait.
//
// Order follows the kernel: add_wait_queue puts a non-exclusive entry at the head,
// add_wait_queue_exclusive / prepare_to_wait_exclusive put an exclusive one at the tail, and
// ep_poll's __add_wait_queue_exclusive puts its exclusive waiter at the head (so the thread
// that went to sleep last is woken first). __wake_up_common calls every entry in order and
// stops after nr_exclusive exclusive entries have really woken someone.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/core.h"

namespace eps {

struct Task;
struct EpItem;
class Scheduler;
class Epoll;

struct PollTable {           // struct poll_wqueues: one select/poll call's registrations
  Task* task = nullptr;
  bool triggered = false;    // pollwake ran: do not sleep, rescan (poll_schedule_timeout)
  std::vector<struct WaitQueue*> registered;
};

// An entry on a wait queue (struct wait_queue_entry): who to call when the queue is woken.
struct WaitEntry {
  WaitKind kind;
  bool exclusive = false;    // WQ_FLAG_EXCLUSIVE: counts against nr_exclusive when it wakes someone
  Task* task = nullptr;      // TaskWake, EpWait: the sleeper; PollWake: the polling task
  EpItem* epi = nullptr;     // EpCallback
  PollTable* pt = nullptr;   // PollWake: its poll_wqueues (for `triggered`)
};

struct WaitQueue {           // wait_queue_head_t
  std::uint32_t id = kNone;  // how the trace names it: the owner's sid, or kEpWq | eid
  std::vector<WaitEntry> entries;
};

// Where an entry goes (the kernel function that adds it).
enum class WaitAt : std::uint8_t { Head, Tail };

class WaitQueues {
 public:
  WaitQueues(Core& k, Scheduler& sched) : k_(k), sched_(sched) {}
  void set_epoll(Epoll* ep) { ep_ = ep; }

  void add(WaitQueue& wq, WaitEntry e, WaitAt at, int cpu);
  void remove(WaitQueue& wq, WaitKind kind, const void* who);
  // __wake_up_common. Returns how many tasks were woken.
  int wake_up(WaitQueue& wq, int nr_exclusive, std::uint32_t flow, int cpu);

 private:
  Core& k_;
  Scheduler& sched_;
  Epoll* ep_ = nullptr;
  std::vector<WaitEntry> scratch_[3];  // wake_up's copies of a queue, by nesting depth
  int depth_ = 0;
};

}  // namespace eps
