#include "sim/arrivals.h"

#include <cmath>

namespace eps {

ArrivalStream::ArrivalStream(std::uint64_t seed, std::uint32_t connection, double rate_per_s)
    : rng_(seed * 0x100000001b3ULL ^ (0xcbf29ce484222325ULL + connection)),
      mean_gap_ns_(rate_per_s > 0 ? 1e9 / rate_per_s : 0) {
  rng_.next();  // decorrelate neighbouring seeds
}

SimTime ArrivalStream::next() {
  if (mean_gap_ns_ <= 0) return kNever;
  double gap = -std::log1p(-rng_.uniform01()) * mean_gap_ns_;
  SimTime g = static_cast<SimTime>(gap);
  t_ += g < 1 ? 1 : g;
  return t_;
}

}  // namespace eps
