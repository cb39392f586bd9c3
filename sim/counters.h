// The counts behind the metrics, kept the same way by the model (as it runs) and by replay
// (from trace events), and turned into Metrics by one function, so the two cannot drift.
#pragma once

#include <cstdint>
#include <string>

#include "sim/metrics.h"
#include "sim/trace.h"

namespace eps {

struct Counters {
  std::uint64_t sent = 0, completed = 0, failed = 0, failed_by[3] = {};  // by FailReason
  std::uint64_t syscalls[std::size_t(Sys::Count)] = {};
  std::uint64_t eagain = 0, fds_scanned = 0, wakeups = 0;
  std::uint64_t net_rx = 0, softirq_packets = 0, time_squeeze = 0, nic_drops = 0;
  LatencyHistogram latency;
  void fail(FailReason r) { failed++; failed_by[std::size_t(r)]++; }
  bool operator==(const Counters&) const = default;
};

// Where the CPU time went, and the server threads' context switches. add_task / add_cpu take
// the model's Task and Cpu or replay's WsTask and WsCpu (same field names).
struct CpuSplit {
  std::uint64_t voluntary = 0, involuntary = 0;
  SimTime user = 0, system = 0, softirq = 0, idle = 0, background = 0;

  template <class T>
  void add_task(const T& t) {
    if (t.server()) {
      voluntary += t.nvcsw;
      involuntary += t.nivcsw;
      user += t.utime;
      system += t.stime;  // includes its context switches
    } else if (t.kind == TaskKind::Ksoftirqd) {
      softirq += t.stime;  // its switches are part of what the softirq costs
    } else {
      background += t.utime + t.stime;
    }
  }
  template <class C>
  void add_cpu(const C& c) {
    softirq += c.busy_ns[std::size_t(CpuMode::HardIrq)] + c.busy_ns[std::size_t(CpuMode::Softirq)];
    idle += c.busy_ns[std::size_t(CpuMode::Idle)];
  }
};

struct RunInfo {
  std::string scenario, strategy;
  std::uint64_t seed = 1, events = 0;
  SimTime duration_ns = 0;
};

Metrics make_metrics(const RunInfo& run, const Counters& k, const CpuSplit& cpu);

}  // namespace eps
