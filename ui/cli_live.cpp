// The live subcommands: `live` (a scenario on real sockets), `versus` (the model and the
// live run side by side) and `serve` (a Redis-protocol server for redis-benchmark).
#include <malloc.h>
#include <signal.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <nlohmann/json.hpp>

#include "live/calibrate.h"
#include "live/kstat.h"
#include "live/limits.h"
#include "live/live_run.h"
#include "live/protocol.h"
#include "live/server.h"
#include "sim/export.h"
#include "sim/simulation.h"
#include "sim/trace_io.h"
#include "sim/uapi.h"
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

struct ServeArgs {
  std::string strategy, bind = "127.0.0.1";
  int port = 6379;
  double spin_us = 0;
  int threads = 0;                      // 0: one per CPU
  std::vector<std::string> epoll_flags;
  live::Limits limits;
  live::RespLimits resp;
  double output_timeout_s = 10;
};

// One line for the banner: what `serve` lets clients hold.
std::string describe_limits(const ServeArgs& a, std::uint64_t nofile) {
  using live::format_bytes;
  const live::Limits& l = a.limits;
  std::ostringstream o;
  o << "limits: arguments (so SET values) up to " << format_bytes(a.resp.max_bulk) << "; per client "
    << format_bytes(l.query) << " of requests and " << format_bytes(l.output)
    << " of replies; all clients " << format_bytes(l.query_total) << " of requests and "
    << format_bytes(l.output_total) << " of replies; a client that takes less than "
    << format_bytes(live::kSmallRoom) << " of its waiting replies in " << a.output_timeout_s
    << " s is closed; keyspace " << format_bytes(a.resp.max_keyspace)
    << "; open files " << nofile << " (see serve --help)";
  return o.str();
}

int cmd_serve(ServeArgs a) {
  const std::string& strategy = a.strategy;
  const std::string& bind = a.bind;
  const int port = a.port;
  const double spin_us = a.spin_us;
  std::optional<Strategy> s = parse_strategy(strategy);
  if (!s) {
    std::cerr << "epollscope-cli: serve: unknown strategy '" << strategy << "' (" << strategy_names() << ")\n";
    return kExitUsage;
  }
  const StrategyInfo& info = strategy_info(*s);
  if ((a.threads > 0 || !a.epoll_flags.empty()) && !info.threads) {
    std::cerr << "epollscope-cli: serve: --threads and --epoll-flags are for the strategies that run worker "
              << "threads (epoll-shared, epoll-per-thread, reuseport); " << strategy << " is "
              << info.summary << "\n";
    return kExitUsage;
  }
  std::uint32_t flags = 0;
  for (const std::string& f : a.epoll_flags)
    flags |= f == "EPOLLET" ? EPOLLET : f == "EPOLLONESHOT" ? EPOLLONESHOT : EPOLLEXCLUSIVE;
  if ((flags & EPOLLEXCLUSIVE) && (flags & EPOLLONESHOT)) {
    std::cerr << "epollscope-cli: serve: EPOLLEXCLUSIVE cannot be combined with EPOLLONESHOT (epoll_ctl says EINVAL)\n";
    return kExitUsage;
  }
  // --spin-us polls the single event loop's wait before it sleeps (server_loop.cpp); the
  // blocking threads sleep in recvfrom, busy-poll always spins, the workers do not spin.
  const auto spins = [](Strategy x) {
    const StrategyInfo& i = strategy_info(x);
    return i.live == LiveServer::EventLoop && i.waits != WaitsWith::Nothing;
  };
  if (spin_us > 0 && !spins(*s)) {
    std::string ok;
    for (Strategy x : all_strategies())
      if (spins(x)) ok += (ok.empty() ? "" : ", ") + std::string(strategy_name(x));
    std::cerr << "epollscope-cli: serve: --spin-us is for " << ok << " (it spins before their wait); "
              << (*s == Strategy::BusyPoll       ? "busy-poll always spins"
                  : *s == Strategy::Blocking     ? "blocking threads sleep in recvfrom"
                                                 : "the worker threads do not spin")
              << "\n";
    return kExitUsage;
  }
  if (!is_loopback(bind))
    std::cerr << "warning: serving on " << bind << ", not loopback: other machines may connect\n";
  if (a.resp.max_bulk > a.limits.query)
    std::cerr << "warning: --max-bulk is larger than --max-query: an argument longer than "
              << live::format_bytes(a.limits.query) << " passes the query limit first\n";
  a.limits.output_timeout_ns = std::int64_t(a.output_timeout_s * 1e9);
  // More clients than the default soft limit of 1024 fds: raise it as far as the hard limit
  // allows. Past it, accept4 fails with EMFILE and the server waits for a connection to close.
  const std::uint64_t nofile = live::sys::raise_nofile_soft();
  // Buffers of 128 KiB and more get their own mapping, given back to the kernel when freed.
  // Without this glibc raises its mmap threshold after the first such free (up to 32 MiB),
  // and a client's 16 MiB buffer, once freed, would stay in the heap: the memory limits
  // would bound what is used, not what the process holds.
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  // SIGINT/SIGTERM are taken by sigwait below; the server threads inherit the mask, so the
  // signal always lands here and the stop is orderly.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto proto = std::make_shared<live::RespProtocol>(a.resp);
  live::ServerOptions opt;
  opt.limits = a.limits;
  opt.strategy = *s;
  opt.bind = bind;
  opt.port = port;
  opt.spin_ns = std::int64_t(spin_us * 1000);
  opt.threads = a.threads > 0 ? a.threads : int(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  opt.epoll_flags = flags;
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
  std::cout << " (Ctrl-C to stop)\n" << describe_limits(a, nofile) << std::endl;
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
  if (st.limit_closed || st.slow_closed || st.refused || st.accept_pauses)
    std::cout << "limits: " << st.limit_closed << " connections closed past a query limit, "
              << st.slow_closed << " for not reading their replies, " << st.refused
              << " refused (no thread, or past FD_SETSIZE); accept4 found no free fd "
              << st.accept_pauses << " times\n" << std::flush;
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

  auto sv_args = std::make_shared<ServeArgs>();
  CLI::App* sv = app.add_subcommand("serve", "A Redis-protocol server (for redis-benchmark) using one strategy");
  sv->add_option("--strategy", sv_args->strategy, strategy_names())->required();
  sv->add_option("--threads", sv_args->threads,
                 "worker threads of epoll-shared, epoll-per-thread and reuseport (default: one per CPU)")
      ->check(CLI::Range(1, 64));
  sv->add_option("--epoll-flags", sv_args->epoll_flags,
                 "their registrations' flags: EPOLLET, EPOLLONESHOT, EPOLLEXCLUSIVE (the listening socket's)")
      ->delimiter(',')
      ->check(CLI::IsMember({"EPOLLET", "EPOLLONESHOT", "EPOLLEXCLUSIVE"}));
  sv->add_option("--port", sv_args->port, "TCP port (0: any free one)")->check(CLI::Range(0, 65535));
  sv->add_option("--bind", sv_args->bind, "address to listen on (default 127.0.0.1; others warn)");
  sv->add_option("--spin-us", sv_args->spin_us,
                  "poll the wait for up to this long before sleeping in it (select/poll/epoll): CPU for fewer wake-ups")
      ->check(CLI::Range(0.0, 1e6));
  // The memory limits (live/limits.h says why these defaults). Sizes take units: 512kb, 16mb.
  const auto size = [&](const char* name, std::size_t& v, const std::string& what) {
    sv->add_option(name, v, what + " (default " + live::format_bytes(v) + ")")
        ->transform(CLI::AsSizeValue(false))
        ->check(CLI::Range(std::uint64_t(1), std::uint64_t(1) << 40));
  };
  size("--max-bulk", sv_args->resp.max_bulk,
       "largest argument, so the largest SET value; refused as soon as its length arrives "
       "(Redis: proto-max-bulk-len, 512 MiB)");
  size("--max-query", sv_args->limits.query,
       "requests not run yet, per client; past it: an error reply and the connection closed "
       "(Redis: client-query-buffer-limit, 1 GiB)");
  size("--max-query-total", sv_args->limits.query_total,
       "requests not run yet, all clients together; the client that would pass it gets an error "
       "and is closed");
  size("--max-output", sv_args->limits.output,
       "unsent replies per client: past it the client's next requests wait until it reads (one "
       "reply, such as a large GET, may pass it)");
  size("--max-output-total", sv_args->limits.output_total,
       "unsent replies, all clients together: past it a client runs requests only when it has no "
       "unsent replies, and a value reply larger than 16 KiB that would pass it gets an error");
  sv->add_option("--output-timeout", sv_args->output_timeout_s,
                 "a client that takes less than 16 KiB of its waiting replies in this many seconds is "
                 "closed (default 10)")
      ->check(CLI::Range(0.001, 86400.0));
  size("--max-keyspace", sv_args->resp.max_keyspace,
       "keys and values (with 64 bytes a key); a SET that would pass it gets an error");
  sv->footer(
      "Limits: a client that sends an argument longer than --max-bulk, or holds more unfinished "
      "requests than --max-query (or all of them together than --max-query-total), gets '-ERR ...' "
      "and is closed; one that does not read its replies stops being served at --max-output and is "
      "closed after --output-timeout. Idle connections keep buffers of up to 16 KiB each. With the defaults the server holds at most about 16 + 8 MiB of "
      "replies and 32 MiB of requests per client, 128 + 128 MiB for all clients, and 256 MiB of keys. "
      "At start the soft RLIMIT_NOFILE is raised to the hard one; when accept4 still finds no free fd "
      "(EMFILE), the server says so once on stderr, stops accepting until a connection closes (the "
      "new clients wait in the listen backlog) and goes on serving the others.");
  out.push_back({sv, [sv_args] { return cmd_serve(*sv_args); }});
}

}  // namespace eps::cli
