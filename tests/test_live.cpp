// The live backend on loopback: every strategy serves a scenario completely; the servers
// survive partial, pipelined, slow and vanishing clients; 2,000 connections; select's limit.
// Every run here is small and bounded (a run ends as soon as every reply is in).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "live/live_run.h"
#include "live/mux.h"
#include "live/protocol.h"
#include "live/server.h"
#include "sim/metrics.h"
#include "sim/trace_check.h"

using namespace eps;
using namespace eps::live;

namespace {

Scenario small_scenario(Strategy s) {
  Scenario sc = load_scenario("tests/data/live/small.toml");
  sc.strategy = s;
  return sc;
}

// A scenario built in code: `active` open-loop clients among `total` connections.
Scenario wide_scenario(Strategy s, int total, int active, double rate) {
  Scenario sc;
  sc.title = "wide";
  sc.strategy = s;
  sc.duration_ms = 200;
  sc.drain_ms = 5000;
  sc.work_us = 5;
  ClientGroup a;
  a.name = "active";
  a.connections = active;
  a.rate_per_s = rate;
  ClientGroup idle;
  idle.name = "idle";
  idle.connections = total - active;
  idle.rate_per_s = 0;
  sc.clients = {a, idle};
  return sc;
}

void require_all_completed(const Metrics& m) {
  INFO("strategy " << m.strategy << ": " << to_json(m).dump());
  REQUIRE(m.requests_sent > 0);
  REQUIRE(m.requests_failed == 0);
  REQUIRE(m.requests_completed == m.requests_sent);
}

// A raw client socket to the server under test.
int dial(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(std::uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

void send_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    ssize_t w = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    REQUIRE(w > 0);
    off += std::size_t(w);
  }
}

// Reads exactly n bytes within 5 s (or fails the test).
std::string read_n(int fd, std::size_t n) {
  std::string got;
  char buf[65536];
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (got.size() < n && std::chrono::steady_clock::now() < give_up) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t r = recv(fd, buf, std::min(sizeof buf, n - got.size()), 0);
    if (r <= 0) break;
    got.append(buf, std::size_t(r));
  }
  return got;
}

const std::vector<Strategy>& kAll = all_strategies();

}  // namespace

TEST_CASE("live: every strategy serves the small scenario, every request completed", "[live]") {
  for (Strategy s : kAll) {
    LiveResult r = run_live(small_scenario(s));
    const Metrics& m = r.metrics;
    require_all_completed(m);
    CHECK(m.source == "live");
    CHECK(m.strategy == s);
    CHECK(m.latency_p50_us > 0);
    CHECK(m.latency_p50_us <= m.latency_p99_us);
    CHECK(m.syscalls.at("recvfrom") > 0);
    CHECK(m.syscalls.at("sendto") > 0);
    CHECK(m.syscalls.at("accept4") >= 30);
    if (s == Strategy::Blocking) CHECK(m.syscalls.at("clone") == 30);
    if (s == Strategy::Select) CHECK(m.syscalls.at("select") > 0);
    if (s == Strategy::Poll) CHECK(m.syscalls.at("poll") > 0);
    if (s == Strategy::Epoll || s == Strategy::EpollEt) {
      CHECK(m.syscalls.at("epoll_wait") > 0);
      CHECK(m.syscalls.at("epoll_ctl") >= 30);
    }
    if (s == Strategy::BusyPoll) CHECK(m.eagain > m.requests_completed);  // it never sleeps
    if (s == Strategy::Select || s == Strategy::Poll) CHECK(m.fds_scanned >= 30);
    // The JSON is the model's schema.
    Metrics back = metrics_from_json(to_json(m));
    CHECK(back.source == "live");
    CHECK(back.requests_completed == m.requests_completed);
  }
}

TEST_CASE("live: the figures end with the drain, closing the connections is teardown", "[live]") {
  // The model has no teardown: its run ends with the drain. The live clients close their
  // sockets after it, so every close (and, for epoll, the epoll_ctl DEL before it) is a
  // teardown call, listed apart, and none is in the metrics.
  for (Strategy s : {Strategy::Blocking, Strategy::Poll, Strategy::Epoll}) {
    INFO(strategy_name(s));
    LiveResult r = run_live(small_scenario(s));
    require_all_completed(r.metrics);
    CHECK(r.metrics.syscalls.count("close") == 0);
    CHECK(r.teardown_syscalls["close"] == 30);  // one per connection
    if (s == Strategy::Epoll) CHECK(r.teardown_syscalls["epoll_ctl"] == 30);
    CHECK(r.teardown_syscalls.count("accept4") == 0);  // accepting is setup, in the figures
    bool noted = false;
    for (const std::string& n : r.notes) noted = noted || n.find("teardown") != std::string::npos;
    CHECK(noted);
  }
}

TEST_CASE("live: the same seed sends the same number of requests (the model's schedule)", "[live]") {
  Scenario sc = small_scenario(Strategy::Epoll);
  LiveResult a = run_live(sc);
  LiveResult b = run_live(sc);
  CHECK(a.metrics.requests_sent == b.metrics.requests_sent);
}

TEST_CASE("live: the trace records the server's syscalls in the model's vocabulary", "[live]") {
  LiveOptions opt;
  opt.record_trace = true;
  LiveResult r = run_live(small_scenario(Strategy::Epoll), opt);
  const Trace& tr = r.trace;
  REQUIRE(tr.events.size() > 10);
  CHECK(tr.events[0].kind == Ev::TaskCreate);
  CHECK(tr.strings.at(0) == "P (server)");
  std::uint64_t enters = 0, exits = 0, eagain_exits = 0;
  for (std::size_t i = 0; i < tr.events.size(); i++) {
    const TraceEvent& e = tr.events[i];
    CHECK(e.seq == i);
    if (i) CHECK(e.t >= tr.events[i - 1].t);
    if (e.kind == Ev::SyscallEnter) enters++;
    if (e.kind == Ev::SyscallExit) {
      exits++;
      if (std::int32_t(e.b) == -EAGAIN) eagain_exits++;
    }
  }
  CHECK(enters == exits);
  CHECK(check_trace(tr) == "");  // no false alarm from the checker read_trace_file applies
  // Time 0 is when the server began serving: its first call comes at once, not after the
  // clients' connects.
  CHECK(tr.events[1].t < 50'000'000);
  CHECK(tr.end_ns > 0);
  // The trace has every call; the metrics stop at the end of the drain, the rest is teardown.
  std::uint64_t teardown = 0;
  for (const auto& [name, n] : r.teardown_syscalls) teardown += n;
  CHECK(exits == r.metrics.syscalls_total() + teardown);
  CHECK(eagain_exits == r.metrics.eagain + r.teardown_eagain);
}

TEST_CASE("live: 2,000 connections under poll and epoll", "[live]") {
  for (Strategy s : {Strategy::Poll, Strategy::Epoll}) {
    Scenario sc = wide_scenario(s, 2000, 40, 100);
    REQUIRE(check_live(sc) == "");
    LiveResult r = run_live(sc);
    require_all_completed(r.metrics);
    CHECK(r.metrics.syscalls.at("accept4") >= 2000);
    // poll passes every fd on every call; epoll_wait returns only the ready ones.
    if (s == Strategy::Poll) CHECK(r.metrics.fds_scanned / r.metrics.syscalls.at("poll") > 100);
    if (s == Strategy::Epoll) CHECK(r.metrics.fds_scanned / r.metrics.syscalls.at("epoll_wait") < 50);
  }
}

TEST_CASE("live: select refuses more connections than FD_SETSIZE, before starting", "[live]") {
  Scenario sc = wide_scenario(Strategy::Select, 1100, 1, 10);
  std::string why = check_live(sc);
  CHECK_THAT(why, Catch::Contains("FD_SETSIZE"));
  CHECK_THROWS_AS(run_live(sc), LiveError);
  // ...and the mechanism itself never FD_SETs past the set.
  std::string err;
  auto mux = mux_select_create(err);
  CHECK(mux->add(1024, kReadable) == -EINVAL);
  CHECK(mux->add(5000, kReadable) == -EINVAL);
  CHECK(mux->add(-1, kReadable) == -EINVAL);
  // Poll and epoll have no such limit: the same scenario is fine for them.
  sc.strategy = Strategy::Poll;
  CHECK(check_live(sc) == "");
}

TEST_CASE("live: the blocking strategy's thread count is bounded up front", "[live]") {
  Scenario sc = wide_scenario(Strategy::Blocking, kMaxBlockingThreads + 1, 1, 10);
  CHECK_THAT(check_live(sc), Catch::Contains("thread per connection"));
}

TEST_CASE("live: partial, pipelined, slow and vanishing clients, and the others are still served", "[live]") {
  const int kReq = 100, kReply = 64;
  const std::string hello = FrameProtocol::hello(kReq), req(kReq, 'q');
  for (Strategy s : kAll) {
    INFO("strategy " << strategy_name(s));
    auto proto = std::make_shared<FrameProtocol>(0, kReply);
    ServerOptions so;
    so.strategy = s;
    Server server(so, proto);
    REQUIRE(server.start() == "");
    const int port = server.port();

    // A slow client: a big pipelined burst it never reads. Its replies fill the socket buffers
    // (partial writes, EAGAIN on the server side), and must not stop anyone else.
    int slow = dial(port);
    send_all(slow, hello);
    {
      std::string burst;
      for (int i = 0; i < 40000; i++) burst += req;  // 4 MB of requests -> 2.5 MB of replies
      std::thread([slow, burst] {
        std::size_t off = 0;
        while (off < burst.size()) {
          pollfd p{slow, POLLOUT, 0};
          if (poll(&p, 1, 2000) <= 0) break;  // the server stopped reading: fine
          ssize_t w = send(slow, burst.data() + off, burst.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
          if (w <= 0) break;
          off += std::size_t(w);
        }
      }).detach();
    }

    // A client that dies mid-request with a reset.
    int rude = dial(port);
    send_all(rude, hello + req.substr(0, 10));
    linger lg{1, 0};
    setsockopt(rude, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(rude);  // RST

    // A client that leaves cleanly in the middle of a request.
    int gone = dial(port);
    send_all(gone, hello + req + req.substr(0, 50));
    close(gone);

    // A well-behaved client: byte by byte, then three pipelined in one segment.
    int good = dial(port);
    std::string first = hello + req;
    for (char c : first) send_all(good, std::string(1, c));
    CHECK(read_n(good, kReply) == std::string(kReply, 'r'));
    send_all(good, req + req + req);
    CHECK(read_n(good, 3 * kReply).size() == 3 * kReply);
    // Halves across segments.
    send_all(good, req.substr(0, 30));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    send_all(good, req.substr(30) + req.substr(0, 1));
    CHECK(read_n(good, kReply).size() == kReply);
    send_all(good, req.substr(1));
    CHECK(read_n(good, kReply).size() == kReply);
    close(good);
    close(slow);
    server.stop();
    ServerStats st = server.stats();
    CHECK(st.error == "");
    CHECK(st.accepted == 4);
  }
}

TEST_CASE("live: a bad hello closes that connection only", "[live]") {
  auto proto = std::make_shared<FrameProtocol>(0, 8);
  ServerOptions so;
  so.strategy = Strategy::Epoll;
  Server server(so, proto);
  REQUIRE(server.start() == "");
  int bad = dial(server.port());
  send_all(bad, std::string("\0\0\0\0", 4));  // request size 0: not allowed
  CHECK(read_n(bad, 1).empty());              // closed by the server
  int good = dial(server.port());
  send_all(good, FrameProtocol::hello(4) + "abcd");
  CHECK(read_n(good, 8) == "rrrrrrrr");
  close(bad);
  close(good);
}

TEST_CASE("live: busy-poll and blocking stop promptly when told, with clients still connected", "[live]") {
  for (Strategy s : kAll) {
    auto proto = std::make_shared<FrameProtocol>(0, 8);
    ServerOptions so;
    so.strategy = s;
    Server server(so, proto);
    REQUIRE(server.start() == "");
    int c = dial(server.port());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto t = std::chrono::steady_clock::now();
    server.stop();
    CHECK(std::chrono::steady_clock::now() - t < std::chrono::milliseconds(500));
    CHECK(server.stats().error == "");
    close(c);
  }
}

TEST_CASE("live: RLIMIT_NOFILE is raised when allowed, and refused clearly when not", "[live]") {
  // 2,000 connections need both ends of each, over 4,000 fds.
  Scenario sc = wide_scenario(Strategy::Epoll, 2000, 10, 100);
  // In a child, so this process keeps its limits whatever happens.
  int pipefd[2];
  REQUIRE(pipe(pipefd) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(pipefd[0]);
    auto say = [&](const std::string& s) { (void)!write(pipefd[1], s.data(), s.size()); };
    // 1. Allowed: a low soft limit under a high hard one is raised.
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rlimit low = rl;
    low.rlim_cur = 256;
    setrlimit(RLIMIT_NOFILE, &low);
    std::string why = check_live(sc);
    getrlimit(RLIMIT_NOFILE, &rl);
    say(why.empty() && rl.rlim_cur >= 4000 ? "raised\n" : "not raised: " + why + "\n");
    // 2. Not allowed: an unprivileged process under a hard limit of 512.
    if (geteuid() == 0 && setuid(65534) != 0) _exit(3);  // root may raise any limit: be nobody
    rlimit hard{512, 512};
    setrlimit(RLIMIT_NOFILE, &hard);
    say(check_live(sc) + "\n");
    _exit(0);
  }
  close(pipefd[1]);
  std::string out;
  char buf[1024];
  for (ssize_t n; (n = read(pipefd[0], buf, sizeof buf)) > 0;) out.append(buf, std::size_t(n));
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  INFO(out);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  CHECK(out.rfind("raised\n", 0) == 0);
  CHECK_THAT(out, Catch::Contains("RLIMIT_NOFILE is 512 (hard limit 512) and may not be raised"));
  CHECK_THAT(out, Catch::Contains("ulimit -n"));
}

TEST_CASE("live: a server too slow for the drain: the run ends on time, the request fails unanswered", "[live]") {
  // One request whose work (300 ms) outlasts duration + drain (50 + 100 ms).
  Scenario sc;
  sc.title = "slow";
  sc.strategy = Strategy::Epoll;
  sc.duration_ms = 50;
  sc.drain_ms = 100;
  sc.work_us = 300'000;
  ClientGroup g;
  g.connections = 1;
  g.mode = ClientMode::Closed;
  g.requests = 1;
  sc.clients = {g};
  const auto t0 = std::chrono::steady_clock::now();
  LiveResult r = run_live(sc);
  const double wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const Metrics& m = r.metrics;
  INFO(to_json(m).dump() << "\nwall " << wall_ms << " ms");
  CHECK(m.requests_sent == 1);
  CHECK(m.requests_completed == 0);
  CHECK(m.requests_failed == 1);
  CHECK(m.failed_by_reason.at("unanswered") == 1);
  // The load generator stops at duration + drain: its measured window is no longer.
  CHECK(m.duration_ns <= (sc.duration_ms + sc.drain_ms + 20) * 1'000'000);
  // And the whole run, setup and the server's 300 ms included, stays bounded.
  CHECK(wall_ms < 3000);
}

TEST_CASE("versus explains the differences it knows the reason for, and only those", "[live]") {
  Scenario sc;
  sc.strategy = Strategy::Epoll;
  sc.cpus = 1;
  sc.start_ms = 2;
  Metrics model, live;
  model.latency_p50_us = 35;
  live.latency_p50_us = 80;  // more than twice: the wake-up across CPUs
  model.softirq_net_rx = 157;
  live.softirq_net_rx = 316;  // both directions on loopback
  model.fds_scanned = 313;
  live.fds_scanned = 156;  // events returned vs epitems examined
  auto has = [](const std::vector<std::string>& v, const std::string& start) {
    for (const std::string& s : v)
      if (s.rfind(start, 0) == 0) return true;
    return false;
  };
  std::vector<std::string> n = explain_versus(sc, model, live, false);
  CHECK(has(n, "latency:"));
  CHECK(has(n, "NET_RX runs:"));
  CHECK(has(n, "CPU:"));
  CHECK(has(n, "fds scanned:"));
  CHECK(has(n, "throughput:"));
  CHECK(has(n, "costs:"));
  for (const std::string& line : n)
    if (line.rfind("costs:", 0) == 0) CHECK(line.find("docs/kernel.md §4") != std::string::npos);
  // Figures that agree, a calibrated model, no start_ms, another strategy: fewer lines.
  live.latency_p50_us = 60;
  live.softirq_net_rx = 160;
  sc.start_ms = 0;
  sc.strategy = Strategy::Poll;
  n = explain_versus(sc, model, live, true);
  CHECK(n.size() == 1);
  CHECK(has(n, "CPU:"));
}
