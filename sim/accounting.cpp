#include "sim/accounting.h"

namespace eps {

Metrics make_metrics(const RunInfo& run, const Accounting& acct) {
  const Counters& k = acct.k;
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
  m.wasted_wakeups = k.wasted_wakeups;
  m.accepted = k.accepted;
  m.softirq_net_rx = k.net_rx;
  m.softirq_packets = k.softirq_packets;
  m.time_squeeze = k.time_squeeze;
  m.nic_drops = k.nic_drops;
  // Where the time went: the server's threads (system includes their context switches),
  // ksoftirqd's as softirq, the neighbours' as background; hard IRQ and softirq on CPUs.
  std::vector<ThreadMetrics> rows;
  for (std::size_t id = 0; id < acct.tasks.size(); id++) {
    const TaskTime& t = acct.tasks[id];
    if (t.server()) {
      m.ctx_voluntary += t.nvcsw;
      m.ctx_involuntary += t.nivcsw;
      m.cpu_user_ns += t.utime;
      m.cpu_system_ns += t.stime;
      m.threads_total++;
      rows.push_back(ThreadMetrics{id < run.task_names.size() ? run.task_names[id] : "task " + std::to_string(id),
                                   t.wakeups, t.wasted, t.accepted, t.served, t.utime + t.stime});
    } else if (t.kind == TaskKind::Ksoftirqd) {
      m.cpu_softirq_ns += t.stime;  // its switches are part of what the softirq costs
    } else {
      m.cpu_background_ns += t.utime + t.stime;
    }
  }
  if (rows.size() <= Metrics::kMaxThreadRows) m.threads = std::move(rows);
  for (const CpuTime& c : acct.cpus) {
    m.cpu_softirq_ns += c.busy_ns[std::size_t(CpuMode::HardIrq)] + c.busy_ns[std::size_t(CpuMode::Softirq)];
    m.cpu_idle_ns += c.busy_ns[std::size_t(CpuMode::Idle)];
  }
  return m;
}

}  // namespace eps
