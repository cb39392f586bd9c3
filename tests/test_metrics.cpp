// Tests for sim/metrics.cpp: histogram buckets and percentiles, the metrics JSON shape.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <set>
#include <string>

#include "sim/metrics.h"

namespace {
constexpr std::int64_t kUs = 1'000, kMs = 1'000'000, kS = 1'000'000'000;

std::int64_t p_of_one(std::int64_t ns) {
  eps::LatencyHistogram h;
  h.add(ns);
  return h.percentile_us(50);
}

std::set<std::string> keys(const nlohmann::json& o) {
  std::set<std::string> k;
  for (auto it = o.begin(); it != o.end(); ++it) k.insert(it.key());
  return k;
}

eps::Metrics sample() {
  eps::Metrics m;
  m.source = "live";
  m.scenario = "Ten busy clients, one epoll loop";
  m.strategy = eps::Strategy::EpollEt;
  m.seed = 7;
  m.events = 123456;
  m.duration_ns = 300 * kMs;
  m.requests_sent = 1000;
  m.requests_completed = 990;
  m.requests_failed = 10;
  m.failed_by_reason = {{"dropped at NIC", 7}, {"timed out", 3}};
  m.throughput_rps = 3300.125;
  m.latency_p50_us = 45;
  m.latency_p90_us = 120;
  m.latency_p99_us = 2010;
  m.latency_max_us = 9876;
  m.syscalls = {{"epoll_wait", 500}, {"recvfrom", 1990}, {"sendto", 990}};
  m.eagain = 1000;
  m.fds_scanned = 4321;
  m.ctx_voluntary = 400;
  m.ctx_involuntary = 12;
  m.wakeups = 401;
  m.wasted_wakeups = 17;
  m.accepted = 3;
  m.threads = {{"P (server)", 300, 10, 2, 600, 4 * kMs}, {"worker 1", 101, 7, 1, 390, 1 * kMs}};
  m.threads_total = 2;
  m.softirq_net_rx = 800;
  m.softirq_packets = 2000;
  m.time_squeeze = 2;
  m.nic_drops = 7;
  m.cpu_user_ns = 20 * kMs;
  m.cpu_system_ns = 5 * kMs;
  m.cpu_softirq_ns = 3 * kMs;
  m.cpu_idle_ns = 270 * kMs;
  m.cpu_background_ns = 0;
  return m;
}
}  // namespace

TEST_CASE("metrics: empty histogram", "[metrics]") {
  eps::LatencyHistogram h;
  CHECK(h.count() == 0);
  CHECK(h.max_ns() == 0);
  CHECK(h.percentile_us(50) == 0);
  CHECK(h.percentile_us(99) == 0);
  CHECK(h.percentile_us(100) == 0);
  CHECK(h == eps::LatencyHistogram{});
}

TEST_CASE("metrics: percentiles of 1..100 us", "[metrics]") {
  eps::LatencyHistogram h;
  for (int us = 100; us >= 1; --us) h.add(us * kUs);  // order does not matter
  CHECK(h.count() == 100);
  CHECK(h.max_ns() == 100 * kUs);
  CHECK(h.percentile_us(50) == 50);
  CHECK(h.percentile_us(90) == 90);
  CHECK(h.percentile_us(99) == 99);
  CHECK(h.percentile_us(100) == 100);
  CHECK(h.percentile_us(1) == 1);
  CHECK(h.percentile_us(0.5) == 1);    // rank ceil(0.5) = 1
  CHECK(h.percentile_us(50.5) == 51);  // rank ceil(50.5) = 51
}

TEST_CASE("metrics: nearest rank", "[metrics]") {
  eps::LatencyHistogram h;
  for (int us = 1; us <= 4; ++us) h.add(us * kUs);
  CHECK(h.percentile_us(25) == 1);  // rank 1
  CHECK(h.percentile_us(26) == 2);  // rank ceil(1.04) = 2
  CHECK(h.percentile_us(50) == 2);  // rank 2
  CHECK(h.percentile_us(75) == 3);  // rank 3
  CHECK(h.percentile_us(76) == 4);  // rank 4

  // 99.9 * 1000 / 100 is not exactly 999 in binary; the rank must still be 999.
  eps::LatencyHistogram k;
  for (int us = 1; us <= 1000; ++us) k.add(us * kUs);
  CHECK(k.percentile_us(99.9) == 999);
  CHECK(k.percentile_us(100) == 1000);
  CHECK(k.percentile_us(0.1) == 1);
}

TEST_CASE("metrics: bucket edges", "[metrics]") {
  // 1 us below 1 ms (sub-microsecond parts drop).
  CHECK(p_of_one(0) == 0);
  CHECK(p_of_one(999) == 0);
  CHECK(p_of_one(1'500) == 1);
  CHECK(p_of_one(999'999) == 999);
  // 10 us from 1 ms to 10 ms.
  CHECK(p_of_one(1 * kMs) == 1'000);
  CHECK(p_of_one(1'009'999) == 1'000);
  CHECK(p_of_one(1'010'000) == 1'010);
  CHECK(p_of_one(9'999'999) == 9'990);
  // 100 us from 10 ms to 100 ms.
  CHECK(p_of_one(10 * kMs) == 10'000);
  CHECK(p_of_one(10'099'999) == 10'000);
  CHECK(p_of_one(10'100'000) == 10'100);
  CHECK(p_of_one(99'999'999) == 99'900);
  // 1 ms from 100 ms to 100 s.
  CHECK(p_of_one(100 * kMs) == 100'000);
  CHECK(p_of_one(100 * kMs + 999'999) == 100'000);
  CHECK(p_of_one(101 * kMs) == 101'000);
  CHECK(p_of_one(100 * kS - 1) == 99'999'000);
  // Clamped beyond 100 s; max stays exact. Negative counts as 0.
  CHECK(p_of_one(100 * kS) == 100'000'000);
  CHECK(p_of_one(3600 * kS) == 100'000'000);
  CHECK(p_of_one(-5) == 0);

  eps::LatencyHistogram h;
  h.add(3600 * kS + 7);
  CHECK(h.max_ns() == 3600 * kS + 7);

  // Values straddling the 1 ms and 10 ms edges.
  eps::LatencyHistogram s;
  s.add(999 * kUs);       // bucket 999
  s.add(1'000 * kUs);     // bucket 1000..1010
  s.add(1'005 * kUs);     // same bucket
  s.add(9'995 * kUs);     // bucket 9990..10000
  s.add(10'000 * kUs);    // bucket 10000..10100
  s.add(10'050 * kUs);    // same bucket
  CHECK(s.count() == 6);
  CHECK(s.percentile_us(16) == 999);      // rank 1
  CHECK(s.percentile_us(17) == 1'000);    // rank 2
  CHECK(s.percentile_us(50) == 1'000);    // rank 3
  CHECK(s.percentile_us(60) == 9'990);    // rank 4
  CHECK(s.percentile_us(67) == 10'000);   // rank 5
  CHECK(s.percentile_us(100) == 10'000);  // rank 6
  CHECK(s.max_ns() == 10'050 * kUs);
}

TEST_CASE("metrics: histograms compare by content", "[metrics]") {
  eps::LatencyHistogram a, b;
  a.add(5 * kUs);
  a.add(7 * kMs);
  b.add(7 * kMs);
  CHECK_FALSE(a == b);
  b.add(5 * kUs);
  CHECK(a == b);
}

TEST_CASE("metrics: syscalls_total sums by name", "[metrics]") {
  eps::Metrics m;
  CHECK(m.syscalls_total() == 0);
  m.syscalls = {{"epoll_wait", 3}, {"recvfrom", 4}, {"sendto", 5}};
  CHECK(m.syscalls_total() == 12);
}

TEST_CASE("metrics: JSON has exactly the documented shape", "[metrics]") {
  const auto j = eps::to_json(sample());
  CHECK(keys(j) == std::set<std::string>{"source", "scenario", "strategy", "seed", "events",
                                         "duration_ns", "requests", "throughput_rps",
                                         "latency_us", "syscalls", "eagain", "fds_scanned",
                                         "context_switches", "wakeups", "wasted_wakeups", "accepted", "threads",
                                         "softirq", "nic_drops", "cpu_ns"});
  CHECK(keys(j["threads"]) == std::set<std::string>{"total", "by_thread"});
  CHECK(keys(j["threads"]["by_thread"][0]) ==
        std::set<std::string>{"name", "wakeups", "wasted_wakeups", "accepted", "requests", "cpu_ns"});
  CHECK(j["wasted_wakeups"] == 17);
  CHECK(j["threads"]["by_thread"][1]["name"] == "worker 1");
  CHECK(j["threads"]["by_thread"][1]["wasted_wakeups"] == 7);
  CHECK(keys(j["requests"]) ==
        std::set<std::string>{"sent", "completed", "failed", "failed_by_reason"});
  CHECK(keys(j["latency_us"]) == std::set<std::string>{"p50", "p90", "p99", "max"});
  CHECK(keys(j["syscalls"]) == std::set<std::string>{"total", "by_name"});
  CHECK(keys(j["context_switches"]) == std::set<std::string>{"voluntary", "involuntary"});
  CHECK(keys(j["softirq"]) == std::set<std::string>{"net_rx", "packets", "time_squeeze"});
  CHECK(keys(j["cpu_ns"]) ==
        std::set<std::string>{"user", "system", "softirq", "idle", "background"});

  CHECK(j["source"] == "live");
  CHECK(j["strategy"] == "epoll-et");
  CHECK(j["seed"] == 7);
  CHECK(j["requests"]["failed_by_reason"]["dropped at NIC"] == 7);
  CHECK(j["throughput_rps"].is_number_float());
  CHECK(j["throughput_rps"] == 3300.125);
  CHECK(j["latency_us"]["p99"] == 2010);
  CHECK(j["syscalls"]["total"] == 3480);
  CHECK(j["syscalls"]["by_name"]["recvfrom"] == 1990);
  CHECK(j["context_switches"]["involuntary"] == 12);
  CHECK(j["softirq"]["time_squeeze"] == 2);
  CHECK(j["cpu_ns"]["idle"] == 270 * kMs);

  // Default metrics: empty maps are objects, not null; throughput is a float.
  const auto d = eps::to_json(eps::Metrics{});
  CHECK(d["source"] == "sim");
  CHECK(d["requests"]["failed_by_reason"].is_object());
  CHECK(d["syscalls"]["by_name"].is_object());
  CHECK(d["syscalls"]["total"] == 0);
  CHECK(d["throughput_rps"].is_number_float());
}

TEST_CASE("metrics: JSON round trip", "[metrics]") {
  for (const eps::Metrics& m : {sample(), eps::Metrics{}}) {
    const auto j = eps::to_json(m);
    // Through text too, as a file would go.
    const auto back = eps::metrics_from_json(nlohmann::json::parse(j.dump()));
    CHECK(back.source == m.source);
    CHECK(back.scenario == m.scenario);
    CHECK(back.strategy == m.strategy);
    CHECK(back.seed == m.seed);
    CHECK(back.events == m.events);
    CHECK(back.duration_ns == m.duration_ns);
    CHECK(back.requests_sent == m.requests_sent);
    CHECK(back.requests_completed == m.requests_completed);
    CHECK(back.requests_failed == m.requests_failed);
    CHECK(back.failed_by_reason == m.failed_by_reason);
    CHECK(back.throughput_rps == m.throughput_rps);
    CHECK(back.latency_p50_us == m.latency_p50_us);
    CHECK(back.latency_p90_us == m.latency_p90_us);
    CHECK(back.latency_p99_us == m.latency_p99_us);
    CHECK(back.latency_max_us == m.latency_max_us);
    CHECK(back.syscalls == m.syscalls);
    CHECK(back.eagain == m.eagain);
    CHECK(back.fds_scanned == m.fds_scanned);
    CHECK(back.ctx_voluntary == m.ctx_voluntary);
    CHECK(back.ctx_involuntary == m.ctx_involuntary);
    CHECK(back.wakeups == m.wakeups);
    CHECK(back.wasted_wakeups == m.wasted_wakeups);
    CHECK(back.accepted == m.accepted);
    CHECK(back.threads == m.threads);
    CHECK(back.threads_total == m.threads_total);
    CHECK(back.softirq_net_rx == m.softirq_net_rx);
    CHECK(back.softirq_packets == m.softirq_packets);
    CHECK(back.time_squeeze == m.time_squeeze);
    CHECK(back.nic_drops == m.nic_drops);
    CHECK(back.cpu_user_ns == m.cpu_user_ns);
    CHECK(back.cpu_system_ns == m.cpu_system_ns);
    CHECK(back.cpu_softirq_ns == m.cpu_softirq_ns);
    CHECK(back.cpu_idle_ns == m.cpu_idle_ns);
    CHECK(back.cpu_background_ns == m.cpu_background_ns);
    CHECK(eps::to_json(back).dump() == j.dump());
    CHECK(eps::to_json(eps::metrics_from_json(j)).dump() == j.dump());
  }
}

TEST_CASE("metrics: bad shapes name the key", "[metrics]") {
  const auto good = eps::to_json(sample());
  auto message = [](const nlohmann::json& j) -> std::string {
    try {
      (void)eps::metrics_from_json(j);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "(no error)";
  };
  CHECK(message(good) == "(no error)");

  auto j = good;
  j.erase("seed");
  CHECK(message(j) == "metrics JSON: `seed` is missing");

  j = good;
  j["latency_us"].erase("p99");
  CHECK(message(j) == "metrics JSON: `latency_us.p99` is missing");

  j = good;
  j.erase("cpu_ns");
  CHECK(message(j) == "metrics JSON: `cpu_ns` is missing");

  j = good;
  j["requests"]["completed"] = "many";
  CHECK(message(j) == "metrics JSON: `requests.completed` must be a non-negative integer");

  j = good;
  j["eagain"] = -1;
  CHECK(message(j) == "metrics JSON: `eagain` must be a non-negative integer");

  j = good;
  j["context_switches"] = 3;
  CHECK(message(j) == "metrics JSON: `context_switches` must be an object");

  j = good;
  j["syscalls"]["by_name"]["read"] = 1;
  CHECK(message(j) ==
        "metrics JSON: `syscalls.total` is 3480 but `syscalls.by_name` adds up to 3481");

  j = good;
  j["syscalls"]["by_name"]["read"] = 1.5;
  CHECK(message(j) == "metrics JSON: `syscalls.by_name.read` must be a non-negative integer");

  j = good;
  j["throughput_rps"] = 12;  // an integer where a float is expected is fine
  CHECK(message(j) == "(no error)");

  j = good;
  j["strategy"] = "io_uring";
  CHECK(message(j) == "metrics JSON: `strategy` is `io_uring`, not one of: blocking, busy-poll, select, poll, "
                      "epoll, epoll-et, epoll-shared, epoll-per-thread, reuseport");

  j = good;
  j["threads"]["by_thread"][0].erase("accepted");
  CHECK(message(j) == "metrics JSON: `threads.by_thread[0].accepted` is missing");

  // Files written before the threaded strategies have neither key: they still load.
  j = good;
  j.erase("threads");
  j.erase("wasted_wakeups");
  CHECK(message(j) == "(no error)");

  CHECK(message(nlohmann::json::array()) == "metrics JSON: `(top level)` must be an object");
  CHECK_THROWS_AS(eps::metrics_from_json(nlohmann::json::object()), std::runtime_error);
}
