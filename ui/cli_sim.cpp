// run, compare, validate, list: the model from the command line.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/export.h"
#include "sim/simulation.h"
#include "sim/trace_io.h"
#include "ui/cli.h"

namespace eps::cli {

namespace fs = std::filesystem;

namespace {

std::string lessons_dir() {
  if (const char* d = std::getenv("EPOLLSCOPE_SCENARIOS")) return d;
  if (fs::is_directory("scenarios")) return "scenarios";
  return std::string(EPS_SOURCE_DIR) + "/scenarios";
}

// "05-epoll" or "05-epoll.toml" names a shipped lesson when no such file exists here.
std::string resolve(const std::string& path) {
  if (fs::exists(path)) return path;
  for (const std::string& cand : {lessons_dir() + "/" + path, lessons_dir() + "/" + path + ".toml"})
    if (fs::is_regular_file(cand)) return cand;
  return path;
}

std::string num(double v, int decimals = 0) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  // thousands separators for readability at a projector
  std::string s = b;
  auto dot = s.find('.');
  std::string ip = s.substr(0, dot), fp = dot == std::string::npos ? "" : s.substr(dot);
  bool neg = !ip.empty() && ip[0] == '-';
  if (neg) ip.erase(0, 1);
  std::string o;
  for (std::size_t i = 0; i < ip.size(); i++) {
    if (i && (ip.size() - i) % 3 == 0) o += ',';
    o += ip[i];
  }
  return (neg ? "-" : "") + o + fp;
}

std::string ms(std::int64_t ns) { return num(double(ns) / 1e6, 2) + " ms"; }

std::string pct(std::int64_t part, std::int64_t whole) {
  return whole > 0 ? num(100.0 * double(part) / double(whole), 1) + "%" : "-";
}

std::uint64_t sc_count(const Metrics& m, const std::string& name) {
  auto it = m.syscalls.find(name);
  return it == m.syscalls.end() ? 0 : it->second;
}

// The serving loop's syscalls: without the one-time setup (accept4, clone, epoll_create1,
// close, and the epoll_ctl ADDs: one per accepted connection, and for the threaded strategies
// one per instance for the listener), which would otherwise swamp a short run with many
// connections. Other epoll_ctl calls (an EPOLLONESHOT re-arm, MOD) are the loop's.
double loop_syscalls(const Metrics& m) {
  double n = double(m.syscalls_total());
  for (const char* setup : {"accept4", "clone", "epoll_create1", "close"}) n -= double(sc_count(m, setup));
  const std::uint64_t adds = m.accepted + (strategy_info(m.strategy).threads ? sc_count(m, "epoll_create1") : 0);
  n -= double(std::min(sc_count(m, "epoll_ctl"), adds));
  return n;
}

std::int64_t cpu_total(const Metrics& m) {
  return m.cpu_user_ns + m.cpu_system_ns + m.cpu_softirq_ns + m.cpu_idle_ns + m.cpu_background_ns;
}

Metrics run_model(const Scenario& sc, bool keep_trace, Trace* trace_out) {
  Simulation sim(sc, RunOptions{keep_trace, {}});
  sim.run();
  Metrics m = sim.metrics();
  if (trace_out) *trace_out = sim.take_trace();
  return m;
}

std::string sname(const Metrics& m) { return std::string(strategy_name(m.strategy)); }

// What a student should notice in a comparison, worked out from the numbers.
std::vector<std::string> what_stands_out(const std::vector<Metrics>& ms) {
  std::vector<std::string> out;
  if (ms.size() < 2) return out;
  auto by = [&](auto key) {
    return std::minmax_element(ms.begin(), ms.end(), [&](const Metrics& a, const Metrics& b) { return key(a) < key(b); });
  };
  auto [lo_p99, hi_p99] = by([](const Metrics& m) { return m.latency_p99_us; });
  out.push_back("p99 latency: lowest " + sname(*lo_p99) + " (" + num(double(lo_p99->latency_p99_us)) +
                " us), highest " + sname(*hi_p99) + " (" + num(double(hi_p99->latency_p99_us)) + " us).");
  auto [lo_sys, hi_sys] = by([](const Metrics& m) {
    return m.requests_completed ? loop_syscalls(m) / double(m.requests_completed) : 1e18;
  });
  if (hi_sys->requests_completed && lo_sys->requests_completed)
    out.push_back("syscalls per request in the serving loop: fewest " + sname(*lo_sys) + " (" +
                  num(loop_syscalls(*lo_sys) / double(lo_sys->requests_completed), 1) + "), most " +
                  sname(*hi_sys) + " (" + num(loop_syscalls(*hi_sys) / double(hi_sys->requests_completed), 1) +
                  ").");
  for (const Metrics& m : ms) {
    if (m.eagain > 10 * std::max<std::uint64_t>(1, m.requests_completed))
      out.push_back(sname(m) + " got EAGAIN " + num(double(m.eagain)) + " times (" +
                    num(double(m.eagain) / double(std::max<std::uint64_t>(1, m.requests_completed)), 0) +
                    " per request): it never sleeps, the CPU is " + pct(m.cpu_idle_ns, cpu_total(m)) + " idle.");
    std::uint64_t calls = sc_count(m, "select") + sc_count(m, "poll");
    if (calls && m.fds_scanned)
      out.push_back(sname(m) + " examined " + num(double(m.fds_scanned) / double(calls), 1) +
                    " fds per call (every watched fd, every time).");
    std::uint64_t waits = sc_count(m, "epoll_wait");
    if (waits && m.fds_scanned)
      out.push_back(sname(m) + " examined " + num(double(m.fds_scanned) / double(waits), 1) +
                    " ready items per epoll_wait (only what ep_poll_callback queued).");
    if (m.requests_failed)
      out.push_back(sname(m) + ": " + num(double(m.requests_failed)) + " requests failed" +
                    [&] {
                      std::string r;
                      for (auto& [k, v] : m.failed_by_reason) r += (r.empty() ? " (" : ", ") + k + " " + num(double(v));
                      return r.empty() ? r : r + ")";
                    }() + ".");
  }
  bool any_bg = std::any_of(ms.begin(), ms.end(), [](const Metrics& m) { return m.cpu_background_ns > 0; });
  if (any_bg) {
    auto [lo_bg, hi_bg] = by([](const Metrics& m) { return m.cpu_background_ns; });
    out.push_back("the neighbour task got " + pct(hi_bg->cpu_background_ns, cpu_total(*hi_bg)) + " of the CPU beside " +
                  sname(*hi_bg) + ", " + pct(lo_bg->cpu_background_ns, cpu_total(*lo_bg)) + " beside " +
                  sname(*lo_bg) + ".");
  }
  return out;
}

}  // namespace

Scenario load_or_exit(const std::string& path) {
  try {
    return load_scenario(resolve(path));
  } catch (const ScenarioError& e) {
    std::cerr << "epollscope-cli: " << e.what() << "\n";
    throw ExitError{kExitUsage};
  }
}

void apply_overrides(Scenario& sc, const std::string& strategy, long long seed) {
  if (!strategy.empty()) {
    auto s = parse_strategy(strategy);
    if (!s) {
      std::cerr << "epollscope-cli: --strategy: unknown strategy '" << strategy << "' (" << strategy_names()
                << ")\n";
      throw ExitError{kExitUsage};
    }
    sc.strategy = *s;
  }
  if (seed >= 0) sc.seed = std::uint64_t(seed);
}

void apply_costs_file(Scenario& sc, const std::string& path) {
  if (path.empty()) return;
  try {
    sc.costs = load_costs(path, sc.costs);
  } catch (const ScenarioError& e) {
    std::cerr << "epollscope-cli: --costs: " << e.what() << "\n";
    throw ExitError{kExitUsage};
  }
}

void add_budget_flags(CLI::App* cmd, BudgetFlags& flags) {
  cmd->add_flag("--allow-big", flags.allow_big,
                "Run even a scenario whose estimate is over the budget (2 GiB at the peak; 1e9 events "
                "without a trace)");
  cmd->add_option("--max-events", flags.max_events,
                  "Allow N events instead of the budget (a trace then takes ~64 bytes an event)")
      ->check(CLI::PositiveNumber);
}

Budget budget_of(const BudgetFlags& flags) {
  if (flags.allow_big) return Budget::unlimited();
  if (flags.max_events > 0) return Budget::events(flags.max_events);
  return Budget{};
}

void check_budget_or_exit(const Scenario& sc, Record record, const BudgetFlags& flags) {
  const std::string err = budget_error(sc, record, budget_of(flags));
  if (err.empty()) return;
  std::cerr << "epollscope-cli: " << err << "\n";
  throw ExitError{kExitUsage};
}

void write_json_out(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::cout << text << "\n";
    return;
  }
  std::ofstream f(path);
  if (!f || !(f << text << "\n")) {
    std::cerr << "epollscope-cli: cannot write " << path << "\n";
    throw ExitError{kExitFailed};
  }
}

std::string format_summary(const Metrics& m) {
  std::ostringstream o;
  std::int64_t total = cpu_total(m);
  o << m.scenario << " — " << m.strategy << ", seed " << m.seed << " (" << (m.source == "sim" ? "simulated" : "live")
    << ")\n";
  o << "  requests      sent " << num(double(m.requests_sent)) << ", completed " << num(double(m.requests_completed))
    << ", failed " << num(double(m.requests_failed));
  for (auto& [k, v] : m.failed_by_reason) o << " [" << k << ": " << num(double(v)) << "]";
  o << "\n  throughput    " << num(m.throughput_rps, 1) << " requests/s over " << ms(m.duration_ns) << "\n";
  o << "  latency       p50 " << num(double(m.latency_p50_us)) << " us, p90 " << num(double(m.latency_p90_us))
    << " us, p99 " << num(double(m.latency_p99_us)) << " us, max " << num(double(m.latency_max_us)) << " us\n";
  o << "  syscalls      " << num(double(m.syscalls_total())) << ":";
  for (auto& [k, v] : m.syscalls) o << " " << k << " " << num(double(v)) << ";";
  o << "\n  EAGAIN        " << num(double(m.eagain)) << "\n";
  o << "  fds scanned   " << num(double(m.fds_scanned)) << "\n";
  o << "  ctx switches  voluntary " << num(double(m.ctx_voluntary)) << ", involuntary "
    << num(double(m.ctx_involuntary)) << "\n";
  o << "  wake-ups      " << num(double(m.wakeups));
  if (m.wasted_wakeups)
    o << " (" << num(double(m.wasted_wakeups)) << " for nothing: the first accept4 or recvfrom after them said EAGAIN, "
      << "or the thread slept again)";
  if (m.accepted) o << "; " << num(double(m.wakeups) / double(m.accepted), 1) << " per connection accepted";
  o << "\n";
  if (m.threads.size() > 1) {  // the threaded strategies: how the work and the wake-ups spread
    o << "  threads       woken (for nothing), accepted, requests, CPU\n";
    for (const ThreadMetrics& t : m.threads)
      o << "    " << t.name << std::string(t.name.size() < 12 ? 12 - t.name.size() : 0, ' ') << " " << num(double(t.wakeups))
        << " (" << num(double(t.wasted_wakeups)) << "), " << num(double(t.accepted)) << ", " << num(double(t.requests))
        << ", " << ms(t.cpu_ns) << "\n";
  }
  o << "  softirq       NET_RX runs " << num(double(m.softirq_net_rx)) << ", packets " << num(double(m.softirq_packets))
    << ", time_squeeze " << num(double(m.time_squeeze)) << ", NIC drops " << num(double(m.nic_drops)) << "\n";
  o << "  CPU time      user " << ms(m.cpu_user_ns) << " (" << pct(m.cpu_user_ns, total) << "), system "
    << ms(m.cpu_system_ns) << " (" << pct(m.cpu_system_ns, total) << "), softirq " << ms(m.cpu_softirq_ns) << " ("
    << pct(m.cpu_softirq_ns, total) << "), idle " << ms(m.cpu_idle_ns) << " (" << pct(m.cpu_idle_ns, total)
    << "), neighbours " << ms(m.cpu_background_ns) << " (" << pct(m.cpu_background_ns, total) << ")\n";
  return o.str();
}

std::string format_table(const std::vector<std::string>& labels, const std::vector<Metrics>& ms_,
                         bool with_ratio) {
  struct Row { std::string name; std::function<double(const Metrics&)> f; int decimals; };
  auto per_req = [](double v, const Metrics& m) { return m.requests_completed ? v / double(m.requests_completed) : 0.0; };
  std::vector<Row> rows = {
      {"requests completed", [](const Metrics& m) { return double(m.requests_completed); }, 0},
      {"requests failed", [](const Metrics& m) { return double(m.requests_failed); }, 0},
      {"throughput (req/s)", [](const Metrics& m) { return m.throughput_rps; }, 1},
      {"latency p50 (us)", [](const Metrics& m) { return double(m.latency_p50_us); }, 0},
      {"latency p90 (us)", [](const Metrics& m) { return double(m.latency_p90_us); }, 0},
      {"latency p99 (us)", [](const Metrics& m) { return double(m.latency_p99_us); }, 0},
      {"latency max (us)", [](const Metrics& m) { return double(m.latency_max_us); }, 0},
      {"syscalls", [](const Metrics& m) { return double(m.syscalls_total()); }, 0},
      {"loop syscalls / request", [=](const Metrics& m) { return per_req(loop_syscalls(m), m); }, 1},
      {"recvfrom", [](const Metrics& m) { return double(sc_count(m, "recvfrom")); }, 0},
      {"select + poll", [](const Metrics& m) { return double(sc_count(m, "select") + sc_count(m, "poll")); }, 0},
      {"epoll_wait", [](const Metrics& m) { return double(sc_count(m, "epoll_wait")); }, 0},
      {"EAGAIN", [](const Metrics& m) { return double(m.eagain); }, 0},
      {"fds scanned", [](const Metrics& m) { return double(m.fds_scanned); }, 0},
      {"fds scanned / request", [=](const Metrics& m) { return per_req(double(m.fds_scanned), m); }, 1},
      {"ctx switches, voluntary", [](const Metrics& m) { return double(m.ctx_voluntary); }, 0},
      {"ctx switches, involuntary", [](const Metrics& m) { return double(m.ctx_involuntary); }, 0},
      {"wake-ups", [](const Metrics& m) { return double(m.wakeups); }, 0},
      {"wake-ups for nothing", [](const Metrics& m) { return double(m.wasted_wakeups); }, 0},
      {"wake-ups / connection", [](const Metrics& m) { return m.accepted ? double(m.wakeups) / double(m.accepted) : 0.0; }, 1},
      {"NET_RX softirq runs", [](const Metrics& m) { return double(m.softirq_net_rx); }, 0},
      {"CPU user (ms)", [](const Metrics& m) { return double(m.cpu_user_ns) / 1e6; }, 2},
      {"CPU system (ms)", [](const Metrics& m) { return double(m.cpu_system_ns) / 1e6; }, 2},
      {"CPU softirq (ms)", [](const Metrics& m) { return double(m.cpu_softirq_ns) / 1e6; }, 2},
      {"CPU idle (ms)", [](const Metrics& m) { return double(m.cpu_idle_ns) / 1e6; }, 2},
      {"CPU neighbours (ms)", [](const Metrics& m) { return double(m.cpu_background_ns) / 1e6; }, 2},
  };
  std::vector<std::vector<std::string>> cells;
  std::vector<std::string> head = {""};
  head.insert(head.end(), labels.begin(), labels.end());
  if (with_ratio && ms_.size() == 2) head.push_back(labels[1] + " / " + labels[0]);
  cells.push_back(head);
  for (const Row& r : rows) {
    std::vector<std::string> line = {r.name};
    for (const Metrics& m : ms_) line.push_back(num(r.f(m), r.decimals));
    if (with_ratio && ms_.size() == 2) {
      double a = r.f(ms_[0]), b = r.f(ms_[1]);
      line.push_back(a != 0 ? num(b / a, 2) + "x" : (b == 0 ? "=" : "-"));
    }
    cells.push_back(line);
  }
  std::vector<std::size_t> width(head.size(), 0);
  for (auto& line : cells)
    for (std::size_t i = 0; i < line.size(); i++) width[i] = std::max(width[i], line[i].size());
  std::ostringstream o;
  for (auto& line : cells) {
    for (std::size_t i = 0; i < line.size(); i++) {
      if (i == 0) o << line[i] << std::string(width[i] - line[i].size(), ' ');
      else o << "  " << std::string(width[i] - line[i].size(), ' ') << line[i];
    }
    o << "\n";
  }
  return o.str();
}

void register_sim_commands(CLI::App& app, std::vector<Command>& out) {
  // ---- run ----
  {
    auto* cmd = app.add_subcommand("run", "Simulate a scenario and print what happened");
    auto o = std::make_shared<std::tuple<std::string, std::string, long long, std::string, std::string, std::string, bool, bool, std::string>>();
    auto& [path, strategy, seed, json, trace, chrome, predict, reveal, costs] = *o;
    seed = -1;
    cmd->add_option("SCENARIO", path, "A lesson file (or a lesson's name, e.g. 05-epoll)")->required();
    cmd->add_option("--strategy", strategy, "Override the server program: " + strategy_names());
    cmd->add_option("--seed", seed, "Override the seed")->check(CLI::NonNegativeNumber);
    cmd->add_option("--json", json, "Write the metrics as JSON to PATH (- for stdout)");
    cmd->add_option("--trace", trace, "Save the trace to PATH (plays back in the GUI)");
    cmd->add_option("--chrome-trace", chrome, "Export Chrome Trace Event JSON to PATH (opens in Perfetto)");
    cmd->add_flag("--predict", predict, "Hide the numbers: guess first, then run again with --reveal");
    cmd->add_flag("--reveal", reveal, "Show the numbers (after --predict)");
    cmd->add_option("--costs", costs, kCostsHelp);
    auto budget = std::make_shared<BudgetFlags>();
    add_budget_flags(cmd, *budget);
    out.push_back({cmd, [o, budget] {
      auto& [path, strategy, seed, json, trace_path, chrome, predict, reveal, costs] = *o;
      Scenario sc = load_or_exit(path);
      apply_overrides(sc, strategy, seed);
      apply_costs_file(sc, costs);
      bool keep = !trace_path.empty() || !chrome.empty();
      check_budget_or_exit(sc, keep ? Record::Trace : Record::MetricsOnly, *budget);
      Trace tr;
      Metrics m = run_model(sc, keep, keep ? &tr : nullptr);
      if (!trace_path.empty()) write_trace_file(tr, trace_path);
      if (!chrome.empty()) {
        std::ofstream f(chrome);
        if (!f) { std::cerr << "epollscope-cli: cannot write " << chrome << "\n"; return kExitFailed; }
        write_chrome_trace(tr, f);
      }
      if (!json.empty()) write_json_out(json, to_json(m).dump(2));
      if (json == "-") return kExitOk;
      if (predict && !reveal) {
        std::cout << m.scenario << " — " << m.strategy << ", seed " << m.seed << "\n"
                  << "Before you look, predict (docs/kernel.md §2 tells you enough):\n"
                  << "  1. How many recvfrom calls will the server make for " << m.requests_sent << " requests?\n"
                  << "  2. How many of them return EAGAIN?\n"
                  << "  3. How many voluntary context switches (the server going to sleep)?\n"
                  << "  4. How many fds are examined in total (select/poll scans, ep_send_events items)?\n"
                  << "  5. What share of the CPU stays idle?\n"
                  << "Then run the same command with --reveal.\n";
        return kExitOk;
      }
      std::cout << format_summary(m);
      if (predict && reveal)
        std::cout << "  answers       recvfrom " << num(double(sc_count(m, "recvfrom"))) << ", EAGAIN "
                  << num(double(m.eagain)) << ", voluntary switches " << num(double(m.ctx_voluntary))
                  << ", fds examined " << num(double(m.fds_scanned)) << ", idle " << pct(m.cpu_idle_ns, cpu_total(m))
                  << "\n";
      for (const auto& [k, v] : m.failed_by_reason)
        if (k == "refused")
          std::cout << "  note          select cannot watch an fd >= FD_SETSIZE (1024): the server closed "
                       "the connections past it\n";
      return kExitOk;
    }});
  }
  // ---- compare ----
  {
    auto* cmd = app.add_subcommand("compare", "Simulate one scenario under several strategies, side by side");
    auto o = std::make_shared<std::tuple<std::string, std::vector<std::string>, std::string, long long, std::string>>();
    auto& [path, strategies, json, seed, costs] = *o;
    seed = -1;
    cmd->add_option("SCENARIO", path, "A lesson file (or a lesson's name)")->required();
    cmd->add_option("--strategies", strategies, "Comma-separated list (default: all)")->delimiter(',');
    cmd->add_option("--seed", seed, "Override the seed")->check(CLI::NonNegativeNumber);
    cmd->add_option("--json", json, "Write the metrics (an array) as JSON to PATH (- for stdout)");
    cmd->add_option("--costs", costs, kCostsHelp);
    auto budget = std::make_shared<BudgetFlags>();
    add_budget_flags(cmd, *budget);
    out.push_back({cmd, [o, budget] {
      auto& [path, strategies, json, seed, costs] = *o;
      Scenario base = load_or_exit(path);
      apply_overrides(base, "", seed);
      apply_costs_file(base, costs);
      std::vector<Strategy> list;
      for (const std::string& s : strategies) {
        auto st = parse_strategy(s);
        if (!st) {
          std::cerr << "epollscope-cli: --strategies: unknown strategy '" << s << "' (" << strategy_names()
                    << ")\n";
          return kExitUsage;
        }
        list.push_back(*st);
      }
      if (list.empty()) list = all_strategies();
      std::vector<Metrics> ms;
      std::vector<std::string> labels;
      std::vector<std::string> skipped;
      // Each strategy is its own run, metrics only: one over the budget (busy-poll spinning
      // through a long run) is left out with a note; when every one is, nothing runs.
      std::vector<Strategy> within;
      std::string refused;
      for (Strategy s : list) {
        Scenario sc = base;
        sc.strategy = s;
        try {
          check_budget(sc, Record::MetricsOnly, budget_of(*budget));
          within.push_back(s);
        } catch (const BudgetError& e) {
          if (refused.empty()) refused = e.what();
          skipped.push_back(std::string(strategy_name(s)) + ": " + e.key() + ": " + e.message());
        }
      }
      if (within.empty()) {
        std::cerr << "epollscope-cli: " << refused << "\n";
        return kExitUsage;
      }
      for (Strategy s : within) {
        Scenario sc = base;
        sc.strategy = s;
        try {
          ms.push_back(run_model(sc, false, nullptr));
          labels.emplace_back(strategy_name(s));
        } catch (const ScenarioError& e) {
          skipped.push_back(std::string(strategy_name(s)) + ": " + e.message());
        }
      }
      if (!json.empty()) {
        nlohmann::json arr = nlohmann::json::array();
        for (const Metrics& m : ms) arr.push_back(to_json(m));
        write_json_out(json, arr.dump(2));
        if (json == "-") return kExitOk;
      }
      std::cout << base.title << " — seed " << base.seed << ", " << base.total_connections() << " connections, "
                << base.cpus << " CPU" << (base.cpus > 1 ? "s" : "") << " (simulated)\n\n";
      std::cout << format_table(labels, ms);
      auto notes = what_stands_out(ms);
      for (const auto& s : skipped) notes.push_back("skipped " + s);
      if (!notes.empty()) {
        std::cout << "\nWhat stands out:\n";
        for (const auto& n : notes) std::cout << "  - " << n << "\n";
      }
      return kExitOk;
    }});
  }
  // ---- validate ----
  {
    auto* cmd = app.add_subcommand("validate", "Check scenario files; name file, line and key of each problem");
    auto paths = std::make_shared<std::vector<std::string>>();
    cmd->add_option("SCENARIO", *paths, "Scenario files")->required();
    out.push_back({cmd, [paths] {
      int bad = 0;
      for (const std::string& p : *paths) {
        try {
          Scenario sc = load_scenario(resolve(p));
          std::cout << "ok: " << sc.path << " — " << sc.title << "\n";
        } catch (const ScenarioError& e) {
          std::cerr << e.what() << "\n";
          bad++;
        }
      }
      return bad ? kExitUsage : kExitOk;
    }});
  }
  // ---- list ----
  {
    auto* cmd = app.add_subcommand("list", "List the lessons and the strategies");
    out.push_back({cmd, [] {
      std::vector<fs::path> files;
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(lessons_dir(), ec))
        if (e.path().extension() == ".toml") files.push_back(e.path());
      std::sort(files.begin(), files.end());
      std::cout << "Lessons (" << lessons_dir() << "):\n";
      for (const fs::path& f : files) {
        try {
          Scenario sc = load_scenario(f.string());
          std::string d = sc.description.substr(0, sc.description.find('\n'));
          std::cout << "  " << f.stem().string() << "  " << sc.title << "  [" << strategy_name(sc.strategy) << "]\n";
          if (!d.empty()) std::cout << "      " << d << "\n";
        } catch (const ScenarioError& e) {
          std::cout << "  " << f.stem().string() << "  (broken: " << e.what() << ")\n";
        }
      }
      std::cout << "Strategies:\n";
      for (Strategy s : all_strategies()) std::cout << "  " << strategy_name(s) << "\n";
      return kExitOk;
    }});
  }
}

}  // namespace eps::cli
