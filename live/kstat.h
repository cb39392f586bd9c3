// What the kernel counts for the whole machine, read from /proc before and after a run:
// the NET_RX softirq runs (/proc/softirqs), packets, drops and squeezes
// (/proc/net/softnet_stat), and CPU time by mode (/proc/stat). All are system-wide: on a quiet
// machine the difference over a loopback run is the run's own.
#pragma once

#include <cstdint>
#include <string>

namespace eps::live {

struct KernelStat {
  bool ok = false;                  // false: /proc could not be read (figures stay 0)
  std::uint64_t net_rx = 0;         // NET_RX softirq runs, all CPUs
  std::uint64_t processed = 0, dropped = 0, time_squeeze = 0;  // softnet_stat columns 1-3
  std::int64_t user_ns = 0, system_ns = 0, idle_ns = 0, irq_ns = 0, softirq_ns = 0;  // /proc/stat
};

KernelStat read_kernel_stat();
KernelStat operator-(const KernelStat& after, const KernelStat& before);

// Parsers, separate so tests can feed them text.
std::uint64_t parse_softirqs_net_rx(const std::string& text);
void parse_softnet_stat(const std::string& text, KernelStat& out);
void parse_proc_stat(const std::string& text, long ticks_per_s, KernelStat& out);

}  // namespace eps::live
