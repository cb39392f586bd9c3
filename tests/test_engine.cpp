// The event queue: (time, sequence) order, FIFO at equal times, time never runs backward.
#include <catch2/catch.hpp>

#include <random>

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
