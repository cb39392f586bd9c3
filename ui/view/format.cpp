#include "ui/view/format.h"

#include <cstdio>

namespace eps::view {

std::string group_digits(std::uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = int(s.size()) - 3; i > 0; i -= 3) s.insert(std::size_t(i), ",");
  return s;
}

std::string format_duration(SimTime ns) {
  char buf[48];
  const double v = double(ns);
  const double a = v < 0 ? -v : v;
  if (a < 1e3) std::snprintf(buf, sizeof buf, "%lld ns", (long long)ns);
  else if (a < 1e6) std::snprintf(buf, sizeof buf, "%.1f µs", v / 1e3);
  else if (a < 1e9) std::snprintf(buf, sizeof buf, "%.2f ms", v / 1e6);
  else std::snprintf(buf, sizeof buf, "%.3f s", v / 1e9);
  return buf;
}

std::string format_time(SimTime ns) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3f ms", double(ns) / 1e6);
  return buf;
}

std::string format_percent(double part, double whole) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f%%", whole > 0 ? 100.0 * part / whole : 0.0);
  return buf;
}

}  // namespace eps::view
