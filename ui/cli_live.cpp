// The live subcommands: `live` (a scenario on real sockets), `versus` (the model and the
// live run side by side) and `serve` (a Redis-protocol server for redis-benchmark).
#include <signal.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <nlohmann/json.hpp>

#include "live/calibrate.h"
#include "live/kstat.h"
#include "live/live_run.h"
#include "live/protocol.h"
#include "live/server.h"
#include "sim/export.h"
#include "sim/simulation.h"
#include "sim/trace_io.h"
#include "ui/cli.h"

namespace eps::cli {

namespace {

struct LiveArgs {
  std::string scenario, strategy, json, trace, chrome_trace, costs;
  long long seed = -1;
  bool kernel_trace = false;
  BudgetFlags budget;  // versus: its model side
};

// Runs the scenario live; prints refusals and notes to stderr.
Metrics run_live_or_exit(const Scenario& sc, bool record_trace, bool kernel_trace, Trace* trace_out) {
  if (std::string why = live::check_live(sc); !why.empty()) {
    std::cerr << "epollscope-cli: " << sc.path << ": cannot run live: " << why << "\n";
    throw ExitError{kExitUsage};
  }
  live::LiveOptions opt;
  opt.record_trace = record_trace;
  opt.kernel_trace = kernel_trace;
  live::LiveResult r;
  try {
    r = live::run_live(sc, opt);
  } catch (const live::LiveError& e) {
    std::cerr << "epollscope-cli: live run failed: " << e.what() << "\n";
    throw ExitError{kExitFailed};
  }
  for (const std::string& n : r.notes) std::cerr << "note: " << n << "\n";
  if (trace_out) *trace_out = std::move(r.trace);
  return r.metrics;
}

int cmd_live(const LiveArgs& a) {
  Scenario sc = load_or_exit(a.scenario);
  apply_overrides(sc, a.strategy, a.seed);
  const bool want_trace = !a.trace.empty() || !a.chrome_trace.empty() || a.kernel_trace;
  Trace trace;
  Metrics m = run_live_or_exit(sc, want_trace, a.kernel_trace, &trace);
  // With --json -, stdout is the JSON alone; the summary goes to stderr.
  (a.json == "-" ? std::cerr : std::cout) << format_summary(m);
  if (!a.json.empty()) write_json_out(a.json, to_json(m).dump(2) + "\n");
  if (!a.trace.empty()) {
    try {
      write_trace_file(trace, a.trace);
    } catch (const std::exception& e) {
      std::cerr << "epollscope-cli: " << e.what() << "\n";
      return kExitFailed;
    }
  }
  if (!a.chrome_trace.empty()) {
    std::ofstream f(a.chrome_trace);
    if (!f) {
      std::cerr << "epollscope-cli: " << a.chrome_trace << ": cannot write\n";
      return kExitFailed;
    }
    write_chrome_trace(trace, f);
  }
  return kExitOk;
}

// `text` in lines of at most `width` columns (words are not split), the first line after
// `first`, the others after `rest`.
std::string wrap(const std::string& text, const std::string& first, const std::string& rest, std::size_t width) {
  std::istringstream words(text);
  std::string out, line = first, word;
  bool empty = true;  // no word on `line` yet
  while (words >> word) {
    if (!empty && line.size() + 1 + word.size() > width) {
      out += line + "\n";
      line = rest;
      empty = true;
    }
    line += (empty ? "" : " ") + word;
    empty = false;
  }
  return out + line + "\n";
}

int cmd_versus(const LiveArgs& a) {
  Scenario sc = load_or_exit(a.scenario);
  apply_overrides(sc, a.strategy, a.seed);
  apply_costs_file(sc, a.costs);  // the model's side only: live measures the real costs
  check_budget_or_exit(sc, Record::MetricsOnly, a.budget);  // before the live side starts
  // A scenario the real server must refuse (select past FD_SETSIZE) is still a comparison
  // worth seeing: the model shows what a correct select server does with those connections,
  // and the live side says why it was not run. `live` alone refuses it (exit 2).
  const std::string refused = live::check_live(sc);
  Metrics live_m;
  if (refused.empty()) live_m = run_live_or_exit(sc, false, false, nullptr);
  RunOptions ro;
  ro.record_trace = false;
  Simulation sim(sc, std::move(ro));
  sim.run();
  Metrics model_m = sim.metrics();
  std::cout << sc.title << " (" << strategy_name(sc.strategy) << ", seed " << sc.seed << ")\n";
  if (refused.empty()) {
    std::cout << format_table({"model", "live"}, {model_m, live_m}, true) << "\nWhy the columns differ:\n";
    for (const std::string& n : live::explain_versus(sc, model_m, live_m, !a.costs.empty()))
      std::cout << wrap(n, "  - ", "    ", 100);
  } else
    std::cout << format_table({"model"}, {model_m}, false) << "live: not run: " << refused << "\n";
  if (!a.json.empty()) {
    nlohmann::json j = {{"model", to_json(model_m)}};
    if (refused.empty()) j["live"] = to_json(live_m);
    else j["live_refused"] = refused;
    write_json_out(a.json, j.dump(2) + "\n");
  }
  return kExitOk;
}

bool is_loopback(const std::string& addr) { return addr.rfind("127.", 0) == 0; }

int cmd_serve(const std::string& strategy, int port, const std::string& bind, double spin_us) {
  std::optional<Strategy> s = parse_strategy(strategy);
  if (!s) {
    std::cerr << "epollscope-cli: serve: unknown strategy '" << strategy
              << "' (blocking, busy-poll, select, poll, epoll, epoll-et)\n";
    return kExitUsage;
  }
  if (spin_us > 0 && (*s == Strategy::Blocking || *s == Strategy::BusyPoll)) {
    std::cerr << "epollscope-cli: serve: --spin-us is for select, poll, epoll and epoll-et (it spins before "
              << "their wait); " << (*s == Strategy::BusyPoll ? "busy-poll always spins" : "blocking threads sleep in recvfrom")
              << "\n";
    return kExitUsage;
  }
  if (!is_loopback(bind))
    std::cerr << "warning: serving on " << bind << ", not loopback: other machines may connect\n";
  // SIGINT/SIGTERM are taken by sigwait below; the server threads inherit the mask, so the
  // signal always lands here and the stop is orderly.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto proto = std::make_shared<live::RespProtocol>();
  live::ServerOptions opt;
  opt.strategy = *s;
  opt.bind = bind;
  opt.port = port;
  opt.spin_ns = std::int64_t(spin_us * 1000);
  live::Server server(opt, proto);
  if (std::string e = server.start(); !e.empty()) {
    std::cerr << "epollscope-cli: serve: " << e << "\n";
    return kExitFailed;
  }
  const live::KernelStat before = live::read_kernel_stat();
  const std::int64_t t0 = live::sys::mono_ns();
  std::cout << "epollscope serve: " << strategy_name(*s) << " server speaking the Redis protocol on "
            << server.address();
  if (opt.spin_ns > 0) std::cout << ", polling " << spin_us << " us before each sleep";
  std::cout << " (Ctrl-C to stop)" << std::endl;
  int sig = 0;
  sigwait(&stop_signals, &sig);
  server.stop();
  const std::int64_t t1 = live::sys::mono_ns();
  const live::KernelStat k = live::read_kernel_stat() - before;
  live::ServerStats st = server.stats();

  Metrics m;
  m.source = "live";
  m.scenario = "serve (Redis protocol) on " + server.address();
  m.strategy = *s;
  m.duration_ns = t1 - t0;
  m.requests_sent = m.requests_completed = st.requests;
  m.throughput_rps = m.duration_ns > 0 ? double(st.requests) * 1e9 / double(m.duration_ns) : 0;
  live::fill_server_metrics(m, st, k);
  std::cout << "\nstopped by " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << "; " << st.accepted
            << " connections served\n"
            << format_summary(m) << std::flush;
  if (!st.error.empty()) std::cerr << "note: server: " << st.error << "\n";
  return kExitOk;
}

int cmd_calibrate(const std::string& out, bool quick) {
  std::cerr << "measuring the model's costs on this machine (a few seconds)...\n";
  live::Calibration c;
  try {
    c = live::calibrate(quick);
  } catch (const std::exception& e) {
    std::cerr << "epollscope-cli: calibrate: " << e.what() << "\n";
    return kExitFailed;
  }
  const std::string text = live::calibration_toml(c);
  if (out == "-") {
    std::cout << text;
    return kExitOk;
  }
  std::ofstream f(out);
  if (!(f << text)) {
    std::cerr << "epollscope-cli: " << out << ": cannot write\n";
    return kExitFailed;
  }
  std::cerr << "wrote " << out << "; use it with: epollscope-cli versus LESSON --costs " << out << "\n";
  return kExitOk;
}

}  // namespace

void register_live_commands(CLI::App& app, std::vector<Command>& out) {
  auto live_args = std::make_shared<LiveArgs>();
  CLI::App* live = app.add_subcommand("live", "Run a scenario for real, on sockets on 127.0.0.1");
  live->add_option("scenario", live_args->scenario, "scenario file (.toml)")->required();
  live->add_option("--strategy", live_args->strategy, "server strategy (overrides the file's)");
  live->add_option("--seed", live_args->seed, "seed for the open-loop schedule (overrides the file's)");
  live->add_option("--json", live_args->json, "write the metrics JSON here (- for stdout)");
  live->add_option("--trace", live_args->trace, "save the live trace (server syscalls) to this file");
  live->add_option("--chrome-trace", live_args->chrome_trace, "write the live trace as Chrome-trace JSON");
  live->add_flag("--kernel-trace", live_args->kernel_trace,
                 "also record the kernel's tracepoints with perf (needs perf and root)");
  out.push_back({live, [live_args] { return cmd_live(*live_args); }});

  auto vs_args = std::make_shared<LiveArgs>();
  CLI::App* vs = app.add_subcommand("versus", "The model and a live run of the same scenario, side by side");
  vs->add_option("scenario", vs_args->scenario, "scenario file (.toml)")->required();
  vs->add_option("--strategy", vs_args->strategy, "server strategy (overrides the file's)");
  vs->add_option("--seed", vs_args->seed, "seed (overrides the file's)");
  vs->add_option("--json", vs_args->json, "write {\"model\": ..., \"live\": ...} here (- for stdout)");
  vs->add_option("--costs", vs_args->costs, kCostsHelp);
  add_budget_flags(vs, vs_args->budget);
  out.push_back({vs, [vs_args] { return cmd_versus(*vs_args); }});

  struct CalibrateArgs {
    std::string out = "-";
    bool quick = false;
  };
  auto cal_args = std::make_shared<CalibrateArgs>();
  CLI::App* cal = app.add_subcommand(
      "calibrate", "Measure the model's costs on this machine; write a [costs] file for --costs");
  cal->add_option("--out", cal_args->out, "write the costs file here (default -: stdout)");
  cal->add_flag("--quick", cal_args->quick, "fewer repetitions: faster, noisier");
  out.push_back({cal, [cal_args] { return cmd_calibrate(cal_args->out, cal_args->quick); }});

  struct ServeArgs {
    std::string strategy, bind = "127.0.0.1";
    int port = 6379;
    double spin_us = 0;
  };
  auto sv_args = std::make_shared<ServeArgs>();
  CLI::App* sv = app.add_subcommand("serve", "A Redis-protocol server (for redis-benchmark) using one strategy");
  sv->add_option("--strategy", sv_args->strategy, "blocking, busy-poll, select, poll, epoll, epoll-et")->required();
  sv->add_option("--port", sv_args->port, "TCP port (0: any free one)")->check(CLI::Range(0, 65535));
  sv->add_option("--bind", sv_args->bind, "address to listen on (default 127.0.0.1; others warn)");
  sv->add_option("--spin-us", sv_args->spin_us,
                  "poll the wait for up to this long before sleeping in it (select/poll/epoll): CPU for fewer wake-ups")
      ->check(CLI::Range(0.0, 1e6));
  out.push_back({sv, [sv_args] { return cmd_serve(sv_args->strategy, sv_args->port, sv_args->bind, sv_args->spin_us); }});
}

}  // namespace eps::cli
