// The event queue: min-heaps ordered by (time, sequence). Equal times pop in the order they
// were pushed (ns-3's (time, uid) rule), which keeps runs deterministic.
//
// Two lanes, one order: thousands of clients each keep one far-future send pending, while
// the CPUs, the NIC and the wire have a handful of near events. Keeping the far ones in a
// heap of their own keeps the hot heap small; pop() takes the smaller (time, seq) of the two
// tops, so the global order is exactly that of a single queue.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace eps {

using SimTime = std::int64_t;

struct QEvent {
  SimTime t;
  std::uint64_t seq;
  std::uint32_t kind;  // what to do (the owner's enum)
  std::uint32_t a;     // e.g. a CPU or a connection
  std::uint64_t b;     // e.g. a generation, or (request << 32 | flow)
};
static_assert(sizeof(QEvent) == 32);

class EventQueue {
 public:
  enum Lane { kNear = 0, kFar = 1 };
  void push(SimTime t, std::uint32_t kind, std::uint32_t a = 0, std::uint64_t b = 0, Lane lane = kNear) {
    // Scheduling into the past would make time run backward: a model bug, never input.
    if (t < now_) throw std::logic_error("event scheduled in the past");
    auto& h = heap_[lane];
    h.push_back(QEvent{t, seq_++, kind, a, b});
    std::push_heap(h.begin(), h.end(), Later{});
    ++pushed_;
  }
  bool empty() const { return heap_[0].empty() && heap_[1].empty(); }
  SimTime next_time() const { return heap_[next_lane()].front().t; }
  QEvent pop() {
    auto& h = heap_[next_lane()];
    std::pop_heap(h.begin(), h.end(), Later{});
    QEvent e = h.back();
    h.pop_back();
    assert(e.t >= now_);
    now_ = e.t;
    ++popped_;
    return e;
  }
  SimTime now() const { return now_; }
  void advance_to(SimTime t) { if (t > now_) now_ = t; }
  std::uint64_t pushed() const { return pushed_; }
  std::uint64_t popped() const { return popped_; }
  std::size_t pending() const { return heap_[0].size() + heap_[1].size(); }

 private:
  int next_lane() const {
    if (heap_[1].empty()) return 0;
    if (heap_[0].empty()) return 1;
    return Later{}(heap_[0].front(), heap_[1].front()) ? 1 : 0;
  }

 public:

 private:
  struct Later {
    bool operator()(const QEvent& x, const QEvent& y) const {
      return x.t != y.t ? x.t > y.t : x.seq > y.seq;
    }
  };
  std::vector<QEvent> heap_[2];
  std::uint64_t seq_ = 0, pushed_ = 0, popped_ = 0;
  SimTime now_ = 0;
};

}  // namespace eps
