// Tests for sim/export.cpp: the Chrome Trace Event JSON that Perfetto opens.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/export.h"
#include "sim/simulation.h"

namespace {

using nlohmann::json;

constexpr int kPidCpus = 1, kPidTasks = 2;

eps::Trace run_trace(eps::Strategy s, int connections, int requests, int cpus = 1) {
  eps::Scenario sc;
  sc.title = "export";
  sc.strategy = s;
  sc.cpus = cpus;
  sc.duration_ms = 2;
  eps::ClientGroup g;
  g.connections = connections;
  g.mode = eps::ClientMode::Closed;
  g.requests = requests;
  sc.clients.push_back(g);
  eps::Simulation sim(sc);
  sim.run();
  return sim.take_trace();
}

json export_json(const eps::Trace& tr) {
  std::ostringstream out;
  eps::write_chrome_trace(tr, out);
  json j;
  INFO(out.str().substr(0, 2000));
  REQUIRE_NOTHROW(j = json::parse(out.str()));
  return j;
}

std::vector<json> of_phase(const json& j, const std::string& ph) {
  std::vector<json> v;
  for (const json& e : j.at("traceEvents"))
    if (e.at("ph") == ph) v.push_back(e);
  return v;
}

bool any_name(const std::vector<json>& evs, int pid, const std::string& sub) {
  return std::any_of(evs.begin(), evs.end(), [&](const json& e) {
    return e.value("pid", -1) == pid && e.at("name").get<std::string>().find(sub) != std::string::npos;
  });
}

// The checks every export must pass, whatever the strategy.
void check_well_formed(const eps::Trace& tr, const json& j) {
  REQUIRE(j.contains("traceEvents"));
  REQUIRE(j.at("traceEvents").is_array());
  const double end_us = double(tr.end_ns) / 1000.0, tol = 1e-3;
  auto xs = of_phase(j, "X");
  REQUIRE(!xs.empty());
  std::map<int, std::vector<std::pair<double, double>>> cpu_lanes;  // tid -> (ts, dur)
  for (const json& e : xs) {
    INFO(e.dump());
    double ts = e.at("ts").get<double>(), dur = e.at("dur").get<double>();
    CHECK(dur >= 0);
    CHECK(ts >= 0);
    CHECK(ts <= end_us + tol);
    CHECK(ts + dur <= end_us + tol);
    if (e.at("pid") == kPidCpus) {
      int tid = e.at("tid").get<int>();
      CHECK(tid >= 0);
      CHECK(tid < tr.cpus);
      cpu_lanes[tid].emplace_back(ts, dur);
    }
  }
  // A CPU does one thing at a time: its slices never overlap.
  for (auto& [tid, slices] : cpu_lanes) {
    std::sort(slices.begin(), slices.end());
    for (std::size_t i = 0; i + 1 < slices.size(); i++) {
      INFO("CPU " << tid << ": slice at " << slices[i].first << " us lasting " << slices[i].second
                  << " us overlaps the next at " << slices[i + 1].first << " us");
      CHECK(slices[i].first + slices[i].second <= slices[i + 1].first + tol);
    }
  }
  // Flow arrows: each one that ends (f) or passes (t) started (s), no later than it.
  std::map<std::uint64_t, double> starts;
  for (const json& e : of_phase(j, "s")) {
    auto id = e.at("id").get<std::uint64_t>();
    CHECK(starts.count(id) == 0);  // one start per packet
    starts[id] = e.at("ts").get<double>();
  }
  for (const char* ph : {"t", "f"})
    for (const json& e : of_phase(j, ph)) {
      INFO(e.dump());
      auto it = starts.find(e.at("id").get<std::uint64_t>());
      REQUIRE(it != starts.end());
      CHECK(it->second <= e.at("ts").get<double>() + tol);
    }
  // Counters carry a value.
  for (const json& e : of_phase(j, "C")) CHECK(e.at("args").at("value").is_number());
}

}  // namespace

TEST_CASE("chrome trace of an epoll run: lanes, syscalls, rdllist counter, flows", "[export]") {
  const eps::Trace tr = run_trace(eps::Strategy::Epoll, 3, 2);
  const json j = export_json(tr);
  check_well_formed(tr, j);
  auto xs = of_phase(j, "X");
  // CPU lanes: the softirq that delivered packets, and the server's user and syscall time.
  CHECK(any_name(xs, kPidCpus, "softirq"));
  CHECK(any_name(xs, kPidCpus, "user"));
  CHECK(any_name(xs, kPidCpus, "syscall"));
  // Task lanes: syscalls with their results; a first epoll_wait that returns one ready fd.
  CHECK(any_name(xs, kPidTasks, "epoll_wait = 1"));
  CHECK(any_name(xs, kPidTasks, "recvfrom = "));
  CHECK(any_name(xs, kPidTasks, "epoll_ctl = 0"));
  CHECK(any_name(xs, kPidTasks, "sleeping"));
  CHECK(!any_name(xs, kPidTasks, "select"));
  // Counters: the ready list grows and empties.
  auto cs = of_phase(j, "C");
  std::vector<long long> rdl;
  for (const json& e : cs)
    if (e.at("name") == "rdllist length") rdl.push_back(e.at("args").at("value").get<long long>());
  REQUIRE(!rdl.empty());
  CHECK(*std::max_element(rdl.begin(), rdl.end()) >= 1);
  CHECK(rdl.back() == 0);  // every request was answered: nothing left ready
  // Flows: every request packet (6) starts at the NIC and ends in the recvfrom that read it.
  auto ss = of_phase(j, "s"), fs = of_phase(j, "f"), ts = of_phase(j, "t");
  CHECK(ss.size() == 6);
  CHECK(fs.size() == 6);
  CHECK(!ts.empty());
  std::set<std::uint64_t> s_ids, f_ids;
  for (const json& e : ss) s_ids.insert(e.at("id").get<std::uint64_t>());
  for (const json& e : fs) {
    f_ids.insert(e.at("id").get<std::uint64_t>());
    CHECK(e.at("pid") == kPidTasks);
  }
  CHECK(s_ids == f_ids);
  // Lane names: the CPUs and the server task.
  bool named_cpu = false, named_server = false;
  for (const json& e : of_phase(j, "M")) {
    std::string n = e.at("args").at("name").get<std::string>();
    if (e.at("name") == "thread_name" && e.at("pid") == kPidCpus && n == "CPU 0") named_cpu = true;
    if (e.at("name") == "thread_name" && e.at("pid") == kPidTasks && n.find("server") != std::string::npos)
      named_server = true;
  }
  CHECK(named_cpu);
  CHECK(named_server);
}

TEST_CASE("chrome trace of a select run with a few connections", "[export]") {
  const eps::Trace tr = run_trace(eps::Strategy::Select, 4, 3);
  const json j = export_json(tr);
  check_well_formed(tr, j);
  auto xs = of_phase(j, "X");
  CHECK(any_name(xs, kPidCpus, "softirq"));
  CHECK(any_name(xs, kPidCpus, "user"));
  CHECK(any_name(xs, kPidTasks, "select = "));
  CHECK(!any_name(xs, kPidTasks, "epoll_wait"));
  // No epoll instance, so no ready-list counter.
  for (const json& e : of_phase(j, "C")) CHECK(e.at("name") != "rdllist length");
  CHECK(of_phase(j, "s").size() == 12);  // 4 connections x 3 requests
  CHECK(of_phase(j, "f").size() == 12);
}

TEST_CASE("chrome trace of a two-CPU blocking run keeps each CPU's lane consistent", "[export]") {
  const eps::Trace tr = run_trace(eps::Strategy::Blocking, 4, 2, 2);
  const json j = export_json(tr);
  check_well_formed(tr, j);
  auto xs = of_phase(j, "X");
  CHECK(any_name(xs, kPidTasks, "recvfrom = "));
  CHECK(any_name(xs, kPidTasks, "clone = "));
}

TEST_CASE("chrome trace of an empty trace is still valid JSON", "[export]") {
  eps::Trace tr;
  tr.strategy = eps::Strategy::Epoll;
  tr.cpus = 2;
  const json j = export_json(tr);
  REQUIRE(j.at("traceEvents").is_array());
  CHECK(of_phase(j, "X").empty());
  CHECK(of_phase(j, "M").size() == 5);  // three process names, two CPU lanes
}

TEST_CASE("chrome trace escapes names", "[export]") {
  eps::Scenario sc;
  sc.title = "quote \" backslash \\ newline \n";
  sc.strategy = eps::Strategy::Poll;
  sc.duration_ms = 1;
  eps::ClientGroup g;
  g.mode = eps::ClientMode::Closed;
  g.requests = 1;
  sc.clients.push_back(g);
  sc.background.push_back(eps::BackgroundGroup{"tab\there \"Q\"", 1});
  eps::Simulation sim(sc);
  sim.run();
  const eps::Trace tr = sim.take_trace();
  const json j = export_json(tr);
  bool found = false;
  for (const json& e : of_phase(j, "M"))
    if (e.at("args").at("name") == "tab\there \"Q\"") found = true;
  CHECK(found);
}
