// The live subcommands, run as a user would: `live`, `versus`, `serve` (and redis-benchmark
// against it, for every strategy). Each child process is bounded by a timeout.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sim/metrics.h"
#include "sim/trace_io.h"

namespace {

struct Child {
  pid_t pid = -1;
  int out = -1, err = -1;  // the child's stdout and stderr
  std::string out_text, err_text;
};

Child spawn(const std::vector<std::string>& args) {
  int po[2], pe[2];
  REQUIRE(pipe2(po, O_CLOEXEC) == 0);
  REQUIRE(pipe2(pe, O_CLOEXEC) == 0);
  Child c;
  c.pid = fork();
  REQUIRE(c.pid >= 0);
  if (c.pid == 0) {
    dup2(po[1], 1);
    dup2(pe[1], 2);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(po[1]);
  close(pe[1]);
  c.out = po[0];
  c.err = pe[0];
  return c;
}

// Reads what the child writes until `done(out_text)`, both pipes close, or the timeout.
// Returns done(out_text).
template <class Pred>
bool read_until(Child& c, int timeout_ms, Pred done) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done(c.out_text) && (c.out >= 0 || c.err >= 0)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up - std::chrono::steady_clock::now()).count();
    if (left <= 0) break;
    pollfd p[2] = {{c.out, POLLIN, 0}, {c.err, POLLIN, 0}};  // a negative fd is ignored
    if (poll(p, 2, int(left)) <= 0) continue;
    for (int i = 0; i < 2; i++) {
      if (!p[i].revents) continue;
      char buf[65536];
      ssize_t r = read(p[i].fd, buf, sizeof buf);
      int& fd = i == 0 ? c.out : c.err;
      if (r > 0) (i == 0 ? c.out_text : c.err_text).append(buf, std::size_t(r));
      else close(fd), fd = -1;  // EOF
    }
  }
  return done(c.out_text);
}

// Waits for the child to exit (killing it after the timeout). Returns its exit code, or -1.
int finish(Child& c, int timeout_ms) {
  read_until(c, timeout_ms, [](const std::string&) { return false; });
  int status = 0;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (waitpid(c.pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > give_up) {
      kill(c.pid, SIGKILL);
      waitpid(c.pid, &status, 0);
      if (c.out >= 0) close(c.out), c.out = -1;
      if (c.err >= 0) close(c.err), c.err = -1;
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (c.out >= 0) close(c.out), c.out = -1;
  if (c.err >= 0) close(c.err), c.err = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int run(const std::vector<std::string>& args, Child& c, int timeout_ms = 30000) {
  c = spawn(args);
  return finish(c, timeout_ms);
}

const std::string kCli = EPS_CLI_PATH;

bool have(const char* tool) {
  std::string cmd = std::string("command -v ") + tool + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

// Starts `serve` on a free port; returns the child and its address once it listens.
Child start_serve(const std::string& strategy, std::string& address, const std::vector<std::string>& more = {}) {
  std::vector<std::string> args = {kCli, "serve", "--strategy", strategy, "--port", "0"};
  args.insert(args.end(), more.begin(), more.end());
  Child c = spawn(args);
  bool up = read_until(c, 10000, [](const std::string& s) { return s.find("(Ctrl-C to stop)") != std::string::npos; });
  REQUIRE(up);
  std::size_t at = c.out_text.find(" on ");
  REQUIRE(at != std::string::npos);
  std::size_t end = c.out_text.find_first_of(", ", at + 4);
  address = c.out_text.substr(at + 4, end - at - 4);
  return c;
}

// The count of `name` in the summary's syscalls line ("... epoll_wait 1,234; ..."), or -1.
long summary_count(const std::string& summary, const std::string& name) {
  std::size_t at = summary.find(" " + name + " ");
  if (at == std::string::npos) return -1;
  std::string digits;
  for (std::size_t i = at + name.size() + 2; i < summary.size() && (isdigit(summary[i]) || summary[i] == ','); i++)
    if (summary[i] != ',') digits += summary[i];
  return digits.empty() ? -1 : std::stol(digits);
}

}  // namespace

TEST_CASE("cli live: metrics JSON on stdout, summary on stderr, traces written", "[live]") {
  const std::string chrome = "/tmp/eps-test-live-chrome.json", trace = "/tmp/eps-test-live.trace";
  Child c;
  int rc = run({kCli, "live", "tests/data/live/small.toml", "--strategy", "poll", "--json", "-",
                "--trace", trace, "--chrome-trace", chrome},
               c);
  INFO(c.err_text);
  REQUIRE(rc == 0);
  eps::Metrics m = eps::metrics_from_json(nlohmann::json::parse(c.out_text));
  CHECK(m.source == "live");
  CHECK(m.strategy == eps::Strategy::Poll);
  CHECK(m.requests_completed == m.requests_sent);
  CHECK_THAT(c.err_text, Catch::Contains("Live: small mixed load"));
  eps::Trace t = eps::read_trace_file(trace);
  CHECK(t.strategy == eps::Strategy::Poll);
  CHECK(t.events.size() > 2 * m.syscalls_total() - 1);
  std::ifstream f(chrome);
  nlohmann::json j = nlohmann::json::parse(f);
  CHECK(j.at("traceEvents").size() > 10);
  std::remove(chrome.c_str());
  std::remove(trace.c_str());
}

TEST_CASE("cli versus: the model and the live run in one table", "[live]") {
  Child c;
  int rc = run({kCli, "versus", "tests/data/live/small.toml", "--strategy", "epoll-et"}, c);
  INFO(c.err_text);
  REQUIRE(rc == 0);
  CHECK_THAT(c.out_text, Catch::Contains("model"));
  CHECK_THAT(c.out_text, Catch::Contains("live"));
  CHECK_THAT(c.out_text, Catch::Contains("requests completed"));
  CHECK_THAT(c.out_text, Catch::Contains("Why the columns differ:\n  - "));
  CHECK_THAT(c.out_text, Catch::Contains("  - CPU: user and system are the server's threads"));
  std::istringstream lines(c.out_text);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("  - ", 0) == 0 || line.rfind("    ", 0) == 0) CHECK(line.size() <= 100);  // wrapped
}

TEST_CASE("cli live: select past FD_SETSIZE is refused with exit code 2", "[live]") {
  Child c;
  int rc = run({kCli, "live", "tests/data/live/select_too_many.toml"}, c);
  CHECK(rc == 2);
  CHECK_THAT(c.err_text, Catch::Contains("FD_SETSIZE"));
}

TEST_CASE("cli serve: listens on 127.0.0.1 only, answers PING, stops cleanly on SIGTERM", "[live]") {
  std::string address;
  Child c = start_serve("epoll", address);
  CHECK(address.rfind("127.0.0.1:", 0) == 0);
  const int port = std::stoi(address.substr(address.find(':') + 1));
  // The kernel's view: the listening socket is bound to 127.0.0.1 (0100007F), not 0.0.0.0.
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  char want[32];
  std::snprintf(want, sizeof want, "0100007F:%04X", port);
  bool found = false;
  while (std::getline(tcp, line)) {
    if (line.find(want) != std::string::npos && line.find(" 0A ") != std::string::npos) found = true;
    char any[32];
    std::snprintf(any, sizeof any, "00000000:%04X", port);
    CHECK(line.find(any) == std::string::npos);
  }
  CHECK(found);
  if (have("redis-cli")) {
    Child cli;
    int rc = run({"redis-cli", "-p", std::to_string(port), "PING"}, cli, 5000);
    CHECK(rc == 0);
    CHECK(cli.out_text == "PONG\n");
  }
  kill(c.pid, SIGTERM);
  int rc = finish(c, 5000);
  CHECK(rc == 0);
  CHECK_THAT(c.out_text, Catch::Contains("stopped by SIGTERM"));
  CHECK_THAT(c.out_text, Catch::Contains("syscalls"));
}

TEST_CASE("cli serve: redis-benchmark completes against every strategy", "[live]") {
  if (!have("redis-benchmark")) {
    WARN("redis-benchmark is not installed (Debian: redis-tools): skipped");
    return;
  }
  for (eps::Strategy st : eps::all_strategies()) {
    const std::string s(eps::strategy_name(st));
    INFO("strategy " << s);
    std::string address;
    Child srv = start_serve(s, address);
    const std::string port = address.substr(address.find(':') + 1);
    Child bench;
    int rc = run({"redis-benchmark", "-p", port, "-c", "10", "-n", "2000", "-t",
                  "ping_inline,ping_mbulk,get,set", "-q"},
                 bench, 60000);
    INFO(bench.out_text << bench.err_text);
    CHECK(rc == 0);
    for (const char* test : {"PING_INLINE: ", "PING_MBULK: ", "SET: ", "GET: "}) {
      std::size_t at = bench.out_text.rfind(test);
      REQUIRE(at != std::string::npos);
      CHECK(bench.out_text.find("requests per second", at) != std::string::npos);
    }
    kill(srv.pid, SIGINT);
    CHECK(finish(srv, 5000) == 0);
    CHECK_THAT(srv.out_text, Catch::Contains("stopped by SIGINT"));
  }
}

TEST_CASE("bench_redis.sh: ours/redis and the control for the four tests, every strategy", "[live]") {
  if (!have("redis-benchmark") || !have("redis-server")) {
    WARN("redis-server or redis-benchmark is not installed (Debian: redis-server, redis-tools): skipped");
    return;
  }
  Child c;
  int rc = run({"bash", "scripts/bench_redis.sh", "--cli", kCli, "--rounds", "2", "--requests", "2000",
                "--clients", "10", "--strategies"},
               c, 120000);
  INFO(c.out_text << c.err_text);
  REQUIRE(rc == 0);
  CHECK_THAT(c.out_text, Catch::Contains("2 rounds, order rotating"));
  CHECK_THAT(c.out_text, Catch::Contains("CPU/request"));  // the price of each server's figures
  for (const char* test : {"PING_INLINE", "PING_MBULK", "SET", "GET"}) {
    // "GET   59,595   51,099   0.95x [0.70-1.10]   0.91x [0.82-1.55]": two ratios with ranges
    std::istringstream lines(c.out_text);
    std::string line;
    bool found = false;
    while (std::getline(lines, line)) {
      if (line.rfind(std::string(test) + " ", 0) != 0 || line.find('[') == std::string::npos) continue;
      found = true;
      std::size_t first = line.find("x ["), second = line.find("x [", first + 1);
      CHECK(first != std::string::npos);
      CHECK(second != std::string::npos);
    }
    CHECK(found);
  }
  for (eps::Strategy s : eps::all_strategies())
    CHECK_THAT(c.out_text, Catch::Contains("\n" + std::string(eps::strategy_name(s)) + " "));
  // The variants: more client threads, and our server spinning before it sleeps.
  Child v;
  rc = run({"bash", "scripts/bench_redis.sh", "--cli", kCli, "--rounds", "1", "--requests", "2000", "--clients", "10",
            "--threads", "2", "--spin-us", "5"},
           v, 120000);
  INFO(v.out_text << v.err_text);
  REQUIRE(rc == 0);
  CHECK_THAT(v.out_text, Catch::Contains("--threads 2; 1 rounds"));
  CHECK_THAT(v.out_text, Catch::Contains("ours (spin 5 us)"));
}

TEST_CASE("cli serve --spin-us: polls the wait before sleeping, and still answers", "[live]") {
  if (!have("redis-cli")) {
    WARN("redis-cli is not installed (Debian: redis-tools): skipped");
    return;
  }
  // Five PINGs 20 ms apart: between them, a spinning server polls epoll_wait (timeout 0) for
  // 200 us before it sleeps, hundreds of calls per gap; a plain one makes one call per wake.
  long waits[2] = {0, 0};
  for (int spin = 0; spin < 2; spin++) {
    INFO("spin " << spin);
    std::string address;
    Child srv = spin ? start_serve("epoll", address, {"--spin-us", "200"}) : start_serve("epoll", address);
    if (spin) CHECK_THAT(srv.out_text, Catch::Contains("polling 200 us before each sleep"));
    const std::string port = address.substr(address.find(':') + 1);
    for (int i = 0; i < 5; i++) {
      Child cli;
      CHECK(run({"redis-cli", "-p", port, "PING"}, cli, 5000) == 0);
      CHECK(cli.out_text == "PONG\n");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(srv.pid, SIGINT);
    REQUIRE(finish(srv, 5000) == 0);
    INFO(srv.out_text);
    waits[spin] = summary_count(srv.out_text, "epoll_wait");
    REQUIRE(waits[spin] > 0);
  }
  CHECK(waits[0] < 100);
  CHECK(waits[1] > 10 * waits[0]);
}

TEST_CASE("cli serve --spin-us is refused where there is no wait to spin before", "[live]") {
  for (const char* s : {"blocking", "busy-poll", "epoll-shared", "epoll-per-thread", "reuseport"}) {
    INFO(s);
    Child c;
    CHECK(run({kCli, "serve", "--strategy", s, "--port", "0", "--spin-us", "5"}, c, 5000) == 2);
    CHECK_THAT(c.err_text, Catch::Contains("--spin-us is for select, poll, epoll, epoll-et (it spins"));
  }
}

TEST_CASE("cli serve --bind: another address only when asked, with a warning", "[live]") {
  std::string address;
  Child c = start_serve("epoll", address, {"--bind", "0.0.0.0"});
  CHECK(address.rfind("0.0.0.0:", 0) == 0);
  kill(c.pid, SIGTERM);
  CHECK(finish(c, 5000) == 0);
  CHECK_THAT(c.err_text, Catch::Contains("warning: serving on 0.0.0.0, not loopback: other machines may connect"));
  // A loopback address other than 127.0.0.1 needs no warning; a bad one is refused.
  Child lo = start_serve("poll", address, {"--bind", "127.0.0.2"});
  kill(lo.pid, SIGTERM);
  CHECK(finish(lo, 5000) == 0);
  CHECK(lo.err_text.find("warning") == std::string::npos);
  Child bad;
  CHECK(run({kCli, "serve", "--strategy", "epoll", "--port", "0", "--bind", "not-an-address"}, bad, 5000) == 1);
  CHECK_THAT(bad.err_text, Catch::Contains("bad bind address 'not-an-address'"));
}
