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
    sift_up(heap_[lane], QEvent{t, seq_++, kind, a, b});
    ++pushed_;
  }
  bool empty() const { return heap_[0].empty() && heap_[1].empty(); }
  SimTime next_time() const { return heap_[next_lane()].front().t; }
  QEvent pop() {
    QEvent e = take_min(heap_[next_lane()]);
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
  // A 4-ary heap: half the depth of a binary one, and a node's four children share a cache
  // line or two, which is what a 10,000-entry lane of client sends spends its time on.
  static bool before(const QEvent& x, const QEvent& y) { return x.t != y.t ? x.t < y.t : x.seq < y.seq; }
  static void sift_up(std::vector<QEvent>& h, QEvent e) {
    std::size_t i = h.size();
    h.push_back(e);
    while (i > 0) {
      std::size_t parent = (i - 1) / 4;
      if (!before(e, h[parent])) break;
      h[i] = h[parent];
      i = parent;
    }
    h[i] = e;
  }
  static QEvent take_min(std::vector<QEvent>& h) {
    QEvent top = h.front();
    QEvent last = h.back();
    h.pop_back();
    std::size_t n = h.size(), i = 0;
    if (n == 0) return top;
    for (;;) {
      std::size_t c = 4 * i + 1;
      if (c >= n) break;
      std::size_t best = c, end = c + 4 < n ? c + 4 : n;
      for (std::size_t k = c + 1; k < end; k++) if (before(h[k], h[best])) best = k;
      if (!before(h[best], last)) break;
      h[i] = h[best];
      i = best;
    }
    h[i] = last;
    return top;
  }
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
