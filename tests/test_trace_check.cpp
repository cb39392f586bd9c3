// Tests for sim/trace_check.cpp: every kind has its row and every row is enforced; the
// inputs that once crashed replay are refused by read_trace_file (sealed with a valid
// checksum, so only the checker stands in the way) and are harmless to apply(); and no
// shipped lesson's real trace, nor a live one, raises a false alarm.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/simulation.h"
#include "sim/trace_check.h"
#include "sim/trace_io.h"
#include "sim/world.h"
#ifdef EPS_HAVE_LIVE
#include "live/kernel_trace.h"
#endif

#ifndef EPS_SOURCE_DIR
#define EPS_SOURCE_DIR "."
#endif

using namespace eps;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> n{0};
    path = fs::temp_directory_path() /
           ("eps-test-trace-check-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// A small real run: epoll on two CPUs, three connections, a neighbour task.
Trace small_run(Strategy s = Strategy::Epoll) {
  Scenario sc;
  sc.title = "trace check";
  sc.seed = 5;
  sc.cpus = 2;
  sc.duration_ms = 3;
  sc.strategy = s;
  ClientGroup g;
  g.connections = 3;
  g.mode = ClientMode::Closed;
  g.requests = 3;
  sc.clients.push_back(g);
  sc.background.push_back(BackgroundGroup{"Q", 1});
  Simulation sim(sc);
  sim.run();
  return sim.take_trace();
}

std::size_t first_of(const Trace& tr, Ev k) {
  for (std::size_t i = 0; i < tr.events.size(); i++)
    if (tr.events[i].kind == k) return i;
  FAIL("no " << ev_name(k) << " event in the trace");
  return 0;
}

// What read_trace_file says about this file ("" if it reads it).
std::string read_error(const std::string& path) {
  try {
    read_trace_file(path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

std::vector<fs::path> lessons() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(fs::path(EPS_SOURCE_DIR) / "scenarios"))
    if (e.path().extension() == ".toml") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// A value that rule f accepts in a tiny trace: one CPU, two connections and a listener, one
// string, one program line, task 0 made by events[0] and epoll instance 0 by events[1].
// WaitWho and FileId are checked with a = 0 (TaskWake; FileKind::Socket).
std::uint32_t fitting(Field f, int slot) {
  switch (f) {
    case Field::Unused: return slot == 3 ? kNoTask : (slot == 1 || slot == 2) ? 0u : kNone;
    case Field::Any: return 7;
    case Field::NewTask: return 1;  // the second task
    case Field::NewEid: return 1;   // the second epoll instance
    case Field::Fd: case Field::FdOrNone: return 3;
    case Field::SysV: return std::uint32_t(Sys::Recvfrom);
    default: return f == Field::ConnOrNone ? 1u : 0u;  // every other rule accepts 0
  }
}

}  // namespace

TEST_CASE("trace check: every event kind has exactly one row, in Ev order", "[trace_check]") {
  auto rules = trace_rules();
  for (int k = 0; k < int(Ev::Count); k++) {
    INFO("kind " << k << " (" << ev_name(Ev(k)) << ")");
    CHECK(ev_name(Ev(k)) != "?");
    int rows = 0;
    for (const EvRule& r : rules) rows += r.kind == Ev(k);
    CHECK(rows == 1);
    REQUIRE(std::size_t(k) < rules.size());
    CHECK(rules[std::size_t(k)].kind == Ev(k));
    for (Field f : {rules[std::size_t(k)].obj, rules[std::size_t(k)].a, rules[std::size_t(k)].b,
                    rules[std::size_t(k)].actor, rules[std::size_t(k)].flow})
      CHECK(field_rule_name(f) != "?");
  }
  CHECK(rules.size() == std::size_t(Ev::Count));
}

// Walks the table: for each kind, an event built from its row passes, and each field that is
// not "any" refuses a value far out of every range, with a message naming index, kind, field.
TEST_CASE("trace check: every row's rules are enforced, field by field", "[trace_check]") {
  Trace base;
  base.cpus = 1;
  base.connections = 2;
  base.strings = {"P"};
  base.program = {"for (;;) {"};
  TraceEvent create;
  create.kind = Ev::TaskCreate;
  create.actor = 0;
  create.obj = 0;
  create.a = std::uint32_t(TaskKind::ServerMain);
  create.b = 0;
  create.seq = 0;
  base.events.push_back(create);
  TraceEvent ep;
  ep.kind = Ev::EpollCreate;
  ep.obj = 0;
  ep.actor = 0;
  ep.seq = 1;
  base.events.push_back(ep);
  REQUIRE(check_trace(base) == "");
  const char* names[] = {"obj", "a", "b", "actor", "flow"};
  for (const EvRule& r : trace_rules()) {
    INFO("kind " << ev_name(r.kind));
    const Field f[5] = {r.obj, r.a, r.b, r.actor, r.flow};
    TraceEvent e;
    e.kind = r.kind;
    e.seq = 2;
    e.t = 10;
    e.obj = fitting(f[0], 0);
    e.a = fitting(f[1], 1);
    e.b = fitting(f[2], 2);
    e.actor = std::uint16_t(fitting(f[3], 3));
    e.flow = fitting(f[4], 4);
    Trace tr = base;
    tr.events.push_back(e);
    REQUIRE(check_trace(tr) == "");
    for (int s = 0; s < 5; s++) {
      if (f[s] == Field::Any) continue;
      INFO("field " << names[s] << " (" << field_rule_name(f[s]) << ")");
      TraceEvent bad = e;
      std::uint32_t* slot[] = {&bad.obj, &bad.a, &bad.b, nullptr, &bad.flow};
      if (s == 3) bad.actor = 0xfff0;
      else *slot[s] = 0xfffffff0u;
      tr.events[2] = bad;
      const std::string msg = check_trace(tr);
      CHECK_THAT(msg, Catch::StartsWith("events[2] (" + std::string(ev_name(r.kind)) + "): " + names[s] + " = "));
      // Replay skips what it cannot place; it must not index out of bounds or grow to fit.
      Replay replay(std::make_shared<const Trace>(tr));
      WorldState w = replay.at(3);
      CHECK(w.index == 3);
      CHECK(w.files.size() <= trace_fd_limit(tr));
      CHECK(w.sockets.size() <= 3);
      CHECK(w.eps.size() <= 2);
      CHECK(w.tasks.size() <= 0xffff);
    }
  }
}

TEST_CASE("trace check: the rules that hold for every kind", "[trace_check]") {
  const Trace tr = small_run();
  REQUIRE(check_trace(tr) == "");
  const std::size_t k = tr.events.size() / 2;
  const std::string at = "events[" + std::to_string(k) + "] (" + std::string(ev_name(tr.events[k].kind)) + "): ";
  Trace t = tr;
  t.events[k].kind = Ev(200);
  CHECK(check_trace(t) == "events[" + std::to_string(k) + "] (kind 200): kind = 200 is not an event kind (0.." +
                              std::to_string(int(Ev::Count) - 1) + ")");
  t = tr;
  t.events[k].seq = 3;
  CHECK(check_trace(t) == at + "seq = 3 is not the event's index");
  t = tr;
  t.events[k].t = tr.events[k - 1].t - 1;
  CHECK_THAT(check_trace(t), Catch::StartsWith(at + "t = ") && Catch::Contains("is before the previous event's t"));
  t = tr;
  t.events[0].t = -1;
  CHECK_THAT(check_trace(t), Catch::StartsWith("events[0]") && Catch::Contains("t = -1 is before 0"));
  t = tr;
  t.events[k].cpu = 2;
  CHECK(check_trace(t) == at + "cpu = 2 is not a CPU (the header says 2: 0..1)");
  t = tr;
  t.connections = kMaxTotalConnections + 1;
  CHECK_THAT(check_trace(t), Catch::StartsWith("header: connections = "));
  t = tr;
  t.connections = -1;
  CHECK_THAT(check_trace(t), Catch::StartsWith("header: connections = -1"));
}

TEST_CASE("trace check: cross-event rules (tasks, connections, fds, strings, lines)", "[trace_check]") {
  const Trace tr = small_run();
  const std::size_t create = first_of(tr, Ev::TaskCreate);
  Trace t = tr;
  t.events[create].actor = 1;  // the first task must be 0
  CHECK(check_trace(t) == "events[" + std::to_string(create) + "] (task_create): actor = 1 is not the next task id (0)");
  t = tr;
  t.events[create].b = std::uint32_t(tr.strings.size());
  CHECK_THAT(check_trace(t), Catch::Contains("(task_create): b = " + std::to_string(tr.strings.size()) +
                                             " is not a string index"));
  // An actor that no TaskCreate has created yet.
  const std::size_t sys = first_of(tr, Ev::SyscallEnter);
  std::uint16_t tasks_before = 0;
  for (std::size_t i = 0; i < sys; i++) tasks_before += tr.events[i].kind == Ev::TaskCreate;
  t = tr;
  t.events[sys].actor = tasks_before;
  CHECK_THAT(check_trace(t), Catch::Contains("(sys_enter): actor = " + std::to_string(tasks_before) +
                                             " is not a task (tasks 0.." + std::to_string(tasks_before - 1)));
  const std::size_t line = first_of(tr, Ev::ProgramLine);
  t = tr;
  t.events[line].a = std::uint32_t(tr.program.size());
  CHECK_THAT(check_trace(t), Catch::Contains("(program_line): a = " + std::to_string(tr.program.size()) +
                                             " is not a program line"));
  const std::size_t send = first_of(tr, Ev::ClientSend);
  t = tr;
  t.events[send].obj = 3;  // three connections: 0..2
  CHECK_THAT(check_trace(t), Catch::EndsWith("(client_send): obj = 3 is not a connection (the header says 3: 0..2)"));
  const std::size_t sock = first_of(tr, Ev::SocketCreate);
  t = tr;
  t.events[sock].obj = 4;  // three connections and one listener: sockets 0..3
  CHECK_THAT(check_trace(t), Catch::Contains("(socket_create): obj = 4 is not a socket (0..3"));
  const std::size_t fd = first_of(tr, Ev::FdInstall);
  t = tr;
  t.events[fd].obj = 3 + kSimExtraFds;
  CHECK_THAT(check_trace(t), Catch::Contains("(fd_install): obj = " + std::to_string(3 + kSimExtraFds) +
                                             " is not an fd (0.." + std::to_string(2 + kSimExtraFds)));
  // Live fds are the kernel's: both ends of each connection, and the process's own files.
  t.source = "live";
  CHECK(check_trace(t) == "");
  CHECK(trace_fd_limit(t) == 2 * 3 + kLiveExtraFds);
  // A wait entry's b is a task, except for ep_poll_callback's entry, where it is the epoll
  // instance the hook belongs to.
  const std::size_t wait = first_of(tr, Ev::WaitAdd);
  t = tr;
  t.events[wait].a = std::uint32_t(WaitKind::EpCallback);
  t.events[wait].b = 7;
  CHECK_THAT(check_trace(t), Catch::Contains("(wait_add): b = 7") && Catch::Contains("is not an epoll instance"));
  t.events[wait].a = std::uint32_t(WaitKind::TaskWake);
  CHECK_THAT(check_trace(t), Catch::Contains("(wait_add): b = ") && Catch::Contains("is not a task"));
}

// The probes that took the GUI down: one field of one event changed, the file sealed with a
// valid checksum by write_trace_file. Each is refused, naming the file, the event and the
// field; the same trace built in code replays without harm.
TEST_CASE("trace check: the inputs that crashed replay are refused by read_trace_file", "[trace_check][trace_io]") {
  const Trace tr = small_run();
  TempDir tmp;
  struct Probe {
    Ev kind;
    const char* field;
    std::uint32_t value;
    std::string expect;  // after "events[N] (kind): "
  };
  const std::vector<Probe> probes = {
      {Ev::CpuMode, "a", 250, "a = 250 is not a CpuMode (0..5)"},
      {Ev::SyscallEnter, "a", 100000, "a = 100000 (0x186a0) is not a Sys (1..10)"},
      {Ev::SocketCreate, "obj", 0xFFFFFFFFu,
       "obj = 4294967295 (0xffffffff) is not a socket (0..3: the header's connections and listeners)"},
      {Ev::SocketCreate, "obj", 0xFFFFFFF0u,
       "obj = 4294967280 (0xfffffff0) is not a socket (0..3: the header's connections and listeners)"},
      {Ev::FdInstall, "obj", 0xFFFFFFF0u, "obj = 4294967280 (0xfffffff0) is not an fd (0..133 for 3 connections)"},
  };
  for (const Probe& p : probes) {
    INFO(ev_name(p.kind) << " " << p.field << " = " << p.value);
    const std::size_t k = first_of(tr, p.kind);
    Trace bad = tr;
    (std::string(p.field) == "a" ? bad.events[k].a : bad.events[k].obj) = p.value;
    const std::string path = tmp.file("bad.epstrace");
    write_trace_file(bad, path);
    const std::string msg = read_error(path);
    CHECK(msg == path + ": corrupt: events[" + std::to_string(k) + "] (" + std::string(ev_name(p.kind)) + "): " +
                     p.expect);
    // apply() on the same trace from code: no out-of-bounds write, no growth to fit.
    Replay replay(std::make_shared<const Trace>(bad));
    WorldState end = replay.at(replay.size());
    WorldState good_end = Replay(std::make_shared<const Trace>(tr)).at(tr.events.size());
    CHECK(end.files.size() <= trace_fd_limit(tr));
    CHECK(end.cpus.size() == 2);
    for (std::size_t s = 0; s < std::size_t(Sys::Count); s++) {
      INFO("syscall " << s);
      // The corrupted enter is skipped: one call fewer of its kind, nothing elsewhere.
      std::uint64_t skipped = p.kind == Ev::SyscallEnter && s == tr.events[k].a ? 1 : 0;
      CHECK(end.counters().syscalls[s] + skipped == good_end.counters().syscalls[s]);
    }
  }
  // The original, unchanged, reads back.
  write_trace_file(tr, tmp.file("good.epstrace"));
  CHECK(read_error(tmp.file("good.epstrace")) == "");
}

TEST_CASE("trace check: a header out of range is a bad header", "[trace_check][trace_io]") {
  Trace tr = small_run();
  tr.connections = kMaxTotalConnections + 1;
  TempDir tmp;
  write_trace_file(tr, tmp.file("t.epstrace"));
  CHECK_THAT(read_error(tmp.file("t.epstrace")),
             Catch::StartsWith(tmp.file("t.epstrace") + ": bad header: connections = "));
}

// No false alarms: every shipped lesson under every strategy, in memory; each lesson under
// its own strategy also through a file, as the GUI opens it.
TEST_CASE("trace check: every shipped lesson's trace passes, under every strategy", "[trace_check]") {
  auto files = lessons();
  REQUIRE(files.size() >= 8);
  TempDir tmp;
  for (const fs::path& f : files) {
    const Scenario sc = load_scenario(f.string());
    for (Strategy s : all_strategies()) {
      INFO(f.filename().string() << " under " << strategy_name(s));
      Scenario run = sc;
      run.strategy = s;
      Simulation sim(run);
      sim.run();
      Trace tr = sim.take_trace();
      REQUIRE(tr.events.size() > 100);
      CHECK(check_trace(tr) == "");
      if (s == sc.strategy) {
        const std::string path = tmp.file(f.stem().string() + ".epstrace");
        write_trace_file(tr, path);
        CHECK(read_error(path) == "");
      }
    }
  }
}

#ifdef EPS_HAVE_LIVE
// perf's tracepoints become live events (kernel_trace.cpp): they pass beside the cast's
// TaskCreate events, as live_run.cpp merges them.
TEST_CASE("trace check: a live trace with kernel events passes", "[trace_check][live]") {
  std::ifstream f("tests/data/live/perf_script.txt");
  REQUIRE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  Trace tr;
  tr.source = "live";
  tr.cpus = 2;
  tr.connections = 4;
  tr.strings = {"P (server)", "worker"};
  for (std::uint16_t i = 0; i < 2; i++) {
    TraceEvent e;
    e.kind = Ev::TaskCreate;
    e.actor = i;
    e.a = std::uint32_t(i == 0 ? TaskKind::ServerMain : TaskKind::ServerWorker);
    e.b = i;
    e.obj = 0;
    tr.events.push_back(e);
  }
  std::vector<TraceEvent> ke =
      live::kernel_events(live::parse_perf_script(ss.str()), {{4242, 0}, {4243, 1}}, 5830'300'000'000LL, nullptr);
  REQUIRE(ke.size() == 7);
  tr.events.insert(tr.events.end(), ke.begin(), ke.end());
  for (std::size_t i = 0; i < tr.events.size(); i++) tr.events[i].seq = std::uint32_t(i);
  CHECK(check_trace(tr) == "");
}
#endif
