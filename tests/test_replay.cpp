// Replay rebuilds the world from the trace alone. At the last index it must equal the
// model's own final state; any index reached backward must equal the same index reached
// forward; and a run is byte-for-byte deterministic.
#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "sim/world.h"
#include "sim_fixtures.h"

using namespace eps;
using namespace eps::test;

namespace {

// Compares the replayed state with the simulation's own objects, field by field.
void require_same_as_model(const WorldState& w, const Simulation& sim) {
  const auto& tasks = sim.sched().tasks;
  REQUIRE(w.tasks.size() == tasks.size());
  for (std::size_t i = 0; i < w.tasks.size(); i++) {
    const Task& t = *tasks[i];
    const WsTask& k = w.tasks[i];
    INFO("task " << i << " " << t.name);
    REQUIRE(k.name == t.name);
    REQUIRE(k.state == t.state);
    REQUIRE(k.cpu == t.cpu);
    REQUIRE(k.in_sys == t.in_sys);
  }
  // Switches and CPU time: replay counts them with the model's own accounting function.
  REQUIRE(w.acct.tasks.size() == sim.accounting().tasks.size());
  for (std::size_t i = 0; i < w.acct.tasks.size(); i++) {
    REQUIRE(w.acct.tasks[i].nvcsw == sim.accounting().tasks[i].nvcsw);
    REQUIRE(w.acct.tasks[i].nivcsw == sim.accounting().tasks[i].nivcsw);
    REQUIRE(w.acct.tasks[i].wasted == sim.accounting().tasks[i].wasted);
  }
  REQUIRE(w.acct.k == sim.accounting().k);
  const auto& cpus = sim.sched().cpus;
  REQUIRE(w.cpus.size() == cpus.size());
  for (std::size_t c = 0; c < w.cpus.size(); c++) {
    REQUIRE(w.cpus[c].curr == (cpus[c].curr ? cpus[c].curr->id : kNoTask));
    REQUIRE(w.cpus[c].mode == cpus[c].mode);
  }
  REQUIRE(w.sockets.size() == sim.sockets().size());
  for (std::uint32_t i = 0; i < w.sockets.size(); i++) {
    const Socket& s = sim.sockets().at(i);
    const WsSocket& k = w.sockets[i];
    INFO("socket " << i);
    REQUIRE(k.conn == s.conn);
    REQUIRE(k.listening() == s.listening());
    REQUIRE(k.rxq == s.rxq.size());
    REQUIRE(k.established == s.established);
    REQUIRE(k.accepted == s.accepted);
    REQUIRE(k.accept_queue == s.accept_queue.items());
    REQUIRE(k.wq.size() == s.wq.entries.size());
    for (std::size_t j = 0; j < k.wq.size(); j++) {  // the same entries in the same order
      REQUIRE(k.wq[j].kind == s.wq.entries[j].kind);
      REQUIRE(k.wq[j].exclusive == s.wq.entries[j].exclusive);
    }
    if (k.fd >= 0 && !k.closed) {
      const File* f = sim.files().get(k.fd);
      REQUIRE(f);
      REQUIRE(f->kind == FileKind::Socket);
      REQUIRE(f->id == i);
    }
  }
  for (std::size_t fd = 0; fd < w.files.size(); fd++) {
    const File* f = sim.files().get(int(fd));
    REQUIRE(w.files[fd].used == (f != nullptr));
    if (f) REQUIRE((w.files[fd].kind == f->kind && w.files[fd].id == f->id));
  }
  REQUIRE(w.ring == sim.net().ring().size());
  REQUIRE(w.napi_scheduled == sim.net().napi_scheduled());
  const auto& eps = sim.epoll().instances();
  REQUIRE(w.eps.size() == eps.size());
  for (std::size_t e = 0; e < eps.size(); e++) {
    const EventPoll& ep = *eps[e];
    REQUIRE(w.eps[e].rbr.same_structure(ep.rbr));
    std::vector<std::uint32_t> rdl;
    for (const EpItem* i : ep.rdllist) rdl.push_back(std::uint32_t(i->fd));
    REQUIRE(w.eps[e].rdllist == rdl);
    REQUIRE(w.eps[e].wq.size() == ep.wq.entries.size());
  }
}

Scenario small_crowd(Strategy s) {
  Scenario sc = crowd(s, 6, 30, true);
  sc.duration_ms = 10;
  return sc;
}

}  // namespace

TEST_CASE("replay: the last state equals the model's own, for every strategy", "[replay]") {
  for (Strategy s : all_strategies()) {
    INFO(strategy_name(s));
    Simulation sim(small_crowd(s));
    sim.run();
    auto tr = std::make_shared<const Trace>(sim.trace());
    Replay rp(tr, 1000);
    WorldState w = rp.at(rp.size());
    REQUIRE(w.index == tr->events.size());
    require_same_as_model(w, sim);
    // The counters replayed from events give the model's metrics exactly.
    Metrics replayed = metrics_of(w, *tr, tr->end_ns);
    Metrics model = sim.metrics();
    if (to_json(replayed).dump() != to_json(model).dump()) {
      std::ofstream("/tmp/replayed.json") << to_json(replayed).dump(1);
      std::ofstream("/tmp/model.json") << to_json(model).dump(1);
    }
    REQUIRE(to_json(replayed).dump() == to_json(model).dump());
  }
}

TEST_CASE("replay: a state reached backward equals the same state reached forward", "[replay]") {
  Simulation sim(small_crowd(Strategy::Epoll));
  sim.run();
  auto tr = std::make_shared<const Trace>(sim.take_trace());
  Replay rp(tr, 500);
  REQUIRE(rp.snapshots() > 3);
  std::mt19937_64 rng(7);
  WorldState cursor = rp.at(0);
  for (int i = 0; i < 40; i++) {
    std::size_t idx = std::size_t(rng() % (rp.size() + 1));
    rp.seek(cursor, idx);  // from wherever the cursor is: forward or backward
    WorldState fresh = initial_world(*tr);
    for (std::size_t k = 0; k < idx; k++) apply(fresh, *tr, tr->events[k]);
    REQUIRE(cursor.index == idx);
    REQUIRE(cursor.t == fresh.t);
    REQUIRE(cursor.tasks == fresh.tasks);
    REQUIRE(cursor.sockets == fresh.sockets);
    REQUIRE(cursor.cpus == fresh.cpus);
    REQUIRE(cursor.acct == fresh.acct);
    REQUIRE(cursor.files == fresh.files);
    REQUIRE(cursor.wire == fresh.wire);
    REQUIRE(cursor.eps.size() == fresh.eps.size());
    for (std::size_t e = 0; e < cursor.eps.size(); e++) {
      REQUIRE(cursor.eps[e].rdllist == fresh.eps[e].rdllist);
      REQUIRE(cursor.eps[e].wq == fresh.eps[e].wq);
      REQUIRE(cursor.eps[e].rbr.same_structure(fresh.eps[e].rbr));
    }
  }
}

TEST_CASE("replay: stepping one event back undoes exactly that event", "[replay]") {
  Simulation sim(one_request(Strategy::Epoll));
  sim.run();
  auto tr = std::make_shared<const Trace>(sim.take_trace());
  Replay rp(tr, 4);
  for (std::size_t i = 1; i <= rp.size(); i++) {
    WorldState a = rp.at(i - 1);
    WorldState b = rp.at(i);
    apply(a, *tr, tr->events[i - 1]);
    REQUIRE(a.tasks == b.tasks);
    REQUIRE(a.acct == b.acct);
    REQUIRE(a.sockets == b.sockets);
  }
}

TEST_CASE("replay: index_at_time finds the first event at or after a time", "[replay]") {
  Simulation sim(one_request(Strategy::Epoll));
  sim.run();
  auto tr = std::make_shared<const Trace>(sim.take_trace());
  Replay rp(tr);
  REQUIRE(rp.index_at_time(0) == 0);
  std::size_t i = rp.index_at_time(12000);
  REQUIRE(tr->events[i].t >= 12000);
  REQUIRE(tr->events[i - 1].t < 12000);
  REQUIRE(rp.index_at_time(tr->end_ns + 1) == rp.size());
}

TEST_CASE("determinism: same scenario and seed give the same trace, byte for byte", "[replay][determinism]") {
  for (Strategy s : all_strategies()) {
    INFO(strategy_name(s));
    Simulation a(small_crowd(s));
    Simulation b(small_crowd(s));
    a.run();
    b.run();
    REQUIRE(a.trace().events.size() == b.trace().events.size());
    REQUIRE(std::memcmp(a.trace().events.data(), b.trace().events.data(),
                        a.trace().events.size() * sizeof(TraceEvent)) == 0);
    REQUIRE(to_json(a.metrics()).dump() == to_json(b.metrics()).dump());
    // A metrics-only run computes the same metrics as a traced one.
    Simulation c(small_crowd(s), RunOptions{false, {}});
    c.run();
    REQUIRE(to_json(c.metrics()).dump() == to_json(a.metrics()).dump());
  }
}

TEST_CASE("determinism: another seed gives another run", "[replay][determinism]") {
  Scenario sc = small_crowd(Strategy::Epoll);
  Simulation a(sc);
  sc.seed = 2;
  Simulation b(sc);
  a.run();
  b.run();
  REQUIRE(a.metrics().requests_sent != b.metrics().requests_sent);
}
