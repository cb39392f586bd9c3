// Number and time formatting shared by the panels (no ImGui here).
#pragma once

#include <cstdint>
#include <string>

#include "sim/scenario.h"

namespace eps::view {

// 1234567 -> "1,234,567".
std::string group_digits(std::uint64_t n);
// A duration in the unit that reads best: "850 ns", "12.5 µs", "3.20 ms", "1.250 s".
std::string format_duration(SimTime ns);
// A point in simulated time, always in milliseconds with µs precision: "12.345 ms".
std::string format_time(SimTime ns);
// "42%" of part in whole (whole 0 -> "0%").
std::string format_percent(double part, double whole);

}  // namespace eps::view
