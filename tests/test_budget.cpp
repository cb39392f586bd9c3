// The run budget (sim/budget.h): the estimate against the model's own event count, and the
// refusal of what is over the budget, before anything of the run is built.
#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <filesystem>

#include "sim/arrivals.h"
#include "sim/budget.h"
#include "sim/simulation.h"

#ifndef EPS_SOURCE_DIR
#define EPS_SOURCE_DIR "."
#endif

using namespace eps;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> toml_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".toml") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<fs::path> lessons() { return toml_files(fs::path(EPS_SOURCE_DIR) / "scenarios"); }

fs::path fixture(const std::string& name) { return fs::path(EPS_SOURCE_DIR) / "tests" / "data" / "budget" / name; }

// The fixtures the estimate is also held to (not the ones made to be refused).
std::vector<fs::path> calibration_fixtures() {
  std::vector<fs::path> out;
  for (const fs::path& f : toml_files(fs::path(EPS_SOURCE_DIR) / "tests" / "data" / "budget"))
    if (f.filename() != "all_max.toml" && f.filename() != "zero_cost_spin.toml") out.push_back(f);
  return out;
}

Metrics run_metrics(const Scenario& sc) {
  Simulation sim(sc, RunOptions{false, {}});
  sim.run();
  return sim.metrics();
}

// The estimate must stay within this factor of the model's count, either way. Measured when it
// was calibrated: 0.81-1.54 on the lessons, 0.70-1.60 with the fixtures.
constexpr double kFactor = 2.0;

void check_estimate(const fs::path& file) {
  const Scenario base = load_scenario(file.string());
  for (Strategy s : all_strategies()) {
    Scenario sc = base;
    sc.strategy = s;
    const Metrics m = run_metrics(sc);
    const RunEstimate e = estimate_run(sc, Record::MetricsOnly);
    const double ratio = e.events / double(m.events);
    INFO(file.filename().string() << " under " << strategy_name(s) << ": estimated " << e.events << " events, measured "
                                  << m.events << " (ratio " << ratio << "); requests estimated " << e.requests
                                  << ", sent " << m.requests_sent);
    CHECK(ratio <= kFactor);
    CHECK(ratio >= 1 / kFactor);
    if (m.requests_sent > 0) {
      CHECK(e.requests / double(m.requests_sent) <= kFactor);
      CHECK(e.requests / double(m.requests_sent) >= 1 / kFactor);
    }
  }
}

long max_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

}  // namespace

TEST_CASE("budget: the estimate is within a factor of 2 of the events of every lesson under every strategy",
          "[budget]") {
  const auto files = lessons();
  REQUIRE(files.size() >= 6);
  for (const fs::path& f : files) check_estimate(f);
}

TEST_CASE("budget: the estimate is within a factor of 2 on closed loops, neighbours, overload and crowds",
          "[budget]") {
  const auto files = calibration_fixtures();
  REQUIRE(files.size() >= 6);
  for (const fs::path& f : files) check_estimate(f);
}

TEST_CASE("budget: no lesson is refused, in the CLI with or without a trace, or in the GUI", "[budget]") {
  for (const fs::path& f : lessons()) {
    const Scenario base = load_scenario(f.string());
    for (Strategy s : all_strategies()) {
      Scenario sc = base;
      sc.strategy = s;
      for (Record r : {Record::MetricsOnly, Record::Trace, Record::Replay}) {
        INFO(f.filename().string() << " under " << strategy_name(s) << ", record " << int(r));
        CHECK(budget_error(sc, r) == "");
      }
    }
  }
}

TEST_CASE("budget: the default limits are 2 GiB at the peak and 1e9 events metrics-only", "[budget]") {
  const Scenario sc = load_scenario(lessons().front().string());
  const Budget b;
  CHECK(b.max_bytes == 2.0 * 1024 * 1024 * 1024);
  CHECK(b.max_events == 1e9);
  // In events: the trace peaks at 64 bytes an event (32 held, copied once when handed over),
  // the GUI at about 150 (trace, replay snapshots, timeline lanes).
  const double trace_limit = event_limit(estimate_run(sc, Record::Trace), Record::Trace, b);
  const double gui_limit = event_limit(estimate_run(sc, Record::Replay), Record::Replay, b);
  CHECK(trace_limit > 33e6);
  CHECK(trace_limit < 33.6e6);
  CHECK(gui_limit > 14e6);
  CHECK(gui_limit < 14.4e6);
  CHECK(event_limit(estimate_run(sc, Record::MetricsOnly), Record::MetricsOnly, b) == 1e9);
}

TEST_CASE("budget: every key at its maximum is refused at once, naming the keys, without building the run",
          "[budget]") {
  const Scenario sc = load_scenario(fixture("all_max.toml").string());
  const long rss_before = max_rss_kib();
  const auto t0 = std::chrono::steady_clock::now();
  std::string metrics_msg, trace_msg, gui_msg;
  for (int i = 0; i < 10; i++) {  // ten times, so the time bound below has room to mean something
    metrics_msg = budget_error(sc, Record::MetricsOnly);
    trace_msg = budget_error(sc, Record::Trace);
    gui_msg = budget_error(sc, Record::Replay);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(seconds < 0.1);
  // The run itself (100,000 sockets and clients) would take ~100 MB before its first event.
  CHECK(max_rss_kib() - rss_before < 16 * 1024);

  const std::string where = fixture("all_max.toml").string() + ": clients[1].rate_per_s, clients[1].connections, duration_ms: ";
  INFO(metrics_msg << "\n" << trace_msg << "\n" << gui_msg);
  CHECK(metrics_msg.rfind(where + "this run would ", 0) == 0);
  CHECK(trace_msg.rfind(where + "this run would record about ", 0) == 0);
  CHECK(gui_msg.rfind(where + "this run would record about ", 0) == 0);
  for (const std::string* m : {&metrics_msg, &trace_msg, &gui_msg}) {
    CHECK(m->find('\n') == std::string::npos);
    CHECK(m->find("--allow-big") != std::string::npos);
  }
  // 100,000 x 1e7/s x 3,600 s: 3.6e15 requests, far past any limit.
  const RunEstimate e = estimate_run(sc, Record::Trace);
  CHECK(e.requests == Approx(3.6e15));
  CHECK(e.events > 3.6e15);
  CHECK(e.term == "open-loop requests");
  REQUIRE_THROWS_AS(check_budget(sc, Record::Trace), BudgetError);
  try {
    check_budget(sc, Record::Trace);
  } catch (const BudgetError& err) {
    CHECK(err.key() == "clients[1].rate_per_s, clients[1].connections, duration_ms");
    CHECK(err.file() == fixture("all_max.toml").string());
    CHECK(std::string(err.what()) == trace_msg);
  }
}

TEST_CASE("budget: a run just over the limit is refused, and runs when allowed", "[budget]") {
  // The first lesson (five closed-loop requests) under a limit set just below its estimate: the
  // same check as for a huge run, on a run cheap enough for a test.
  Scenario sc = load_scenario(lessons().front().string());
  const RunEstimate e = estimate_run(sc, Record::Trace);
  REQUIRE(e.events > 100);
  const Budget tight = Budget::events(std::floor(e.events * 0.99));
  const std::string msg = budget_error(sc, Record::Trace, tight);
  INFO(msg);
  CHECK(msg.find(": clients[1].requests, clients[1].connections: this run would record about ") != std::string::npos);
  CHECK_THROWS_AS(check_budget(sc, Record::Trace, tight), BudgetError);
  // Just enough, or no limit: it passes, and the run completes.
  CHECK(budget_error(sc, Record::Trace, Budget::events(std::ceil(e.events))) == "");
  CHECK_NOTHROW(check_budget(sc, Record::Trace, Budget::unlimited()));
  Simulation sim(sc);
  sim.run();
  CHECK(sim.metrics().requests_completed == 5);
}

TEST_CASE("budget: a loop that costs no simulated time is refused under any budget", "[budget]") {
  // busy-poll with costs.syscall_ns = 0 never lets time move: the run would never end.
  const Scenario sc = load_scenario(fixture("zero_cost_spin.toml").string());
  const RunEstimate e = estimate_run(sc, Record::MetricsOnly);
  CHECK(std::isinf(e.events));
  const std::string msg = budget_error(sc, Record::MetricsOnly, Budget::unlimited());
  INFO(msg);
  CHECK(msg.find("zero_cost_spin.toml: costs.syscall_ns: this run would never end: busy-poll's EAGAIN loop") !=
        std::string::npos);
  // A closed loop whose round trip costs nothing at all (no wire, work, think time or cost)
  // repeats at one instant too.
  Scenario closed = sc;
  closed.strategy = Strategy::Epoll;
  closed.clients[0].mode = ClientMode::Closed;
  closed.work_us = 0;
  for (std::string_view k : cost_keys()) *cost_field(closed.costs, k) = 0;
  CHECK(std::isinf(estimate_run(closed, Record::Trace).events));
  const std::string closed_msg = budget_error(closed, Record::Trace, Budget::unlimited());
  INFO(closed_msg);
  CHECK(closed_msg.find(": clients[1].think_us, costs.wire_latency_ns, server.work_us: this run would never end: a "
                        "closed-loop round trip costs no simulated time") != std::string::npos);
  // The same scenario with syscalls that cost something is fine.
  Scenario ok = sc;
  ok.costs.syscall_ns = 100;
  CHECK(budget_error(ok, Record::MetricsOnly) == "");
}

TEST_CASE("budget: a metrics-only flood is refused for its state, naming what it grows with", "[budget]") {
  // 100 connections x 1e7/s for 10 s: 1e10 requests, ~100 GiB of per-request records even
  // without a trace.
  Scenario sc = load_scenario(fixture("overload.toml").string());
  sc.duration_ms = 10'000;
  sc.clients[0].rate_per_s = 1e7;
  const std::string msg = budget_error(sc, Record::MetricsOnly);
  INFO(msg);
  CHECK(msg.find(": clients[1].rate_per_s, clients[1].connections, duration_ms: this run would hold ~") !=
        std::string::npos);
  CHECK(msg.find(" of model state for ") != std::string::npos);
  CHECK(msg.find("--allow-big") != std::string::npos);
}

TEST_CASE("budget: any scenario the loader accepts gets an estimate, never NaN, at once", "[budget]") {
  // Random scenarios over the schema's ranges, extremes and zero costs included: the check must
  // answer for each (a number or +inf, and a message when over) without running anything.
  Rng rng(2024);
  auto pick = [&](double lo, double hi) {
    const double u = rng.uniform01();
    return u < 0.15 ? lo : u < 0.3 ? hi : lo + (hi - lo) * std::pow(rng.uniform01(), 4);
  };
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 3000; i++) {
    Scenario sc;
    sc.path = "random.toml";
    sc.duration_ms = std::int64_t(pick(1, 3'600'000));
    sc.drain_ms = std::int64_t(pick(0, 3'600'000));
    sc.start_ms = std::int64_t(pick(0, 3'600'000));
    sc.cpus = int(pick(1, 64));
    sc.strategy = all_strategies()[rng.next() % all_strategies().size()];
    sc.work_us = std::int64_t(pick(0, 1'000'000));
    sc.reply_bytes = int(pick(1, 65536));
    const int groups = 1 + int(rng.next() % 3);
    for (int g = 0; g < groups; g++) {
      ClientGroup cg;
      cg.name = "g" + std::to_string(g);
      cg.connections = int(pick(1, 100'000 / groups));
      cg.mode = rng.next() % 2 ? ClientMode::Open : ClientMode::Closed;
      cg.rate_per_s = pick(0, 1e7);
      cg.requests = int(pick(0, 1e9));
      cg.think_us = std::int64_t(pick(0, 1e9));
      cg.request_bytes = int(pick(1, 65536));
      sc.clients.push_back(cg);
    }
    if (rng.next() % 3 == 0) sc.background.push_back(BackgroundGroup{"Q", int(pick(1, 64))});
    for (std::string_view k : cost_keys())
      if (rng.next() % 4 == 0) *cost_field(sc.costs, k) = SimTime(pick(0, 1e9));
    for (Record r : {Record::MetricsOnly, Record::Trace, Record::Replay}) {
      const RunEstimate e = estimate_run(sc, r);
      INFO("scenario " << i << ", record " << int(r) << ": events " << e.events << ", requests " << e.requests);
      REQUIRE(!std::isnan(e.events));
      REQUIRE(!std::isnan(e.requests));
      REQUIRE(!std::isnan(e.peak_bytes));
      REQUIRE(e.events >= 0);
      REQUIRE(!e.drivers.empty());
      const std::string msg = budget_error(sc, r);
      if (!msg.empty()) {
        REQUIRE(msg.rfind("random.toml: ", 0) == 0);
        REQUIRE(msg.find('\n') == std::string::npos);
      }
    }
  }
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 2.0);
}

TEST_CASE("budget: counts and sizes read the way the messages write them", "[budget]") {
  CHECK(format_count(812) == "812");
  CHECK(format_count(12345) == "12,345");
  CHECK(format_count(33.5e6) == "34 million");
  CHECK(format_count(9.1e9) == "9.1 billion");
  CHECK(format_bytes(2.0 * 1024 * 1024 * 1024) == "~2 GiB");
  CHECK(format_bytes(290.0 * 1024 * 1024 * 1024) == "~290 GiB");
  CHECK(format_bytes(512.0 * 1024 * 1024) == "~512 MiB");
}
