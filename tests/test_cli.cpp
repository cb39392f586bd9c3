// Tests for the command line (ui/cli_main.cpp, ui/cli_sim.cpp): the binary is run as a user
// would run it, and its exit code, stdout and stderr are checked.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/metrics.h"
#include "sim/scenario.h"
#include "sim/trace_io.h"

#ifndef EPS_SOURCE_DIR
#define EPS_SOURCE_DIR "."
#endif

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Result {
  int code = -1;        // exit code; -1 if it did not exit normally (a signal)
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

// A fresh directory under the system temp dir, removed when the test ends.
struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> n{0};
    path = fs::temp_directory_path() /
           ("eps-test-cli-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// Runs the CLI with `args` (and extra environment variables "NAME=value"); stdout and stderr
// go to files, so no pipe can fill up and deadlock. `limited`: the child gets 10 s of CPU and
// 1 GiB of address space, so that a run that should have been refused fails fast, not slowly.
Result run_cli(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
               bool limited = false) {
  TempDir tmp;
  const std::string out_path = tmp.file("stdout"), err_path = tmp.file("stderr");
  std::vector<std::string> argv_s = {EPS_CLI_PATH};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int o = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (o < 0 || e < 0) ::_exit(126);
    ::dup2(o, 1);
    ::dup2(e, 2);
    if (limited) {
      const rlimit cpu{10, 10}, as{rlim_t(1) << 30, rlim_t(1) << 30};
      ::setrlimit(RLIMIT_CPU, &cpu);
      ::setrlimit(RLIMIT_AS, &as);
    }
    for (const std::string& kv : env) {
      auto eq = kv.find('=');
      ::setenv(kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str(), 1);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  Result r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  INFO("epollscope-cli exit " << r.code << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err);
  REQUIRE(r.code != 127);  // the binary could not be executed
  return r;
}

std::string fixture(const std::string& name) {
  return std::string(EPS_SOURCE_DIR) + "/tests/data/cli/" + name;
}

// Every strategy, from the table: a new one is covered (and a stale message caught) by default.
const std::vector<std::string> kStrategies = [] {
  std::vector<std::string> v;
  for (eps::Strategy s : eps::all_strategies()) v.emplace_back(eps::strategy_name(s));
  return v;
}();

json parse_json(const std::string& text) {
  INFO("text:\n" << text);
  json j;
  REQUIRE_NOTHROW(j = json::parse(text));
  return j;
}

}  // namespace

TEST_CASE("cli: --version exits 0 and prints the version", "[cli]") {
  Result r = run_cli({"--version"});
  CHECK(r.code == 0);
  CHECK(r.out.find(EPS_VERSION) != std::string::npos);
}

TEST_CASE("run prints a summary of the one-request scenario", "[cli]") {
  Result r = run_cli({"run", fixture("one_request.toml")});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("one request") != std::string::npos);  // the title
  CHECK(r.out.find("epoll") != std::string::npos);        // the strategy
  CHECK(r.out.find("sent 1, completed 1, failed 0") != std::string::npos);
  CHECK(r.err.empty());
}

TEST_CASE("run --json - prints the metrics schema", "[cli]") {
  Result r = run_cli({"run", fixture("one_request.toml"), "--json", "-"});
  REQUIRE(r.code == 0);
  json j = parse_json(r.out);
  CHECK(j.at("source") == "sim");
  CHECK(j.at("scenario") == "one request");
  CHECK(j.at("strategy") == "epoll");
  CHECK(j.at("seed") == 1);
  // The fixture: one connection, closed loop, one request.
  CHECK(j.at("requests").at("sent") == 1);
  CHECK(j.at("requests").at("completed") == 1);
  CHECK(j.at("requests").at("failed") == 0);
  CHECK(j.at("requests").at("failed_by_reason").is_object());
  const json& lat = j.at("latency_us");
  CHECK(lat.at("p50").get<long long>() <= lat.at("p99").get<long long>());
  CHECK(lat.at("p99").get<long long>() <= lat.at("max").get<long long>());
  CHECK(lat.at("p50").get<long long>() > 0);  // a request takes time: wire both ways + work
  // Every syscall counted by name adds up to the total.
  const json& sc = j.at("syscalls");
  std::uint64_t sum = 0;
  for (auto& [name, n] : sc.at("by_name").items()) sum += n.get<std::uint64_t>();
  CHECK(sc.at("total").get<std::uint64_t>() == sum);
  CHECK(sc.at("by_name").at("recvfrom").get<int>() >= 1);
  CHECK(sc.at("by_name").at("sendto") == 1);  // one reply
  CHECK(sc.at("by_name").at("epoll_create1") == 1);
  // One CPU: its time is split among the modes and adds up to the run's duration.
  const json& cpu = j.at("cpu_ns");
  long long cpu_sum = 0;
  for (const char* k : {"user", "system", "softirq", "idle", "background"})
    cpu_sum += cpu.at(k).get<long long>();
  CHECK(cpu_sum == j.at("duration_ns").get<long long>());
  CHECK(cpu.at("user").get<long long>() > 0);
  CHECK(j.at("events").get<long long>() > 0);
  CHECK(j.contains("context_switches"));
  CHECK(j.contains("eagain"));
  CHECK(j.contains("fds_scanned"));
  // The JSON reads back into Metrics and writes out the same.
  eps::Metrics m;
  REQUIRE_NOTHROW(m = eps::metrics_from_json(j));
  CHECK(eps::to_json(m) == j);
}

TEST_CASE("the same run twice gives byte-identical JSON", "[cli]") {
  for (const char* strategy : {"select", "epoll-et", "blocking"}) {
    INFO("strategy " << strategy);
    Result a = run_cli({"run", fixture("small_mix.toml"), "--strategy", strategy, "--json", "-"});
    Result b = run_cli({"run", fixture("small_mix.toml"), "--strategy", strategy, "--json", "-"});
    REQUIRE(a.code == 0);
    REQUIRE(b.code == 0);
    CHECK(parse_json(a.out).at("strategy") == strategy);
    CHECK(a.out == b.out);
  }
  // A different seed is a different run (so the equality above is not vacuous): the fixture
  // is closed loop, so use an open-loop override through a fixture with Poisson arrivals.
  Result s1 = run_cli({"run", fixture("open_loop.toml"), "--json", "-", "--seed", "1"});
  Result s2 = run_cli({"run", fixture("open_loop.toml"), "--json", "-", "--seed", "2"});
  REQUIRE(s1.code == 0);
  REQUIRE(s2.code == 0);
  CHECK(parse_json(s1.out).at("seed") == 1);
  CHECK(parse_json(s2.out).at("seed") == 2);
  CHECK(s1.out != s2.out);
}

TEST_CASE("run --strategy nope is a usage error listing the strategies", "[cli]") {
  Result r = run_cli({"run", fixture("one_request.toml"), "--strategy", "nope"});
  CHECK(r.code == 2);
  CHECK(r.err.find("nope") != std::string::npos);
  for (const auto& s : kStrategies) CHECK(r.err.find(s) != std::string::npos);
  CHECK(r.out.find("completed") == std::string::npos);  // nothing ran
}

TEST_CASE("an unknown flag is a usage error", "[cli]") {
  Result r = run_cli({"run", fixture("one_request.toml"), "--bogus"});
  CHECK(r.code == 2);
  CHECK(r.err.find("--bogus") != std::string::npos);
  CHECK(r.out.find("completed") == std::string::npos);
}

// The brief for the CLI asks that a usage error shows the usage, not only a pointer to --help.
TEST_CASE("an unknown flag prints the usage", "[cli][!mayfail]") {
  Result r = run_cli({"run", fixture("one_request.toml"), "--bogus"});
  CHECK(r.code == 2);
  CHECK((r.err + r.out).find("Usage") != std::string::npos);
}

TEST_CASE("no subcommand is a usage error", "[cli]") {
  Result r = run_cli({});
  CHECK(r.code == 2);
  CHECK(!r.err.empty());
}

TEST_CASE("a missing scenario file is a usage error naming the path", "[cli]") {
  TempDir tmp;
  const std::string path = tmp.file("no-such-lesson.toml");
  Result r = run_cli({"run", path});
  CHECK(r.code == 2);
  CHECK(r.err.find(path) != std::string::npos);
  Result v = run_cli({"validate", path});
  CHECK(v.code == 2);
  CHECK(v.err.find(path) != std::string::npos);
}

TEST_CASE("a bad scenario names file, line and key", "[cli]") {
  const std::string path = fixture("bad_unknown_key.toml");
  Result r = run_cli({"run", path});
  CHECK(r.code == 2);
  // The typo sits on line 5 of the fixture, in the [server] table.
  CHECK(r.err.find(path + ":5:") != std::string::npos);
  CHECK(r.err.find("stratgey") != std::string::npos);
  CHECK(r.out.find("completed") == std::string::npos);
}

TEST_CASE("validate: good files exit 0, any bad file exits 2", "[cli]") {
  Result good = run_cli({"validate", fixture("one_request.toml"), fixture("small_mix.toml")});
  CHECK(good.code == 0);
  CHECK(good.out.find("one request") != std::string::npos);
  CHECK(good.out.find("small mix") != std::string::npos);
  CHECK(good.err.empty());

  Result bad = run_cli({"validate", fixture("bad_unknown_key.toml")});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("bad_unknown_key.toml:5:") != std::string::npos);

  // One bad among good ones still fails, and the good one is still reported.
  Result mixed = run_cli({"validate", fixture("one_request.toml"), fixture("bad_unknown_key.toml")});
  CHECK(mixed.code == 2);
  CHECK(mixed.out.find("one request") != std::string::npos);
  CHECK(mixed.err.find("stratgey") != std::string::npos);
}

TEST_CASE("compare prints one column per strategy and what stands out", "[cli]") {
  Result r = run_cli({"compare", fixture("small_mix.toml")});
  REQUIRE(r.code == 0);
  // The header row of the table: all six, in the documented order (Strategy's order).
  std::istringstream lines(r.out);
  std::string line, header;
  while (std::getline(lines, line))
    if (line.find("blocking") != std::string::npos && line.find("epoll-et") != std::string::npos) {
      header = line;
      break;
    }
  INFO(r.out);
  REQUIRE(!header.empty());
  std::size_t at = 0;
  for (const auto& s : kStrategies) {
    std::size_t p = header.find(" " + s, at);
    CHECK(p != std::string::npos);
    if (p != std::string::npos) at = p + 1;
  }
  CHECK(r.out.find("What stands out") != std::string::npos);
  CHECK(r.out.find("requests completed") != std::string::npos);
}

TEST_CASE("compare --strategies select,epoll --json - is an array of two", "[cli]") {
  Result r = run_cli({"compare", fixture("small_mix.toml"), "--strategies", "select,epoll", "--json", "-"});
  REQUIRE(r.code == 0);
  json j = parse_json(r.out);
  REQUIRE(j.is_array());
  REQUIRE(j.size() == 2);
  CHECK(j[0].at("strategy") == "select");
  CHECK(j[1].at("strategy") == "epoll");
  for (const json& m : j) {
    CHECK(m.at("source") == "sim");
    CHECK(m.at("requests").at("sent") == 12);  // 4 connections x 3 requests
  }
  // compare runs the same model as run: the select column equals `run --strategy select`.
  Result one = run_cli({"run", fixture("small_mix.toml"), "--strategy", "select", "--json", "-"});
  REQUIRE(one.code == 0);
  CHECK(parse_json(one.out) == j[0]);

  Result bad = run_cli({"compare", fixture("small_mix.toml"), "--strategies", "select,nope"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("nope") != std::string::npos);
}

TEST_CASE("run --trace saves a trace that loads with the metrics' event count", "[cli]") {
  TempDir tmp;
  const std::string path = tmp.file("run.epstrace");
  Result r = run_cli({"run", fixture("small_mix.toml"), "--trace", path, "--json", "-"});
  REQUIRE(r.code == 0);
  json j = parse_json(r.out);
  eps::Trace tr;
  REQUIRE_NOTHROW(tr = eps::read_trace_file(path));
  CHECK(tr.events.size() == j.at("events").get<std::size_t>());
  CHECK(tr.events.size() > 0);
  CHECK(tr.strategy == eps::Strategy::Select);
  CHECK(tr.scenario_title == "small mix");
  CHECK(tr.seed == 7);
  CHECK(tr.connections == 4);
  CHECK(tr.end_ns == j.at("duration_ns").get<std::int64_t>());
}

TEST_CASE("run --chrome-trace writes parseable JSON", "[cli]") {
  TempDir tmp;
  const std::string path = tmp.file("run.json");
  Result r = run_cli({"run", fixture("one_request.toml"), "--chrome-trace", path});
  REQUIRE(r.code == 0);
  json j = parse_json(slurp(path));
  REQUIRE(j.contains("traceEvents"));
  CHECK(j.at("traceEvents").is_array());
  CHECK(j.at("traceEvents").size() > 0);
  // It still prints the summary.
  CHECK(r.out.find("completed 1") != std::string::npos);

  Result bad = run_cli({"run", fixture("one_request.toml"), "--chrome-trace", tmp.file("no/such/dir/x.json")});
  CHECK(bad.code == 1);
  CHECK(bad.err.find("no/such/dir/x.json") != std::string::npos);
}

TEST_CASE("cli: --predict hides the numbers, --reveal shows them", "[cli]") {
  Result p = run_cli({"run", fixture("small_mix.toml"), "--predict"});
  REQUIRE(p.code == 0);
  CHECK(p.out.find("predict") != std::string::npos);
  CHECK(p.out.find("docs/kernel.md §2") != std::string::npos);  // where to read up first
  CHECK(p.out.find("completed") == std::string::npos);
  CHECK(p.out.find("latency") == std::string::npos);
  CHECK(p.out.find("EAGAIN ") == std::string::npos);
  CHECK(p.out.find("--reveal") != std::string::npos);

  Result v = run_cli({"run", fixture("small_mix.toml"), "--predict", "--reveal"});
  REQUIRE(v.code == 0);
  CHECK(v.out.find("completed 12") != std::string::npos);
  CHECK(v.out.find("answers") != std::string::npos);
  // The revealed recvfrom count is the one the metrics report.
  Result js = run_cli({"run", fixture("small_mix.toml"), "--json", "-"});
  REQUIRE(js.code == 0);
  auto recv = parse_json(js.out).at("syscalls").at("by_name").at("recvfrom").get<int>();
  CHECK(v.out.find("recvfrom " + std::to_string(recv) + ",") != std::string::npos);
}

TEST_CASE("list names the strategies", "[cli]") {
  Result r = run_cli({"list"});
  REQUIRE(r.code == 0);
  auto at = r.out.find("Strategies");
  REQUIRE(at != std::string::npos);
  for (const auto& s : kStrategies) CHECK(r.out.find("  " + s + "\n", at) != std::string::npos);
}

TEST_CASE("run --json PATH writes the file and still prints the summary", "[cli]") {
  TempDir tmp;
  const std::string path = tmp.file("m.json");
  Result r = run_cli({"run", fixture("small_mix.toml"), "--json", path});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("completed 12") != std::string::npos);
  json j = parse_json(slurp(path));
  CHECK(j.at("requests").at("completed") == 12);
  // The same metrics as --json - prints.
  Result s = run_cli({"run", fixture("small_mix.toml"), "--json", "-"});
  REQUIRE(s.code == 0);
  CHECK(parse_json(s.out) == j);
}

TEST_CASE("run --trace to an unwritable path fails naming it", "[cli]") {
  TempDir tmp;
  const std::string path = tmp.file("no/such/dir/t.epstrace");
  Result r = run_cli({"run", fixture("one_request.toml"), "--trace", path});
  CHECK(r.code == 1);
  CHECK(r.err.find(path) != std::string::npos);
}

TEST_CASE("a lesson can be named without its path", "[cli]") {
  // `run NAME` looks in EPOLLSCOPE_SCENARIOS (else scenarios/) when NAME is not a file here.
  const std::string dir = "EPOLLSCOPE_SCENARIOS=" + std::string(EPS_SOURCE_DIR) + "/tests/data/cli";
  Result r = run_cli({"run", "one_request", "--json", "-"}, {dir});
  REQUIRE(r.code == 0);
  CHECK(parse_json(r.out).at("scenario") == "one request");
  Result l = run_cli({"list"}, {dir});
  REQUIRE(l.code == 0);
  CHECK(l.out.find("one_request  one request  [epoll]") != std::string::npos);
  CHECK(l.out.find("small_mix  small mix  [select]") != std::string::npos);
  CHECK(l.out.find("bad_unknown_key  (broken: ") != std::string::npos);
  // Without the directory, the bare name is just a missing file.
  Result m = run_cli({"run", "one_request"}, {"EPOLLSCOPE_SCENARIOS=" + std::string(EPS_SOURCE_DIR) + "/tests/data/none"});
  CHECK(m.code == 2);
  CHECK(m.err.find("one_request") != std::string::npos);
}

TEST_CASE("run --costs replaces the model's costs from a file", "[cli]") {
  // The file sets syscall_ns = 1000 (default 100), each half of a syscall 500 instead of 50.
  // The epoll one-request timeline (test_sim_tiny.cpp) makes 6 whole syscalls (epoll_create1,
  // accept4, epoll_ctl, epoll_wait, recvfrom, sendto) and enters a 7th (epoll_wait, asleep at
  // the end): 13 halves, each 450 ns longer. Its system time 11,663 grows by 5,850; user time
  // (20,000) does not move.
  Result base = run_cli({"run", fixture("one_request.toml"), "--json", "-"});
  Result slow = run_cli({"run", fixture("one_request.toml"), "--json", "-", "--costs",
                         std::string(EPS_SOURCE_DIR) + "/tests/data/costs_slow_syscalls.toml"});
  REQUIRE(base.code == 0);
  REQUIRE(slow.code == 0);
  json b = parse_json(base.out), s = parse_json(slow.out);
  CHECK(b.at("cpu_ns").at("system") == 11663);
  CHECK(s.at("cpu_ns").at("system") == 11663 + 13 * 450);
  CHECK(s.at("cpu_ns").at("user") == 20000);
  CHECK(s.at("syscalls") == b.at("syscalls"));  // the same calls, only slower

  // compare takes it too
  Result cmp = run_cli({"compare", fixture("one_request.toml"), "--strategies", "epoll", "--json", "-", "--costs",
                        std::string(EPS_SOURCE_DIR) + "/tests/data/costs_slow_syscalls.toml"});
  REQUIRE(cmp.code == 0);
  CHECK(parse_json(cmp.out).at(0).at("cpu_ns").at("system") == 11663 + 13 * 450);
}

TEST_CASE("run --costs with a bad file: file, line and key, exit 2", "[cli]") {
  TempDir tmp;
  const std::string bad = tmp.file("costs.toml");
  std::ofstream(bad) << "[costs]\nsyscall_ns = 100\nwakup_ns = 3\n";
  Result r = run_cli({"run", fixture("one_request.toml"), "--costs", bad});
  CHECK(r.code == 2);
  CHECK(r.err.find(bad + ":3: costs.wakup_ns: unknown key; did you mean `wakeup_ns`?") != std::string::npos);
  Result missing = run_cli({"run", fixture("one_request.toml"), "--costs", tmp.file("nope.toml")});
  CHECK(missing.code == 2);
  CHECK(missing.err.find("cannot read") != std::string::npos);
}

// ---- the run budget (sim/budget.h) ----

namespace {
std::string budget_fixture(const std::string& name) {
  return std::string(EPS_SOURCE_DIR) + "/tests/data/budget/" + name;
}
}  // namespace

TEST_CASE("run: every key at its maximum is refused in well under a second, naming the keys", "[cli][budget]") {
  const std::string path = budget_fixture("all_max.toml");
  TempDir tmp;
  for (bool with_trace : {false, true}) {
    INFO("with a trace: " << with_trace);
    std::vector<std::string> args = {"run", path};
    if (with_trace) args.insert(args.end(), {"--trace", tmp.file("t.trace")});
    const auto t0 = std::chrono::steady_clock::now();
    Result r = run_cli(args, {}, /*limited=*/true);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(r.code == 2);
    CHECK(seconds < 1.0);
    CHECK(r.out.empty());
    // One line: FILE: KEYS: what it would cost; the limit; the way past it.
    CHECK(r.err.rfind("epollscope-cli: " + path + ": clients[1].rate_per_s, clients[1].connections, duration_ms: this run would ",
                      0) == 0);
    CHECK(r.err.find('\n') == r.err.size() - 1);
    CHECK(r.err.find("the limit is ") != std::string::npos);
    CHECK(r.err.find("--allow-big") != std::string::npos);
    if (with_trace) {
      CHECK(r.err.find("would record about ") != std::string::npos);
      CHECK(!fs::exists(tmp.file("t.trace")));
    }
  }
  Result c = run_cli({"compare", path}, {}, /*limited=*/true);
  CHECK(c.code == 2);
  CHECK(c.err.find("clients[1].rate_per_s, clients[1].connections, duration_ms: this run would ") != std::string::npos);
}

TEST_CASE("run --max-events: a run just over it is refused, and --allow-big or a higher limit runs it", "[cli][budget]") {
  // The one-blocking-reader lesson: five requests, ~240 events estimated.
  const std::string lesson = std::string(EPS_SOURCE_DIR) + "/scenarios/01-one-blocking-reader.toml";
  Result tight = run_cli({"run", lesson, "--max-events", "200"});
  CHECK(tight.code == 2);
  CHECK(tight.err.find(lesson + ": clients[1].requests, clients[1].connections: this run would simulate about ") !=
        std::string::npos);
  CHECK(tight.err.find("the limit is 200 ") != std::string::npos);
  CHECK(tight.out.empty());
  Result traced = run_cli({"run", lesson, "--max-events", "200", "--chrome-trace", "/dev/null"});
  CHECK(traced.code == 2);
  CHECK(traced.err.find("this run would record about ") != std::string::npos);

  Result allowed = run_cli({"run", lesson, "--max-events", "200", "--allow-big"});
  CHECK(allowed.code == 0);
  CHECK(allowed.out.find("sent 5, completed 5, failed 0") != std::string::npos);
  Result raised = run_cli({"run", lesson, "--max-events", "400"});
  CHECK(raised.code == 0);
  CHECK(raised.out == allowed.out);

  Result bad = run_cli({"run", lesson, "--max-events", "-3"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("--max-events") != std::string::npos);
}

TEST_CASE("compare leaves out a strategy over the budget, with the reason", "[cli][budget]") {
  // In the crowd lesson busy-poll spins through ~1.2 million events, epoll needs ~21,000.
  Result r = run_cli({"compare", "04-select-crowd", "--strategies", "busy-poll,epoll", "--max-events", "300000"});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("skipped busy-poll: server.strategy, duration_ms: this run would simulate about ") !=
        std::string::npos);
  CHECK(r.out.find("requests completed") != std::string::npos);
  Result all = run_cli({"compare", "04-select-crowd", "--strategies", "busy-poll,epoll", "--max-events", "300000",
                        "--allow-big", "--json", "-"});
  REQUIRE(all.code == 0);
  CHECK(parse_json(all.out).size() == 2);
}

TEST_CASE("run: a loop that costs no simulated time is refused even with --allow-big", "[cli][budget]") {
  Result r = run_cli({"run", budget_fixture("zero_cost_spin.toml"), "--allow-big"}, {}, /*limited=*/true);
  CHECK(r.code == 2);
  CHECK(r.err.find("zero_cost_spin.toml: costs.syscall_ns: this run would never end") != std::string::npos);
}

#ifdef EPS_HAVE_LIVE
TEST_CASE("versus refuses a model run over the budget before the live side starts", "[cli][budget]") {
  const auto t0 = std::chrono::steady_clock::now();
  Result r = run_cli({"versus", budget_fixture("all_max.toml")}, {}, /*limited=*/true);
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 1.0);
  CHECK(r.code == 2);
  CHECK(r.err.find("clients[1].rate_per_s, clients[1].connections, duration_ms: this run would ") != std::string::npos);
}
#endif
