// The one metrics schema, filled by the model ("source": "sim") and by the live backend
// ("source": "live"), so the two can stand in one table. JSON keys are a public interface.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/strategy.h"

#include <nlohmann/json_fwd.hpp>

namespace eps {

// Latency histogram with fixed buckets, so percentiles "as of any event" in replay and
// percentiles of the finished run are computed the same way and agree exactly.
// Resolution: 1 us below 1 ms, 10 us below 10 ms, 100 us below 100 ms, 1 ms above.
class LatencyHistogram {
 public:
  LatencyHistogram();
  void add(std::int64_t latency_ns);
  std::uint64_t count() const { return count_; }
  std::int64_t max_ns() const { return max_ns_; }
  // Nearest-rank percentile (p in (0,100]), as the lower edge of its bucket, in microseconds.
  std::int64_t percentile_us(double p) const;
  bool operator==(const LatencyHistogram&) const = default;

 private:
  std::vector<std::uint32_t> buckets_;
  std::uint64_t count_ = 0;
  std::int64_t max_ns_ = 0;
};

// One server thread's share (the threaded strategies show how evenly the work spreads and
// how many of each thread's wake-ups were for nothing).
struct ThreadMetrics {
  std::string name;
  std::uint64_t wakeups = 0;        // try_to_wake_up (live: voluntary context switches)
  std::uint64_t wasted_wakeups = 0; // woken, then accept4/recvfrom said EAGAIN (or slept again)
  std::uint64_t accepted = 0;       // connections it accepted
  std::uint64_t requests = 0;       // replies it sent
  std::int64_t cpu_ns = 0;          // user + system
  bool operator==(const ThreadMetrics&) const = default;
};

struct Metrics {
  std::string source = "sim";       // "sim" | "live"
  std::string scenario;             // the scenario's title
  Strategy strategy = Strategy::Epoll;
  std::uint64_t seed = 1;
  std::uint64_t events = 0;         // trace events (sim) or recorded syscalls (live)
  std::int64_t duration_ns = 0;     // from the start to the end of the drain

  std::uint64_t requests_sent = 0, requests_completed = 0, requests_failed = 0;
  std::map<std::string, std::uint64_t> failed_by_reason;  // "dropped at NIC": 3, ...
  double throughput_rps = 0;        // completed / duration
  std::int64_t latency_p50_us = 0, latency_p90_us = 0, latency_p99_us = 0, latency_max_us = 0;

  std::map<std::string, std::uint64_t> syscalls;  // real Linux names
  std::uint64_t eagain = 0;
  std::uint64_t fds_scanned = 0;    // select/poll fds examined; ep_send_events items examined
  std::uint64_t ctx_voluntary = 0, ctx_involuntary = 0;  // the server's threads
  std::uint64_t wakeups = 0;        // try_to_wake_up of a server thread
  std::uint64_t wasted_wakeups = 0; // of them, those whose accept4/recvfrom found nothing
  std::uint64_t accepted = 0;       // connections accept4 returned
  std::uint64_t softirq_net_rx = 0, softirq_packets = 0;
  std::uint64_t time_squeeze = 0, nic_drops = 0;
  std::int64_t cpu_user_ns = 0, cpu_system_ns = 0, cpu_softirq_ns = 0, cpu_idle_ns = 0,
               cpu_background_ns = 0;  // softirq includes the hard IRQ; system includes switches

  // Per server thread, when there are at most kMaxThreadRows of them (a thread per
  // connection would make thousands of rows); else empty and `threads_total` says how many.
  static constexpr std::size_t kMaxThreadRows = 64;
  std::vector<ThreadMetrics> threads;
  std::uint64_t threads_total = 0;

  std::uint64_t syscalls_total() const;
};

nlohmann::json to_json(const Metrics& m);
Metrics metrics_from_json(const nlohmann::json& j);  // throws std::runtime_error on bad shape

}  // namespace eps
