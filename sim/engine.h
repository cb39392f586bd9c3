// The event queue: a binary min-heap ordered by (time, sequence). Equal times pop in the
// order they were pushed (ns-3's (time, uid) rule), which keeps runs deterministic.
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
  void push(SimTime t, std::uint32_t kind, std::uint32_t a = 0, std::uint64_t b = 0) {
    // Scheduling into the past would make time run backward: a model bug, never input.
    if (t < now_) throw std::logic_error("event scheduled in the past");
    heap_.push_back(QEvent{t, seq_++, kind, a, b});
    std::push_heap(heap_.begin(), heap_.end(), Later{});
    ++pushed_;
  }
  bool empty() const { return heap_.empty(); }
  SimTime next_time() const { return heap_.front().t; }
  QEvent pop() {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    QEvent e = heap_.back();
    heap_.pop_back();
    assert(e.t >= now_);
    now_ = e.t;
    ++popped_;
    return e;
  }
  SimTime now() const { return now_; }
  void advance_to(SimTime t) { if (t > now_) now_ = t; }
  std::uint64_t pushed() const { return pushed_; }
  std::uint64_t popped() const { return popped_; }
  std::size_t pending() const { return heap_.size(); }
  void reserve(std::size_t n) { heap_.reserve(n); }

 private:
  struct Later {
    bool operator()(const QEvent& x, const QEvent& y) const {
      return x.t != y.t ? x.t > y.t : x.seq > y.seq;
    }
  };
  std::vector<QEvent> heap_;
  std::uint64_t seq_ = 0, pushed_ = 0, popped_ = 0;
  SimTime now_ = 0;
};

}  // namespace eps
