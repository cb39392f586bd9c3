#include "sim/counters.h"

namespace eps {

Metrics make_metrics(const RunInfo& run, const Counters& k, const CpuSplit& cpu) {
  Metrics m;
  m.source = "sim";
  m.scenario = run.scenario;
  m.strategy = run.strategy;
  m.seed = run.seed;
  m.events = run.events;
  m.duration_ns = run.duration_ns;
  m.requests_sent = k.sent;
  m.requests_completed = k.completed;
  m.requests_failed = k.failed;
  for (int r = 0; r < 3; r++)
    if (k.failed_by[r]) m.failed_by_reason[std::string(fail_reason_name(FailReason(r)))] = k.failed_by[r];
  m.throughput_rps = run.duration_ns > 0 ? double(k.completed) * 1e9 / double(run.duration_ns) : 0;
  m.latency_p50_us = k.latency.percentile_us(50);
  m.latency_p90_us = k.latency.percentile_us(90);
  m.latency_p99_us = k.latency.percentile_us(99);
  m.latency_max_us = k.latency.max_ns() / 1000;
  for (std::size_t i = 1; i < std::size_t(Sys::Count); i++)
    if (k.syscalls[i]) m.syscalls[std::string(sys_name(Sys(i)))] = k.syscalls[i];
  m.eagain = k.eagain;
  m.fds_scanned = k.fds_scanned;
  m.wakeups = k.wakeups;
  m.softirq_net_rx = k.net_rx;
  m.softirq_packets = k.softirq_packets;
  m.time_squeeze = k.time_squeeze;
  m.nic_drops = k.nic_drops;
  m.ctx_voluntary = cpu.voluntary;
  m.ctx_involuntary = cpu.involuntary;
  m.cpu_user_ns = cpu.user;
  m.cpu_system_ns = cpu.system;
  m.cpu_softirq_ns = cpu.softirq;
  m.cpu_idle_ns = cpu.idle;
  m.cpu_background_ns = cpu.background;
  return m;
}

}  // namespace eps
