// Latency histogram and the metrics JSON (see metrics.h; the JSON keys are a public interface).

#include "sim/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace eps {

// ---------------------------------------------------------------------------------------------
// LatencyHistogram
//
// Bucket layout (lower edges):
//   [0, 1 ms)      1 us wide    indices     0 ..    999
//   [1, 10 ms)    10 us wide    indices  1000 ..   1899
//   [10, 100 ms) 100 us wide    indices  1900 ..   2799
//   [100 ms, 100 s) 1 ms wide   indices  2800 .. 102699
//   [100 s, ...)  one clamp bucket, index 102700, reported as 100 s
namespace {
constexpr std::int64_t kUs = 1'000, kMs = 1'000'000, kS = 1'000'000'000;
constexpr std::size_t kB1 = 1000, kB2 = kB1 + 900, kB3 = kB2 + 900, kB4 = kB3 + 99'900;
constexpr std::size_t kBuckets = kB4 + 1;

std::size_t bucket_of(std::int64_t ns) {
  if (ns < 0) ns = 0;
  if (ns < 1 * kMs) return static_cast<std::size_t>(ns / kUs);
  if (ns < 10 * kMs) return kB1 + static_cast<std::size_t>((ns - 1 * kMs) / (10 * kUs));
  if (ns < 100 * kMs) return kB2 + static_cast<std::size_t>((ns - 10 * kMs) / (100 * kUs));
  if (ns < 100 * kS) return kB3 + static_cast<std::size_t>((ns - 100 * kMs) / kMs);
  return kB4;
}

std::int64_t lower_edge_us(std::size_t i) {
  const auto k = static_cast<std::int64_t>(i);
  if (i < kB1) return k;
  if (i < kB2) return 1'000 + (k - static_cast<std::int64_t>(kB1)) * 10;
  if (i < kB3) return 10'000 + (k - static_cast<std::int64_t>(kB2)) * 100;
  return 100'000 + (k - static_cast<std::int64_t>(kB3)) * 1'000;
}
}  // namespace

LatencyHistogram::LatencyHistogram() : buckets_(kBuckets, 0) {}

void LatencyHistogram::add(std::int64_t latency_ns) {
  if (latency_ns < 0) latency_ns = 0;
  auto& b = buckets_[bucket_of(latency_ns)];
  if (b < std::numeric_limits<std::uint32_t>::max()) ++b;  // saturate rather than wrap
  ++count_;
  max_ns_ = std::max(max_ns_, latency_ns);
}

std::int64_t LatencyHistogram::percentile_us(double p) const {
  if (count_ == 0) return 0;
  if (!(p > 0)) p = std::nextafter(0.0, 1.0);  // rank 1
  if (p > 100) p = 100;
  // Nearest rank: ceil(p/100 * count), 1-based. p*count is computed first so that integer
  // percentiles of round counts are exact; the tiny relative slack absorbs 99.9*1000 = 99900.0000001.
  const double x = p * static_cast<double>(count_) / 100.0;
  double r = std::ceil(x - x * 1e-12);
  std::uint64_t rank = r < 1 ? 1 : static_cast<std::uint64_t>(r);
  rank = std::min(rank, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) return lower_edge_us(i);
  }
  // Only reachable if a bucket saturated: the rank lies in the highest non-empty bucket.
  for (std::size_t i = buckets_.size(); i-- > 0;)
    if (buckets_[i]) return lower_edge_us(i);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Metrics

std::uint64_t Metrics::syscalls_total() const {
  std::uint64_t t = 0;
  for (const auto& [name, n] : syscalls) t += n;
  return t;
}

namespace {
nlohmann::json threads_json(const Metrics& m) {
  nlohmann::json rows = nlohmann::json::array();
  for (const ThreadMetrics& t : m.threads)
    rows.push_back({{"name", t.name}, {"wakeups", t.wakeups}, {"wasted_wakeups", t.wasted_wakeups},
                    {"accepted", t.accepted}, {"requests", t.requests}, {"cpu_ns", t.cpu_ns}});
  return {{"total", m.threads_total}, {"by_thread", rows}};
}
}  // namespace

nlohmann::json to_json(const Metrics& m) {
  using nlohmann::json;
  json failed = json::object();
  for (const auto& [k, v] : m.failed_by_reason) failed[k] = v;
  json by_name = json::object();
  for (const auto& [k, v] : m.syscalls) by_name[k] = v;
  return json{
      {"source", m.source},
      {"scenario", m.scenario},
      {"strategy", strategy_name(m.strategy)},
      {"seed", m.seed},
      {"events", m.events},
      {"duration_ns", m.duration_ns},
      {"requests",
       {{"sent", m.requests_sent},
        {"completed", m.requests_completed},
        {"failed", m.requests_failed},
        {"failed_by_reason", failed}}},
      {"throughput_rps", m.throughput_rps},
      {"latency_us",
       {{"p50", m.latency_p50_us},
        {"p90", m.latency_p90_us},
        {"p99", m.latency_p99_us},
        {"max", m.latency_max_us}}},
      {"syscalls", {{"total", m.syscalls_total()}, {"by_name", by_name}}},
      {"eagain", m.eagain},
      {"fds_scanned", m.fds_scanned},
      {"context_switches", {{"voluntary", m.ctx_voluntary}, {"involuntary", m.ctx_involuntary}}},
      {"wakeups", m.wakeups},
      {"wasted_wakeups", m.wasted_wakeups},
      {"accepted", m.accepted},
      {"threads", threads_json(m)},
      {"softirq",
       {{"net_rx", m.softirq_net_rx},
        {"packets", m.softirq_packets},
        {"time_squeeze", m.time_squeeze}}},
      {"nic_drops", m.nic_drops},
      {"cpu_ns",
       {{"user", m.cpu_user_ns},
        {"system", m.cpu_system_ns},
        {"softirq", m.cpu_softirq_ns},
        {"idle", m.cpu_idle_ns},
        {"background", m.cpu_background_ns}}},
  };
}

namespace {
[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw std::runtime_error("metrics JSON: `" + path + "` " + what);
}

std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

const nlohmann::json& field(const nlohmann::json& obj, const std::string& parent,
                            const std::string& key) {
  if (!obj.is_object()) bad(parent.empty() ? "(top level)" : parent, "must be an object");
  auto it = obj.find(key);
  if (it == obj.end()) bad(join_path(parent, key), "is missing");
  return *it;
}

const nlohmann::json& object(const nlohmann::json& obj, const std::string& parent,
                             const std::string& key) {
  const auto& v = field(obj, parent, key);
  if (!v.is_object()) bad(join_path(parent, key), "must be an object");
  return v;
}

std::string str(const nlohmann::json& obj, const std::string& parent, const std::string& key) {
  const auto& v = field(obj, parent, key);
  if (!v.is_string()) bad(join_path(parent, key), "must be a string");
  return v.get<std::string>();
}

std::uint64_t as_u64(const nlohmann::json& v, const std::string& path) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0)
    return static_cast<std::uint64_t>(v.get<std::int64_t>());
  bad(path, "must be a non-negative integer");
}

std::uint64_t u64(const nlohmann::json& obj, const std::string& parent, const std::string& key) {
  return as_u64(field(obj, parent, key), join_path(parent, key));
}

std::int64_t i64(const nlohmann::json& obj, const std::string& parent, const std::string& key) {
  const auto& v = field(obj, parent, key);
  const std::string path = join_path(parent, key);
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      bad(path, "is too large");
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<std::int64_t>();
  bad(path, "must be an integer");
}

double num(const nlohmann::json& obj, const std::string& parent, const std::string& key) {
  const auto& v = field(obj, parent, key);
  if (!v.is_number()) bad(join_path(parent, key), "must be a number");
  return v.get<double>();
}

std::map<std::string, std::uint64_t> counts(const nlohmann::json& obj, const std::string& parent,
                                            const std::string& key) {
  const auto& o = object(obj, parent, key);
  const std::string path = join_path(parent, key);
  std::map<std::string, std::uint64_t> m;
  for (auto it = o.begin(); it != o.end(); ++it) m[it.key()] = as_u64(it.value(), path + "." + it.key());
  return m;
}
}  // namespace

Metrics metrics_from_json(const nlohmann::json& j) {
  Metrics m;
  if (!j.is_object()) bad("(top level)", "must be an object");
  m.source = str(j, "", "source");
  m.scenario = str(j, "", "scenario");
  const std::string strategy = str(j, "", "strategy");
  if (auto st = parse_strategy(strategy)) m.strategy = *st;
  else bad("strategy", "is `" + strategy + "`, not one of: " + strategy_names());
  m.seed = u64(j, "", "seed");
  m.events = u64(j, "", "events");
  m.duration_ns = i64(j, "", "duration_ns");

  const auto& req = object(j, "", "requests");
  m.requests_sent = u64(req, "requests", "sent");
  m.requests_completed = u64(req, "requests", "completed");
  m.requests_failed = u64(req, "requests", "failed");
  m.failed_by_reason = counts(req, "requests", "failed_by_reason");

  m.throughput_rps = num(j, "", "throughput_rps");

  const auto& lat = object(j, "", "latency_us");
  m.latency_p50_us = i64(lat, "latency_us", "p50");
  m.latency_p90_us = i64(lat, "latency_us", "p90");
  m.latency_p99_us = i64(lat, "latency_us", "p99");
  m.latency_max_us = i64(lat, "latency_us", "max");

  const auto& sys = object(j, "", "syscalls");
  const std::uint64_t total = u64(sys, "syscalls", "total");
  m.syscalls = counts(sys, "syscalls", "by_name");
  if (total != m.syscalls_total())
    bad("syscalls.total",
        "is " + std::to_string(total) + " but `syscalls.by_name` adds up to " +
            std::to_string(m.syscalls_total()));

  m.eagain = u64(j, "", "eagain");
  m.fds_scanned = u64(j, "", "fds_scanned");

  const auto& cs = object(j, "", "context_switches");
  m.ctx_voluntary = u64(cs, "context_switches", "voluntary");
  m.ctx_involuntary = u64(cs, "context_switches", "involuntary");

  m.wakeups = u64(j, "", "wakeups");
  // Added with the threaded strategies: absent in files written before them.
  if (j.contains("wasted_wakeups")) m.wasted_wakeups = u64(j, "", "wasted_wakeups");
  if (j.contains("accepted")) m.accepted = u64(j, "", "accepted");
  if (j.contains("threads")) {
    const auto& th = object(j, "", "threads");
    m.threads_total = u64(th, "threads", "total");
    const auto& rows = field(th, "threads", "by_thread");
    if (!rows.is_array()) bad("threads.by_thread", "must be an array");
    for (std::size_t i = 0; i < rows.size(); i++) {
      const std::string p = "threads.by_thread[" + std::to_string(i) + "]";
      ThreadMetrics t;
      t.name = str(rows[i], p, "name");
      t.wakeups = u64(rows[i], p, "wakeups");
      t.wasted_wakeups = u64(rows[i], p, "wasted_wakeups");
      t.accepted = u64(rows[i], p, "accepted");
      t.requests = u64(rows[i], p, "requests");
      t.cpu_ns = i64(rows[i], p, "cpu_ns");
      m.threads.push_back(std::move(t));
    }
  }

  const auto& si = object(j, "", "softirq");
  m.softirq_net_rx = u64(si, "softirq", "net_rx");
  m.softirq_packets = u64(si, "softirq", "packets");
  m.time_squeeze = u64(si, "softirq", "time_squeeze");

  m.nic_drops = u64(j, "", "nic_drops");

  const auto& cpu = object(j, "", "cpu_ns");
  m.cpu_user_ns = i64(cpu, "cpu_ns", "user");
  m.cpu_system_ns = i64(cpu, "cpu_ns", "system");
  m.cpu_softirq_ns = i64(cpu, "cpu_ns", "softirq");
  m.cpu_idle_ns = i64(cpu, "cpu_ns", "idle");
  m.cpu_background_ns = i64(cpu, "cpu_ns", "background");
  return m;
}

}  // namespace eps
