// Compare mode: two runs on one simulated-time axis, and a line saying what differs and why.
#pragma once

#include <string>

#include "sim/metrics.h"

namespace eps::view {

// One or two sentences naming the largest difference between two runs of the same lesson
// (fds scanned, EAGAINs, context switches, syscalls, kernel CPU) and the kernel reason for
// it, then the latency. `a` and `b` are the metrics as of the same simulated time.
std::string explain_difference(const Metrics& a, const Metrics& b);

}  // namespace eps::view
