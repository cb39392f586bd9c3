// Seeded randomness shared by the model and the live load generator, so that both replay the
// same open-loop schedule for the same scenario and seed.
#pragma once

#include <cstdint>

#include "sim/scenario.h"

namespace eps {

// splitmix64: tiny, fast, and the same on every platform.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform01() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)

 private:
  std::uint64_t s_;
};

// Poisson arrivals for one connection: the gaps are exponential with mean 1/rate.
// Connection i of the scenario gets its own stream, independent of every other one.
class ArrivalStream {
 public:
  ArrivalStream(std::uint64_t seed, std::uint32_t connection, double rate_per_s);
  // The next send time (ns), strictly after the previous one; kNever if the rate is 0.
  SimTime next();
  static constexpr SimTime kNever = INT64_MAX;

 private:
  Rng rng_;
  double mean_gap_ns_;
  SimTime t_ = 0;
};

}  // namespace eps
