// The event queue: (time, sequence) order, FIFO at equal times, time never runs backward;
// and the coroutines programs run on: calls between them in bounded native stack depth.
#include <catch2/catch.hpp>

#include <random>

#include <pthread.h>

#include "sim/co.h"
#include "sim/engine.h"

using namespace eps;

TEST_CASE("engine: events pop in time order, equal times in push order", "[engine]") {
  EventQueue q;
  q.push(30, 1, 0);
  q.push(10, 2, 0);
  q.push(20, 3, 0);
  q.push(10, 4, 0);
  q.push(10, 5, 0);
  std::vector<std::uint32_t> order;
  while (!q.empty()) order.push_back(q.pop().kind);
  REQUIRE(order == std::vector<std::uint32_t>{2, 4, 5, 3, 1});
  REQUIRE(q.now() == 30);
}

TEST_CASE("engine: scheduling into the past is refused", "[engine]") {
  EventQueue q;
  q.push(100, 1);
  q.pop();
  REQUIRE_THROWS_AS(q.push(99, 1), std::logic_error);
  REQUIRE_NOTHROW(q.push(100, 1));  // now is fine
}

TEST_CASE("engine: random pushes on both lanes pop in one (time, seq) order, and nothing is lost",
          "[engine]") {
  EventQueue q;
  std::mt19937_64 rng(42);
  std::vector<std::pair<SimTime, std::uint64_t>> seen;
  std::uint64_t pushed = 0;
  auto lane = [&] { return rng() % 2 ? EventQueue::kNear : EventQueue::kFar; };
  for (int i = 0; i < 1000; i++) q.push(SimTime(rng() % 500), 0, 0, pushed++, lane());
  while (!q.empty()) {
    QEvent e = q.pop();
    seen.emplace_back(e.t, e.seq);
    if (seen.size() < 5000) q.push(e.t + SimTime(rng() % 50), 0, 0, pushed++, lane());
  }
  REQUIRE(seen.size() == pushed);
  REQUIRE(q.pushed() == q.popped());
  REQUIRE(std::is_sorted(seen.begin(), seen.end()));
}

namespace {

eps::Co<int> one_hop(int i) { co_return i + 1; }

// A program that calls a helper coroutine `calls` times and never really suspends: every
// call and return is a hop between coroutines with nothing else in between.
eps::Co<void> hops(long calls, long& done) {
  for (long i = 0; i < calls; i++) done = co_await one_hop(int(i & 0xff)) ? done + 1 : done;
}

struct HopRun {
  long calls, done = 0;
};

void* run_hops(void* p) {
  auto* r = static_cast<HopRun*>(p);
  eps::Co<void> co = hops(r->calls, r->done);
  eps::drive(co.handle());
  return nullptr;
}

}  // namespace

// Issue: `run 02-thread-per-connection --strategy busy-poll` overflowed the stack under ASan:
// each call between coroutines nested a native frame (symmetric transfer is a tail call only
// when the compiler makes it one). drive() keeps the depth bounded: a million hops run in a
// thread whose whole stack is 128 KiB (without the trampoline this test crashes).
TEST_CASE("coroutines: a million calls between coroutines run in bounded stack depth", "[engine]") {
  HopRun r{1'000'000};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 128 * 1024);
  pthread_t th;
  REQUIRE(pthread_create(&th, &attr, &run_hops, &r) == 0);
  pthread_join(th, nullptr);
  pthread_attr_destroy(&attr);
  REQUIRE(r.done == r.calls);
}
