// Small scenarios built in code, for the model's tests.
#pragma once

#include <algorithm>
#include <vector>

#include "sim/simulation.h"

namespace eps::test {

// One connection, one closed-loop request, one CPU, default costs: the scenario whose
// timeline the tests derive by hand.
inline Scenario one_request(Strategy s) {
  Scenario sc;
  sc.title = "one request";
  sc.duration_ms = 1;
  sc.strategy = s;
  ClientGroup g;
  g.connections = 1;
  g.mode = ClientMode::Closed;
  g.requests = 1;
  sc.clients.push_back(g);
  return sc;
}

// A crowd: a few busy connections among many idle ones, and a CPU-bound neighbour.
inline Scenario crowd(Strategy s, int active = 10, int idle = 500, bool neighbour = true, int cpus = 1) {
  Scenario sc;
  sc.title = "crowd";
  sc.duration_ms = 50;
  sc.strategy = s;
  sc.cpus = cpus;
  sc.work_us = 10;
  ClientGroup a;
  a.name = "active";
  a.connections = active;
  a.rate_per_s = 1000;
  sc.clients.push_back(a);
  if (idle > 0) {
    ClientGroup i;
    i.name = "idle";
    i.connections = idle;
    i.rate_per_s = 0;
    sc.clients.push_back(i);
  }
  if (neighbour) sc.background.push_back(BackgroundGroup{"Q", 1});
  return sc;
}

inline std::vector<TraceEvent> of_kind(const Trace& t, Ev k) {
  std::vector<TraceEvent> out;
  for (const TraceEvent& e : t.events) if (e.kind == k) out.push_back(e);
  return out;
}

// The kinds of events, in order, keeping only those listed in `keep`.
inline std::vector<Ev> kinds(const Trace& t, std::initializer_list<Ev> keep) {
  std::vector<Ev> out;
  for (const TraceEvent& e : t.events)
    if (std::find(keep.begin(), keep.end(), e.kind) != keep.end()) out.push_back(e.kind);
  return out;
}

inline const TraceEvent* first(const Trace& t, Ev k, std::size_t from = 0) {
  for (std::size_t i = from; i < t.events.size(); i++) if (t.events[i].kind == k) return &t.events[i];
  return nullptr;
}

}  // namespace eps::test
