// Many threads, many epoll instances: the thundering herd and its fixes (EPOLLEXCLUSIVE,
// SO_REUSEPORT), the level-triggered second wake-up on a shared instance (and EPOLLET /
// EPOLLONESHOT as its fixes), connections that arrive during the run, the fd table, threads
// spreading over CPUs, and the program lines the views light.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "sim_fixtures.h"

using namespace eps;
using namespace eps::test;

namespace {

Scenario herd_lesson() { return load_scenario(std::string(EPS_SOURCE_DIR) + "/scenarios/09-thundering-herd.toml"); }

Metrics run_metrics(const Scenario& sc) {
  Simulation sim(sc, RunOptions{false, {}});
  sim.run();
  return sim.metrics();
}

// Two workers on one epoll instance (two CPUs), one connection made before the run, one
// request: the request's wake-ups.
Scenario shared_one_request(std::uint32_t flags) {
  Scenario sc;
  sc.title = "shared";
  sc.duration_ms = 2;
  sc.start_ms = 1;  // the workers are asleep in epoll_wait when the request comes
  sc.cpus = 2;
  sc.strategy = Strategy::EpollShared;
  sc.threads = 2;
  sc.epoll_flags = flags;
  ClientGroup g;
  g.connections = 1;
  g.mode = ClientMode::Closed;
  g.requests = 1;
  sc.clients.push_back(g);
  return sc;
}

}  // namespace

// Without EPOLLEXCLUSIVE the listener's wait queue holds one ep_poll_callback per instance:
// sock_def_readable calls them all, each wakes its worker. The lesson's 40 connections arrive
// 250 us apart, so every worker is asleep each time: exactly 4 wake-ups per connection, one
// worker accepts, three find nothing (their ep_poll sees the listener no longer readable).
TEST_CASE("herd: without EPOLLEXCLUSIVE every worker wakes for every connection", "[sim][threads]") {
  const Scenario sc = herd_lesson();
  REQUIRE(sc.strategy == Strategy::EpollPerThread);
  REQUIRE(sc.server_threads() == 4);
  REQUIRE(sc.epoll_flags == 0);
  const Metrics m = run_metrics(sc);
  REQUIRE(m.requests_completed == 40);
  CHECK(m.accepted == 40);
  CHECK(m.wakeups == 4 * 40);
  CHECK(m.wasted_wakeups == 3 * 40);
  REQUIRE(m.threads.size() == 4);
  std::uint64_t accepted = 0;
  for (const ThreadMetrics& t : m.threads) {
    CHECK(t.wakeups >= 40);  // each worker woke for each connection
    accepted += t.accepted;
  }
  CHECK(accepted == 40);
}

// EPOLLEXCLUSIVE: the hooks are exclusive entries, and ep_poll_callback reports a wake-up
// only when its instance had a sleeper: the walk stops there. One wake-up per connection.
TEST_CASE("herd: EPOLLEXCLUSIVE wakes one worker per connection", "[sim][threads]") {
  Scenario sc = herd_lesson();
  sc.epoll_flags = EPOLLEXCLUSIVE;
  const Metrics m = run_metrics(sc);
  REQUIRE(m.requests_completed == 40);
  CHECK(m.wakeups == 40);
  CHECK(m.wasted_wakeups == 0);
  // The hooks sit at the tail of the listener's wait queue, in the order the workers added
  // them; the first with a sleeper takes the connection, so one worker does it all here.
  std::uint64_t busiest = 0;
  for (const ThreadMetrics& t : m.threads) busiest = std::max(busiest, t.accepted);
  CHECK(busiest == 40);
}

// SO_REUSEPORT: each worker has its own listening socket; reuseport_select_sock hashes each
// connection to one. No herd, but an uneven spread over few connections.
TEST_CASE("herd: reuseport spreads connections by hash, one wake-up each, unevenly", "[sim][threads]") {
  Scenario sc = herd_lesson();
  sc.strategy = Strategy::Reuseport;
  Simulation sim(sc);
  sim.run();
  const Metrics m = sim.metrics();
  REQUIRE(m.requests_completed == 40);
  CHECK(m.wakeups == 40);
  CHECK(m.wasted_wakeups == 0);
  std::vector<std::uint64_t> spread;
  for (const ThreadMetrics& t : m.threads) spread.push_back(t.accepted);
  REQUIRE(spread.size() == 4);
  // The kernel's choice, recomputed: each connection's listener from the hash.
  std::vector<std::uint64_t> want(4, 0);
  for (std::uint32_t c = 0; c < 40; c++) want[sim.sockets().reuseport_select(c, sc.seed) - 40]++;
  CHECK(spread == want);
  CHECK(*std::max_element(spread.begin(), spread.end()) >= 2 * *std::min_element(spread.begin(), spread.end()));
  // Four listening sockets, each with its own accept queue and fd.
  REQUIRE(sim.sockets().listeners() == 4);
  std::set<int> fds;
  for (int k = 0; k < 4; k++) fds.insert(sim.listen_fd(k));
  CHECK(fds == std::set<int>{3, 4, 5, 6});
}

// One instance, level-triggered: ep_send_events puts the item back on rdllist, and
// ep_done_scan, seeing the list not empty and another sleeper on ep->wq, wakes it; by the
// time it looks, the first worker has read the request: a wake-up for nothing. EPOLLET does
// not put the item back, EPOLLONESHOT disarms it: one wake-up.
TEST_CASE("epoll-shared: level-triggered wakes a second worker, EPOLLET and EPOLLONESHOT do not", "[sim][threads]") {
  const Metrics lt = run_metrics(shared_one_request(0));
  REQUIRE(lt.requests_completed == 1);
  CHECK(lt.wakeups == 2);
  CHECK(lt.wasted_wakeups == 1);
  for (std::uint32_t fix : {EPOLLET, EPOLLONESHOT}) {
    INFO(fix);
    const Metrics m = run_metrics(shared_one_request(fix));
    REQUIRE(m.requests_completed == 1);
    CHECK(m.wakeups == 1);
    CHECK(m.wasted_wakeups == 0);
  }
}

// ep->wq's waiters are added at the head (__add_wait_queue_exclusive): the worker that went
// to sleep last is woken first.
TEST_CASE("epoll-shared: ep->wq wakes the last sleeper first", "[sim][threads]") {
  Simulation sim(shared_one_request(EPOLLONESHOT));
  sim.run();
  const Trace& tr = sim.trace();
  std::uint16_t last_sleeper = kNoTask, woken = kNoTask;
  for (const TraceEvent& e : tr.events) {
    if (e.kind == Ev::WaitAdd && (e.obj & kEpWq)) {
      CHECK((e.a & kWaitAtTail) == 0);
      CHECK((e.a & kWaitExclusive) != 0);
      last_sleeper = std::uint16_t(e.b);
    }
    if (e.kind == Ev::TryToWakeUp && e.flow != kNone) {
      woken = e.actor;
      break;
    }
  }
  REQUIRE(last_sleeper != kNoTask);
  CHECK(woken == last_sleeper);
}

// A blocking accept4 on an empty accept queue sleeps on the listener's wait queue as an
// exclusive waiter; a connection arriving during the run wakes it.
TEST_CASE("accept4: an empty accept queue is a real wait, woken by a connection", "[sim][threads]") {
  Scenario sc = one_request(Strategy::Blocking);
  sc.clients[0].connect_at_ms = 1;
  Simulation sim(sc);
  sim.run();
  REQUIRE(sim.metrics().requests_completed == 1);
  const Trace& tr = sim.trace();
  const std::uint32_t listener = 1;  // sid: after the one connection
  const TraceEvent* wait = nullptr;
  for (const TraceEvent& e : tr.events)
    if (e.kind == Ev::WaitAdd && e.obj == listener) { wait = &e; break; }
  REQUIRE(wait);
  CHECK((wait->a & kWaitExclusive) != 0);
  CHECK(wait_kind_of(wait->a) == WaitKind::TaskWake);
  // The handshake's last ACK: connect() at 1 ms, three wire latencies to the NIC, the
  // softirq makes the connection and wakes the sleeper.
  const TraceEvent* connect = first(tr, Ev::ClientConnect);
  REQUIRE(connect);
  CHECK(connect->t == 1'000'000);
  const TraceEvent* ack = nullptr;
  for (const TraceEvent& e : tr.events)
    if (e.kind == Ev::NicRx && e.b == kNone) { ack = &e; break; }
  REQUIRE(ack);
  CHECK(ack->t == 1'000'000 + 3 * sc.costs.wire_latency_ns);
  CHECK(ack->flow == connect->flow);
  const TraceEvent* made = nullptr;
  for (const TraceEvent& e : tr.events)
    if (e.kind == Ev::SocketCreate && e.flow == connect->flow) { made = &e; break; }
  REQUIRE(made);
  CHECK(made->b == listener);
  bool woke = false;
  for (const TraceEvent& e : tr.events)
    if (e.kind == Ev::TryToWakeUp && e.flow == connect->flow && e.actor == 0) woke = true;
  CHECK(woke);
}

// fs/file.c alloc_fd: the lowest free number. The select server closes an fd it cannot put in
// an fd_set; the next connection gets that number again.
TEST_CASE("fd table: a closed fd's number is the next one given out", "[sim][threads]") {
  Scenario sc = crowd(Strategy::Select, 2, 1100, false);
  sc.duration_ms = 2;
  Simulation sim(sc);
  sim.run();
  std::vector<std::uint32_t> installed, closed;
  for (const TraceEvent& e : sim.trace().events) {
    if (e.kind == Ev::FdInstall && FileKind(e.a) == FileKind::Socket) installed.push_back(e.obj);
    if (e.kind == Ev::FdClose) closed.push_back(e.obj);
  }
  REQUIRE(!closed.empty());
  CHECK(std::all_of(closed.begin(), closed.end(), [](std::uint32_t fd) { return fd == 1024; }));
  // 3 the listener, 4..1023 kept, then 1024 over and over.
  CHECK(installed.front() == 3);
  CHECK(std::count(installed.begin(), installed.end(), 1024u) == std::ptrdiff_t(closed.size()));
  CHECK(*std::max_element(installed.begin(), installed.end()) == 1024u);
}

// New threads start on the idlest CPU (wake_up_new_task's select_task_rq) and an idle CPU
// pulls a waiting task (newidle_balance): four busy workers on four CPUs serve about four
// times what one epoll thread serves.
TEST_CASE("threads: busy workers spread over the CPUs", "[sim][threads]") {
  Scenario sc;
  sc.title = "busy";
  sc.duration_ms = 20;
  sc.cpus = 4;
  sc.work_us = 30;
  ClientGroup g;
  g.connections = 200;
  g.mode = ClientMode::Closed;
  g.think_us = 100;
  sc.clients.push_back(g);
  sc.strategy = Strategy::Epoll;
  const Metrics one = run_metrics(sc);
  for (Strategy s : {Strategy::EpollShared, Strategy::EpollPerThread, Strategy::Reuseport}) {
    INFO(strategy_name(s));
    sc.strategy = s;
    sc.threads = 4;
    Simulation sim(sc);
    sim.run();
    const Metrics m = sim.metrics();
    CHECK(double(m.requests_completed) > 3.0 * double(one.requests_completed));
    std::set<int> cpus;
    for (const auto& t : sim.sched().tasks)
      if (t->server()) cpus.insert(t->cpu);
    CHECK(cpus.size() == 4);
  }
}

// Program lines are labelled: whenever a thread enters a syscall, the line it is on names
// that syscall (pthread_create for clone), in every strategy's listing.
TEST_CASE("program lines: the lit line names the syscall being made, in every strategy", "[sim][threads]") {
  for (Strategy s : all_strategies()) {
    INFO(strategy_name(s));
    Scenario sc = crowd(s, 4, 10, false, 2);
    sc.duration_ms = 5;
    sc.threads = 2;
    sc.clients[0].connect_at_ms = 1;  // some connect during the run: accept in the loop too
    Simulation sim(sc);
    sim.run();
    const Trace& tr = sim.trace();
    std::vector<int> line(sim.sched().tasks.size(), -1);
    int checked = 0;
    for (const TraceEvent& e : tr.events) {
      if (e.kind == Ev::ProgramLine) line[e.actor] = int(e.a);
      if (e.kind != Ev::SyscallEnter || !sim.sched().tasks[e.actor]->server()) continue;
      REQUIRE(line[e.actor] >= 0);
      const std::string& text = tr.program[std::size_t(line[e.actor])];
      const std::string name = Sys(e.a) == Sys::Clone ? "pthread_create" : std::string(sys_name(Sys(e.a))) + "(";
      INFO(text);
      CHECK(text.find(name) != std::string::npos);
      checked++;
    }
    CHECK(checked > 20);
  }
}

// The lesson file's fix line works as written.
TEST_CASE("herd lesson: the flags and strategies it names are accepted", "[sim][threads]") {
  const std::string text = "title = 't'\n[server]\nstrategy = 'epoll-per-thread'\nepoll_flags = ['EPOLLEXCLUSIVE']\n"
                           "[[clients]]\nconnections = 1\n";
  CHECK(parse_scenario(text, "t.toml").epoll_flags == EPOLLEXCLUSIVE);
  try {
    parse_scenario("title = 't'\n[server]\nepoll_flags = ['EPOLLEXCLUSIVE', 'EPOLLONESHOT']\n[[clients]]\n", "t.toml");
    FAIL("EPOLLEXCLUSIVE with EPOLLONESHOT was accepted");
  } catch (const ScenarioError& e) {
    CHECK(std::string(e.what()).find("t.toml:3: server.epoll_flags: EPOLLEXCLUSIVE cannot be combined with EPOLLONESHOT") == 0);
  }
  try {
    parse_scenario("title = 't'\n[server]\nepoll_flags = ['EPOLLEXCLUSVE']\n[[clients]]\n", "t.toml");
    FAIL("a misspelt flag was accepted");
  } catch (const ScenarioError& e) {
    CHECK(std::string(e.what()).find("did you mean `EPOLLEXCLUSIVE`?") != std::string::npos);
  }
}
