// Tests for sim/scenario.cpp: the TOML schema, its defaults, and every class of error message.
#include <catch2/catch.hpp>

#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "sim/scenario.h"

#ifndef EPS_SOURCE_DIR
#define EPS_SOURCE_DIR "."
#endif

namespace {

std::string fixture(const std::string& name) {
  return std::string(EPS_SOURCE_DIR) + "/tests/data/scenarios/" + name;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

// Runs f, requires a ScenarioError, returns it.
template <class F>
eps::ScenarioError error_of(F&& f) {
  try {
    f();
  } catch (const eps::ScenarioError& e) {
    return e;
  }
  FAIL("expected a ScenarioError");
  throw std::logic_error("unreachable");
}

eps::ScenarioError parse_error(const std::string& text) {
  return error_of([&] { eps::parse_scenario(text, "t.toml"); });
}

eps::ScenarioError load_error(const std::string& name) {
  return error_of([&] { eps::load_scenario(fixture(name)); });
}


}  // namespace

TEST_CASE("scenario: strategy names round-trip in compare order", "[scenario]") {
  const auto& all = eps::all_strategies();
  const char* names[] = {"blocking", "busy-poll", "select", "poll", "epoll", "epoll-et",
                         "epoll-shared", "epoll-per-thread", "reuseport"};
  REQUIRE(all.size() == std::size(names));
  for (int i = 0; i < int(all.size()); ++i) {
    CHECK(static_cast<int>(all[i]) == i);
    CHECK(eps::strategy_name(all[i]) == names[i]);
    REQUIRE(eps::parse_strategy(names[i]).has_value());
    CHECK(*eps::parse_strategy(names[i]) == all[i]);
  }
  CHECK_FALSE(eps::parse_strategy("EPOLL").has_value());
  CHECK_FALSE(eps::parse_strategy("").has_value());
  CHECK_FALSE(eps::parse_strategy("busy_poll").has_value());
}

TEST_CASE("scenario: derived values", "[scenario]") {
  eps::Scenario s;
  s.clients = {eps::ClientGroup{}, eps::ClientGroup{}};
  s.clients[0].connections = 10;
  s.clients[1].connections = 32;
  CHECK(s.total_connections() == 42);

  const std::pair<int, eps::SimTime> table[] = {{1, 1}, {2, 2}, {3, 2}, {4, 3},
                                                {7, 3}, {8, 4}, {16, 4}, {64, 4}};
  for (auto [cpus, factor] : table) {
    s.cpus = cpus;
    CHECK(s.effective_slice_ns() == 750'000 * factor);
    CHECK(s.effective_wakeup_granularity_ns() == 1'000'000 * factor);
  }
  s.kernel.sched_slice_ns = 123;
  s.kernel.wakeup_granularity_ns = 456;
  CHECK(s.effective_slice_ns() == 123);
  CHECK(s.effective_wakeup_granularity_ns() == 456);
}

TEST_CASE("scenario: error text formats", "[scenario]") {
  eps::ScenarioError a("x.toml", 12, "server.work_us", "expected an integer, got a string");
  CHECK(std::string(a.what()) == "x.toml:12: server.work_us: expected an integer, got a string");
  CHECK(a.file() == "x.toml");
  CHECK(a.line() == 12);
  CHECK(a.key() == "server.work_us");
  CHECK(a.message() == "expected an integer, got a string");
  CHECK(std::string(eps::ScenarioError("x.toml", 0, "title", "missing").what()) ==
        "x.toml: title: missing");
  CHECK(std::string(eps::ScenarioError("x.toml", 0, "", "cannot read").what()) ==
        "x.toml: cannot read");
}

TEST_CASE("scenario: minimal file gets every default", "[scenario]") {
  const auto s = eps::load_scenario(fixture("good_minimal.toml"));
  const eps::Scenario d;  // the documented defaults
  CHECK(s.path == fixture("good_minimal.toml"));
  CHECK(s.title == "One client");
  CHECK(s.description.empty());
  CHECK(s.seed == 1);
  CHECK(s.duration_ms == 100);
  CHECK(s.drain_ms == 100);
  CHECK(s.cpus == 1);
  CHECK(s.strategy == eps::Strategy::Epoll);
  CHECK(s.work_us == 20);
  CHECK(s.reply_bytes == 64);
  CHECK_FALSE(s.et_read_once);
  REQUIRE(s.clients.size() == 1);
  CHECK(s.clients[0].name == "clients1");
  CHECK(s.clients[0].connections == 1);
  CHECK(s.clients[0].mode == eps::ClientMode::Open);
  CHECK(s.clients[0].rate_per_s == eps::ClientGroup{}.rate_per_s);
  CHECK(s.clients[0].requests == 0);
  CHECK(s.clients[0].think_us == 0);
  CHECK(s.clients[0].request_bytes == 64);
  CHECK(s.background.empty());
  CHECK(s.costs.syscall_ns == d.costs.syscall_ns);
  CHECK(s.costs.wire_latency_ns == d.costs.wire_latency_ns);
  CHECK(s.kernel.netdev_budget == 300);
  CHECK(s.kernel.napi_weight == 64);
  CHECK(s.kernel.rx_ring == 1024);
  CHECK(s.kernel.sched_slice_ns == 0);
  CHECK(s.kernel.wakeup_granularity_ns == 0);
  CHECK(s.kernel.maxevents == 64);
}

TEST_CASE("scenario: full file sets every field", "[scenario]") {
  const auto s = eps::load_scenario(fixture("good_full.toml"));
  CHECK(s.title == "Ten busy clients, one epoll loop");
  CHECK(s.description.find("500 requests/s") != std::string::npos);
  CHECK(s.seed == 7);
  CHECK(s.duration_ms == 200);
  CHECK(s.drain_ms == 50);
  CHECK(s.cpus == 2);
  CHECK(s.strategy == eps::Strategy::EpollEt);
  CHECK(s.work_us == 30);
  CHECK(s.reply_bytes == 128);
  CHECK(s.et_read_once);
  REQUIRE(s.clients.size() == 3);
  CHECK(s.clients[0].name == "active");
  CHECK(s.clients[0].connections == 10);
  CHECK(s.clients[0].mode == eps::ClientMode::Open);
  CHECK(s.clients[0].rate_per_s == 500.0);
  CHECK(s.clients[0].request_bytes == 100);
  CHECK(s.clients[1].name == "chatty");
  CHECK(s.clients[1].mode == eps::ClientMode::Closed);
  CHECK(s.clients[1].requests == 1000);
  CHECK(s.clients[1].think_us == 250);
  CHECK(s.clients[1].rate_per_s == 2.5);
  CHECK(s.clients[2].name == "clients3");
  CHECK(s.clients[2].connections == 90);
  CHECK(s.clients[2].rate_per_s == 0.0);
  CHECK(s.total_connections() == 103);
  REQUIRE(s.background.size() == 1);
  CHECK(s.background[0].name == "compile");
  CHECK(s.background[0].count == 2);
  const auto& c = s.costs;
  CHECK(c.syscall_ns == 150);
  CHECK(c.context_switch_ns == 3000);
  CHECK(c.wakeup_ns == 2500);
  CHECK(c.irq_ns == 1100);
  CHECK(c.softirq_packet_ns == 900);
  CHECK(c.poll_fd_ns == 400);
  CHECK(c.epoll_wait_ns == 250);
  CHECK(c.epoll_event_ns == 60);
  CHECK(c.epoll_ctl_ns == 550);
  CHECK(c.accept_ns == 1200);
  CHECK(c.clone_ns == 25000);
  CHECK(c.copy_per_kib_ns == 120);
  CHECK(c.tx_packet_ns == 1300);
  CHECK(c.wire_latency_ns == 0);
  CHECK(s.kernel.netdev_budget == 600);
  CHECK(s.kernel.napi_weight == 32);
  CHECK(s.kernel.rx_ring == 256);
  CHECK(s.kernel.sched_slice_ns == 3'000'000);
  CHECK(s.kernel.wakeup_granularity_ns == 0);
  CHECK(s.kernel.maxevents == 16);
  CHECK(s.effective_slice_ns() == 3'000'000);
  CHECK(s.effective_wakeup_granularity_ns() == 2'000'000);
}

TEST_CASE("scenario: parse_scenario accepts inline tables and dotted keys", "[scenario]") {
  const auto s = eps::parse_scenario(
      "title = 't'\nserver.strategy = 'poll'\nmachine = { cpus = 4 }\n"
      "clients = [ { connections = 2 }, { name = 'b', mode = 'closed' } ]\n",
      "inline.toml");
  CHECK(s.path == "inline.toml");
  CHECK(s.strategy == eps::Strategy::Poll);
  CHECK(s.cpus == 4);
  REQUIRE(s.clients.size() == 2);
  CHECK(s.clients[0].name == "clients1");
  CHECK(s.clients[1].mode == eps::ClientMode::Closed);
  for (auto st : eps::all_strategies()) {
    const auto t = eps::parse_scenario("title='t'\n[server]\nstrategy='" +
                                           std::string(eps::strategy_name(st)) +
                                           "'\n[[clients]]\n",
                                       "s.toml");
    CHECK(t.strategy == st);
  }
}

TEST_CASE("scenario: file that cannot be read", "[scenario]") {
  auto e = load_error("no_such_file.toml");
  CHECK(std::string(e.what()) ==
        fixture("no_such_file.toml") + ": cannot read: No such file or directory");
  CHECK(e.line() == 0);
  CHECK(e.key().empty());

  auto d = error_of([] { eps::load_scenario(fixture("")); });
  CHECK(d.message() == "cannot read: Is a directory");
}

TEST_CASE("scenario: empty file and comments-only file", "[scenario]") {
  for (const char* name : {"empty.toml", "comments_only.toml"}) {
    auto e = load_error(name);
    CHECK(std::string(e.what()) ==
          fixture(name) + ": empty scenario: expected at least `title` and one [[clients]]");
  }
  CHECK(parse_error("   \n\t\n").message().rfind("empty scenario", 0) == 0);
}

TEST_CASE("scenario: binary file", "[scenario]") {
  auto e = load_error("binary.toml");
  CHECK(e.message().rfind("not a text file", 0) == 0);
  CHECK(e.line() == 3);
  CHECK(parse_error("title = \"\xff\xfe\"\n").message().rfind("not a text file", 0) == 0);
  CHECK(parse_error("\xef\xbf").message().rfind("not a text file", 0) == 0);   // truncated
  CHECK(parse_error("\xed\xa0\x80").message().rfind("not a text file", 0) == 0);  // surrogate
  CHECK(parse_error("\xc0\xaf").message().rfind("not a text file", 0) == 0);  // overlong
  CHECK(parse_error("\xff\xfet\0i\0").message().find("UTF-16") != std::string::npos);
  // Real UTF-8 is fine.
  const auto s = eps::parse_scenario("title = \"Caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x9a\x80\"\n[[clients]]\n", "u.toml");
  CHECK(s.title == "Caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x9a\x80");
}

TEST_CASE("scenario: TOML syntax error has toml++'s line and description", "[scenario]") {
  auto e = load_error("bad_syntax.toml");
  CHECK(e.line() == 3);
  CHECK(e.key().empty());
  CHECK_FALSE(e.message().empty());
  CHECK(std::string(e.what()).rfind(fixture("bad_syntax.toml") + ":3: ", 0) == 0);

  auto d = parse_error("title = 't'\ntitle = 'u'\n[[clients]]\n");
  CHECK(d.line() == 2);
  auto u = parse_error("title = 't\n");
  CHECK(u.line() == 1);

  // Headers that trip an assertion inside toml++ 3.3 get the released library's message.
  for (const char* text : {"[[[", "s=0\n[[[a]]]", "[=", "[#x]", "[\n", "[[ =]]", "[\r\n"}) {
    INFO(text);
    auto h = parse_error(text);
    CHECK(h.message().find("expected bare key starting character or string delimiter") !=
          std::string::npos);
  }
  CHECK(parse_error("title='t'\n\n[[[clients]]]\n").line() == 3);
  // ... an earlier error still comes first,
  CHECK(parse_error("title='t\n\n[[[clients]]]\n").line() == 1);
  // ... and a `[` starting a line inside an array or string is no header.
  auto arr = parse_error(
      "title='''\n[=\n'''\n[[clients]]\nconnections = [\n[+1],\n[ 'x' ]\n]\n");
  CHECK(arr.key() == "clients[1].connections");
  CHECK(arr.message() == "expected an integer, got an array");
}

TEST_CASE("scenario: non-ASCII text where toml++ 3.3 would misbehave", "[scenario]") {
  // Outside strings and comments, non-ASCII is a syntax error, on its line.
  auto e = parse_error("title = 't'\nseed = 1 \xc3\xa9\n[[clients]]\n");
  CHECK(e.line() == 2);
  CHECK(e.message().find("unexpected character '\xc3\xa9'") != std::string::npos);
  CHECK(parse_error("\xc2\xa7 = 1\n").line() == 1);
  CHECK(parse_error("[a \xc2\xa7]\n").line() == 1);
  // ... but an earlier error still comes first.
  CHECK(parse_error("title = 't\n\n\xc2\xa7 = 1\n").line() == 1);
  // A backslash before a non-ASCII character in a """ string is an unknown escape.
  auto esc = parse_error("title = \"\"\"a\\\xc2\xa7\"\"\"\n[[clients]]\n");
  CHECK(esc.line() == 1);
  CHECK(esc.message().find("escape") != std::string::npos);
  CHECK(parse_error("title = \"\"\"a\\  \xc2\xa7\n\"\"\"\n[[clients]]\n").line() == 1);
  // Valid TOML: a line-ending backslash trims up to a non-ASCII character.
  const auto s = eps::parse_scenario(
      "title = \"\"\"Caf\\\n      \xc3\xa9 \\\n\n  \xf0\x9f\x9a\x80\"\"\"\n[[clients]]\nname = 'x'\n",
      "u.toml");
  CHECK(s.title == "Caf\xc3\xa9 \xf0\x9f\x9a\x80");
  // ... and the lines after it keep their numbers.
  auto later = parse_error(
      "title = \"\"\"Caf\\\n      \xc3\xa9\"\"\"\n[[clients]]\nmode = 3\n");
  CHECK(later.line() == 4);
  CHECK(later.key() == "clients[1].mode");
  // Non-ASCII in ordinary strings, literal strings, quoted keys and comments is fine.
  const auto ok = eps::parse_scenario(
      "# \xc2\xa7 comment\ntitle = '\xc2\xa7'\ndescription = '''\n\xc2\xa7\n'''\n"
      "[[clients]]\nname = \"\xc3\xa9\\u00e9\"\n",
      "ok.toml");
  CHECK(ok.title == "\xc2\xa7");
  CHECK(ok.clients[0].name == "\xc3\xa9\xc3\xa9");
  auto qk = parse_error("title='t'\n\"\xc3\xa9t\xc3\xa9\" = 1\n[[clients]]\n");
  CHECK(qk.key() == "\xc3\xa9t\xc3\xa9");
  CHECK(qk.line() == 2);
}

TEST_CASE("scenario: unknown key with suggestion", "[scenario]") {
  auto e = load_error("bad_typo.toml");
  CHECK(std::string(e.what()) ==
        fixture("bad_typo.toml") + ":5: server.wrok_us: unknown key; did you mean `work_us`?");
  CHECK(e.key() == "server.wrok_us");
  CHECK(e.line() == 5);

  auto t = parse_error("titel = 't'\n[[clients]]\n");
  CHECK(std::string(t.what()) == "t.toml:1: titel: unknown key; did you mean `title`?");

  auto c = parse_error("title='t'\n[[clients]]\n[[clients]]\nconections = 3\n");
  CHECK(std::string(c.what()) ==
        "t.toml:4: clients[2].conections: unknown key; did you mean `connections`?");

  auto k = parse_error("title='t'\n[[clients]]\n[costs]\nirq = 5\n");
  CHECK(std::string(k.what()) == "t.toml:4: costs.irq: unknown key; did you mean `irq_ns`?");

  // Nothing close: list what is allowed.
  auto far = parse_error("title='t'\n[[clients]]\n[machine]\nmemory_gb = 4\n");
  CHECK(far.key() == "machine.memory_gb");
  CHECK(far.message() == "unknown key; allowed here: cpus");

  // A key of another table: say where it belongs.
  auto wrong = parse_error("title='t'\nstrategy = 'poll'\n[[clients]]\n");
  CHECK(wrong.key() == "strategy");
  CHECK(wrong.message() == "unknown key; `strategy` belongs in [server]");

  // A whole unknown table, and the first unknown key in file order.
  auto tbl = parse_error("title='t'\n[[clients]]\n[network]\nmtu = 1500\n");
  CHECK(tbl.key() == "network");
  auto order = parse_error("title='t'\n[[clients]]\n[server]\nzzz = 1\naaa = 2\n");
  CHECK(order.key() == "server.zzz");
  CHECK(order.line() == 4);
}

TEST_CASE("scenario: wrong type", "[scenario]") {
  auto e = load_error("bad_type.toml");
  CHECK(std::string(e.what()) ==
        fixture("bad_type.toml") + ":4: server.work_us: expected an integer, got a string");

  CHECK(parse_error("title = 5\n[[clients]]\n").message() == "expected a string, got an integer");
  CHECK(parse_error("title='t'\n[server]\net_read_once = 1\n[[clients]]\n").message() ==
        "expected true or false, got an integer");
  CHECK(parse_error("title='t'\n[[clients]]\nrate_per_s = '5'\n").message() ==
        "expected a number, got a string");
  CHECK(parse_error("title='t'\nseed = 1979-05-27\n[[clients]]\n").message() ==
        "expected an integer, got a date");

  // Tables must be tables, clients an array of tables.
  auto m = parse_error("title='t'\nmachine = 2\n[[clients]]\n");
  CHECK(std::string(m.what()) == "t.toml:2: machine: expected a table ([machine]), got an integer");
  auto ct = parse_error("title='t'\n[clients]\nconnections = 2\n");
  CHECK(ct.key() == "clients");
  CHECK(ct.message().find("[[clients]]") != std::string::npos);
  auto cs = parse_error("title='t'\nclients = 'many'\n");
  CHECK(cs.message() == "expected an array of tables ([[clients]]), got a string");
  auto ce = parse_error("title='t'\nclients = [ {}, 3 ]\n");
  CHECK(ce.key() == "clients[2]");
  CHECK(ce.message() == "expected a table, got an integer");
  CHECK(parse_error("title='t'\n[[clients]]\nbackground = 1\n").key() == "clients[1].background");
  CHECK(parse_error("title='t'\n[[clients]]\n[background]\n").key() == "background");
}

TEST_CASE("scenario: floats where integers are required", "[scenario]") {
  auto e = load_error("float_for_int.toml");
  CHECK(std::string(e.what()) == fixture("float_for_int.toml") +
                                     ":4: clients[1].connections: expected an integer, got a "
                                     "float (2.5)");
  auto whole = parse_error("title='t'\n[server]\nwork_us = 20.0\n[[clients]]\n");
  CHECK(whole.message() == "expected an integer, got a float (write 20, not 20.0)");
  // Integers where floats are allowed are fine.
  const auto s = eps::parse_scenario("title='t'\n[[clients]]\nrate_per_s = 7\n", "t.toml");
  CHECK(s.clients[0].rate_per_s == 7.0);
}

TEST_CASE("scenario: out of range", "[scenario]") {
  auto e = load_error("bad_range.toml");
  CHECK(std::string(e.what()) ==
        fixture("bad_range.toml") + ":4: machine.cpus: must be between 1 and 64, got 0");

  struct Case {
    const char* text;
    const char* key;
    const char* message;
  };
  const Case cases[] = {
      {"seed = -1", "seed", "must be 0 or more, got -1"},
      {"duration_ms = 0", "duration_ms", "must be between 1 and 3600000, got 0"},
      {"drain_ms = 3600001", "drain_ms", "must be between 0 and 3600000, got 3600001"},
      {"[server]\nwork_us = 1000001", "server.work_us",
       "must be between 0 and 1000000, got 1000001"},
      {"[server]\nreply_bytes = 0", "server.reply_bytes", "must be between 1 and 65536, got 0"},
      {"[kernel]\nnapi_weight = 2000", "kernel.napi_weight",
       "must be between 1 and 1024, got 2000"},
      {"[kernel]\nsched_slice_ns = -5", "kernel.sched_slice_ns",
       "must be between 0 and 1000000000, got -5"},
      {"[kernel]\nmaxevents = 0", "kernel.maxevents", "must be between 1 and 65536, got 0"},
      {"[kernel]\nrx_ring = 65537", "kernel.rx_ring", "must be between 1 and 65536, got 65537"},
      {"[kernel]\nnetdev_budget = 0", "kernel.netdev_budget",
       "must be between 1 and 100000, got 0"},
      {"[costs]\nirq_ns = -1", "costs.irq_ns", "must be 0 or more, got -1"},
      {"[[background]]\ncount = 65", "background[1].count", "must be between 1 and 64, got 65"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto err = parse_error(std::string("title='t'\n") + c.text + "\n[[clients]]\n");
    CHECK(err.key() == c.key);
    CHECK(err.message() == c.message);
    CHECK(err.line() > 1);
  }

  struct ClientCase {
    const char* line;
    const char* key;
    const char* message;
  };
  const ClientCase client_cases[] = {
      {"connections = 0", "clients[1].connections", "must be between 1 and 100000, got 0"},
      {"rate_per_s = -0.5", "clients[1].rate_per_s", "must be between 0 and 10000000, got -0.5"},
      {"rate_per_s = 1e8", "clients[1].rate_per_s",
       "must be between 0 and 10000000, got 100000000"},
      {"rate_per_s = nan", "clients[1].rate_per_s", "must be between 0 and 10000000, got nan"},
      {"rate_per_s = inf", "clients[1].rate_per_s", "must be between 0 and 10000000, got inf"},
      {"requests = -1", "clients[1].requests", "must be between 0 and 1000000000, got -1"},
      {"think_us = 1000000001", "clients[1].think_us",
       "must be between 0 and 1000000000, got 1000000001"},
      {"request_bytes = 65537", "clients[1].request_bytes",
       "must be between 1 and 65536, got 65537"},
  };
  for (const auto& c : client_cases) {
    INFO(c.line);
    auto err = parse_error(std::string("title='t'\n[[clients]]\n") + c.line + "\n");
    CHECK(err.key() == c.key);
    CHECK(err.message() == c.message);
    CHECK(err.line() == 3);
  }

  // Edges are allowed.
  const auto s = eps::parse_scenario(
      "title='t'\nseed=0\nduration_ms=3600000\ndrain_ms=0\n[machine]\ncpus=64\n"
      "[server]\nwork_us=0\nreply_bytes=65536\n[[clients]]\nconnections=100000\n"
      "rate_per_s=1e7\nrequests=1000000000\nthink_us=1000000000\nrequest_bytes=1\n"
      "[kernel]\nnetdev_budget=100000\nnapi_weight=1024\nrx_ring=65536\n"
      "sched_slice_ns=1000000000\nmaxevents=65536\n",
      "edges.toml");
  CHECK(s.total_connections() == 100'000);
  CHECK(s.cpus == 64);
}

TEST_CASE("scenario: too many connections over all groups", "[scenario]") {
  auto e = load_error("too_many_connections.toml");
  CHECK(e.key() == "clients");
  CHECK(e.message() == "too many connections: 100001 over all groups, at most 100000");
}

TEST_CASE("scenario: unknown strategy and mode list the allowed values", "[scenario]") {
  auto s = load_error("bad_strategy.toml");
  CHECK(std::string(s.what()) ==
        fixture("bad_strategy.toml") +
            ":4: server.strategy: unknown strategy `io_uring` (expected one of: blocking, "
            "busy-poll, select, poll, epoll, epoll-et, epoll-shared, epoll-per-thread, reuseport)");
  auto near = parse_error("title='t'\n[server]\nstrategy = 'epol'\n[[clients]]\n");
  CHECK(near.message() ==
        "unknown strategy `epol`; did you mean `epoll`? (expected one of: blocking, busy-poll, "
        "select, poll, epoll, epoll-et, epoll-shared, epoll-per-thread, reuseport)");
  auto m = load_error("bad_mode.toml");
  CHECK(std::string(m.what()) == fixture("bad_mode.toml") +
                                     ":8: clients[2].mode: unknown mode `half-open` (expected "
                                     "one of: open, closed)");
}

TEST_CASE("scenario: missing required keys", "[scenario]") {
  auto t = load_error("missing_title.toml");
  CHECK(std::string(t.what()) ==
        fixture("missing_title.toml") + ": title: missing; every scenario needs a title = \"...\"");
  CHECK(t.line() == 0);
  auto c = load_error("missing_clients.toml");
  CHECK(std::string(c.what()) ==
        fixture("missing_clients.toml") + ": clients: missing; add at least one [[clients]] group");
  auto empty_title = parse_error("title = '  '\n[[clients]]\n");
  CHECK(empty_title.key() == "title");
  CHECK(empty_title.message() == "must not be empty");
  auto no_groups = parse_error("title = 't'\nclients = []\n");
  CHECK(no_groups.key() == "clients");
  CHECK(no_groups.line() == 2);
}

TEST_CASE("scenario: client group names must be unique", "[scenario]") {
  auto e = load_error("duplicate_names.toml");
  CHECK(e.key() == "clients[2].name");
  CHECK(e.line() == 7);
  CHECK(e.message() ==
        "duplicate name `same` (clients[1] has it too); group names must be unique");
  // A default name colliding with an explicit one is also caught.
  auto d = parse_error("title='t'\n[[clients]]\n[[clients]]\nname = 'clients1'\n");
  CHECK(d.key() == "clients[2].name");
}

TEST_CASE("scenario: odd keys are shown on one line", "[scenario]") {
  auto e = parse_error("title='t'\n\"a\\nb\" = 1\n[[clients]]\n");
  CHECK(e.key() == "a\\x0ab");
  CHECK(std::string(e.what()).find('\n') == std::string::npos);
}

TEST_CASE("scenario: never crashes on mutated input", "[scenario]") {
  const std::string good = read_all(fixture("good_full.toml"));
  REQUIRE_FALSE(good.empty());
  REQUIRE_NOTHROW(eps::parse_scenario(good, "good.toml"));

  const std::string tokens[] = {"[",    "]",     "[[",  "]]",   "=",       "\"",    "'",     "'''",
                          "\"\"\"", "\n",  "#",   ",",    "{",       "}",     ".",     "-",
                          "+",    "0x",    "1e400", "nan", "inf",     "-inf",  "9223372036854775808",
                          "true", "1979-05-27T07:32:00Z", "\\u0000", "\\",   "\r\n",  "\t",
                          "[[clients]]\n", "[server]\n", "x = 1\n", "\xc3\xa9", "\xc2\xa7", "\xe2\x80\x80", "\\\n", "\\ \n  ", "\xff", std::string(1, '\0')};
  const std::size_t ntok = sizeof tokens / sizeof tokens[0];

  std::mt19937 rng(20240611);
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  int ok = 0, errors = 0;
  for (int iter = 0; iter < 600; ++iter) {
    std::string s = good;
    const int edits = 1 + static_cast<int>(pick(6));
    for (int k = 0; k < edits; ++k) {
      const std::size_t pos = s.empty() ? 0 : pick(s.size() + 1);
      switch (pick(7)) {
        case 0:  // flip a byte
          if (!s.empty()) s[pos % s.size()] = static_cast<char>(pick(256));
          break;
        case 1:  // delete a run
          if (!s.empty()) s.erase(pos % s.size(), 1 + pick(40));
          break;
        case 2:  // insert a token
          s.insert(pos, tokens[pick(ntok)]);
          break;
        case 3:  // duplicate a run
          if (!s.empty()) {
            const std::size_t a = pos % s.size();
            const std::string run = s.substr(a, 1 + pick(80));
            s.insert(pick(s.size() + 1), run);
          }
          break;
        case 4:  // truncate
          s.resize(pos);
          break;
        case 5:  // replace a digit run's neighbour with another digit
          if (!s.empty()) s[pos % s.size()] = static_cast<char>('0' + pick(10));
          break;
        default:  // random bytes
          for (std::size_t r = 0, n = pick(16); r < n; ++r)
            s.insert(s.begin() + static_cast<std::ptrdiff_t>(std::min(pos, s.size())),
                     static_cast<char>(pick(256)));
          break;
      }
    }
    try {
      (void)eps::parse_scenario(s, "fuzz.toml");
      ++ok;
    } catch (const eps::ScenarioError& e) {
      ++errors;
      const std::string w = e.what();
      CHECK(w.rfind("fuzz.toml", 0) == 0);
      CHECK_FALSE(e.message().empty());
    } catch (const std::exception& e) {
      FAIL("unexpected exception type: " << e.what());
    } catch (...) {
      FAIL("unexpected non-std exception");
    }
  }
  // Deep nesting and pure noise.
  for (int iter = 0; iter < 50; ++iter) {
    std::string noise(pick(300), '\0');
    for (auto& ch : noise) ch = static_cast<char>(pick(128) ? pick(128) : pick(256));
    try {
      (void)eps::parse_scenario(noise, "fuzz.toml");
    } catch (const eps::ScenarioError&) {
    }
  }
  CHECK_THROWS_AS(eps::parse_scenario("a = " + std::string(5000, '[') + "\n", "deep.toml"),
                  eps::ScenarioError);
  CHECK_THROWS_AS(eps::parse_scenario("a = " + std::string(5000, '{') + "\n", "deep.toml"),
                  eps::ScenarioError);
  CHECK(ok + errors == 600);
  CHECK(errors > 0);
}

// ---- costs files (--costs FILE; what `calibrate` writes) ----

TEST_CASE("costs file: keys given replace the base, the rest stay", "[scenario]") {
  eps::Costs base;
  base.poll_fd_ns = 777;  // as if the scenario had set it
  eps::Costs c = eps::parse_costs("# measured\n[costs]\nsyscall_ns = 87\nwakeup_ns = 0\n", "m.toml", base);
  CHECK(c.syscall_ns == 87);
  CHECK(c.wakeup_ns == 0);
  CHECK(c.poll_fd_ns == 777);
  CHECK(c.context_switch_ns == eps::Costs{}.context_switch_ns);
}

TEST_CASE("costs file: every key name round-trips through cost_field", "[scenario]") {
  eps::Costs c;
  std::string text = "[costs]\n";
  std::int64_t v = 11;
  for (std::string_view k : eps::cost_keys()) text += std::string(k) + " = " + std::to_string(v++) + "\n";
  eps::Costs got = eps::parse_costs(text, "all.toml");
  v = 11;
  for (std::string_view k : eps::cost_keys()) CHECK(*eps::cost_field(got, k) == v++);
  CHECK(eps::cost_field(c, "no_such_ns") == nullptr);
}

TEST_CASE("costs file: bad input names file, line and key", "[scenario]") {
  auto err = [](const std::string& text) {
    try {
      eps::parse_costs(text, "m.toml");
    } catch (const eps::ScenarioError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(err("[costs]\nsyscal_ns = 5\n") == "m.toml:2: costs.syscal_ns: unknown key; did you mean `syscall_ns`?");
  CHECK(err("[costs]\nsyscall_ns = -5\n").rfind("m.toml:2: costs.syscall_ns:", 0) == 0);
  CHECK(err("[costs]\nsyscall_ns = 'fast'\n").rfind("m.toml:2: costs.syscall_ns: expected an integer", 0) == 0);
  CHECK(err("title = 'x'\n[costs]\n").rfind("m.toml:1: title: unknown key", 0) == 0);
  CHECK(err("# nothing\n") == "m.toml: costs: missing: a costs file holds one [costs] table (see `epollscope-cli calibrate`)");
  CHECK(err("[costs\n").rfind("m.toml:1:", 0) == 0);
  try {
    eps::load_costs("tests/data/no_such_costs.toml");
    FAIL("no error");
  } catch (const eps::ScenarioError& e) {
    CHECK_THAT(e.what(), Catch::Contains("cannot read"));
  }
}
