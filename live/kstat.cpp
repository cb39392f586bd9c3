// /proc readers (see kstat.h).
#include "live/kstat.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace eps::live {

namespace {
std::string slurp(const char* path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
}  // namespace

std::uint64_t parse_softirqs_net_rx(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string name;
    ls >> name;
    if (name != "NET_RX:") continue;
    std::uint64_t sum = 0, v;
    while (ls >> v) sum += v;
    return sum;
  }
  return 0;
}

void parse_softnet_stat(const std::string& text, KernelStat& out) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {  // one line per CPU, hex columns
    std::istringstream ls(line);
    std::uint64_t processed = 0, dropped = 0, squeeze = 0;
    ls >> std::hex >> processed >> dropped >> squeeze;
    out.processed += processed;
    out.dropped += dropped;
    out.time_squeeze += squeeze;
  }
}

void parse_proc_stat(const std::string& text, long ticks_per_s, KernelStat& out) {
  std::istringstream in(text);
  std::string cpu;
  std::int64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq;
  if (cpu != "cpu" || ticks_per_s <= 0) return;
  const std::int64_t ns = 1'000'000'000 / ticks_per_s;
  out.user_ns = (user + nice) * ns;
  out.system_ns = system * ns;
  out.idle_ns = (idle + iowait) * ns;
  out.irq_ns = irq * ns;
  out.softirq_ns = softirq * ns;
}

KernelStat read_kernel_stat() {
  KernelStat k;
  std::string softirqs = slurp("/proc/softirqs"), softnet = slurp("/proc/net/softnet_stat"),
              stat = slurp("/proc/stat");
  if (softirqs.empty() || stat.empty()) return k;
  k.ok = true;
  k.net_rx = parse_softirqs_net_rx(softirqs);
  parse_softnet_stat(softnet, k);
  parse_proc_stat(stat, sysconf(_SC_CLK_TCK), k);
  return k;
}

KernelStat operator-(const KernelStat& a, const KernelStat& b) {
  KernelStat d;
  d.ok = a.ok && b.ok;
  auto sub = [](std::uint64_t x, std::uint64_t y) { return x > y ? x - y : 0; };
  d.net_rx = sub(a.net_rx, b.net_rx);
  d.processed = sub(a.processed, b.processed);
  d.dropped = sub(a.dropped, b.dropped);
  d.time_squeeze = sub(a.time_squeeze, b.time_squeeze);
  d.user_ns = a.user_ns - b.user_ns;
  d.system_ns = a.system_ns - b.system_ns;
  d.idle_ns = a.idle_ns - b.idle_ns;
  d.irq_ns = a.irq_ns - b.irq_ns;
  d.softirq_ns = a.softirq_ns - b.softirq_ns;
  return d;
}

}  // namespace eps::live
