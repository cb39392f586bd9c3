// --kernel-trace: perf script output parsed and turned into the model's events; and a live
// run with --kernel-trace completes whether or not perf is there and allowed.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "live/kernel_trace.h"
#include "live/kstat.h"
#include "live/live_run.h"
#include "sim/trace_check.h"

using namespace eps;
using namespace eps::live;

TEST_CASE("kernel trace: perf script lines parsed, comm with spaces, junk skipped", "[live]") {
  std::ifstream f("tests/data/live/perf_script.txt");
  std::stringstream ss;
  ss << f.rdbuf();
  std::vector<PerfEvent> evs = parse_perf_script(ss.str());
  REQUIRE(evs.size() == 9);
  CHECK(evs[0].comm == "perf");
  CHECK(evs[0].tid == 7876);
  CHECK(evs[0].t_ns == 5830'226'021'000LL);
  CHECK(evs[1].t_ns == 5830'300'000'100LL);  // nanosecond precision kept
  CHECK(evs[1].event == "sched:sched_switch");
  CHECK(evs[1].fields.at("prev_state") == "S");
  CHECK(evs[3].fields.at("work") == "2");
  CHECK(evs[3].fields.at("budget") == "64");
  CHECK(evs[7].comm == "kworker/0:1 H");
  CHECK(evs[7].tid == 77);
}

TEST_CASE("kernel trace: tracepoints become the model's events, for the server's threads", "[live]") {
  std::ifstream f("tests/data/live/perf_script.txt");
  std::stringstream ss;
  ss << f.rdbuf();
  std::map<int, std::uint16_t> actors = {{4242, 0}, {4243, 1}};
  std::uint64_t wakeups = 0;
  const std::int64_t t0 = 5830'300'000'000LL;  // the first line is before t0: dropped
  std::vector<TraceEvent> ev = kernel_events(parse_perf_script(ss.str()), actors, t0, &wakeups);
  REQUIRE(ev.size() == 7);
  CHECK(ev[0].kind == Ev::ContextSwitch);  // server thread 0 goes to sleep
  CHECK(ev[0].a == 0u);
  CHECK(ev[0].actor == kNoTask);
  CHECK(ev[0].b == 0u);                    // S: voluntary
  CHECK(ev[0].t == 100);
  CHECK(ev[1].kind == Ev::Softirq);
  CHECK(ev[1].a == 1u);
  CHECK(ev[1].cpu == 1);
  CHECK(ev[2].kind == Ev::NapiRx);
  CHECK(ev[2].a == 2u);
  CHECK(ev[2].b == 64u);
  CHECK(ev[3].kind == Ev::TryToWakeUp);
  CHECK(ev[3].actor == 0);
  CHECK(ev[3].cpu == 0);                   // the target CPU
  CHECK(ev[4].kind == Ev::Softirq);
  CHECK(ev[4].a == 0u);
  CHECK(ev[5].kind == Ev::ContextSwitch);  // (the TIMER softirq is not NET_RX: skipped)
  CHECK(ev[5].actor == 0);
  CHECK(ev[6].b == 1u);                    // R: preempted, involuntary
  CHECK(wakeups == 1);
}

TEST_CASE("kernel trace: a live run with --kernel-trace completes, with or without perf", "[live]") {
  Scenario sc = load_scenario("tests/data/live/small.toml");
  sc.strategy = Strategy::Epoll;
  LiveOptions opt;
  opt.kernel_trace = true;
  LiveResult r = run_live(sc, opt);
  CHECK(r.metrics.requests_completed == r.metrics.requests_sent);
  CHECK(check_trace(r.trace) == "");  // with perf's events merged, when perf could record
  bool said = false;
  for (const std::string& n : r.notes)
    if (n.find("kernel trace") != std::string::npos || n.find("--kernel-trace") != std::string::npos) said = true;
  CHECK(said);  // either "N kernel events merged" or why not
}

TEST_CASE("kstat: /proc parsers", "[live]") {
  CHECK(parse_softirqs_net_rx("                    CPU0       CPU1\n      NET_RX:        330        406\n") == 736);
  KernelStat k;
  parse_softnet_stat("0000000b 00000001 00000002 0\n00000297 00000000 00000001 0\n", k);
  CHECK(k.processed == 0xb + 0x297);
  CHECK(k.dropped == 1);
  CHECK(k.time_squeeze == 3);
  parse_proc_stat("cpu  100 5 30 400 2 1 7 0 0 0\ncpu0 1 2 3\n", 100, k);
  CHECK(k.user_ns == 1'050'000'000);
  CHECK(k.softirq_ns == 70'000'000);
  CHECK(k.idle_ns == 4'020'000'000);
}
