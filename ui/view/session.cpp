#include "ui/view/session.h"

#include <algorithm>
#include <exception>
#include <filesystem>

#include "sim/simulation.h"
#if __has_include("sim/trace_io.h")
#include "sim/trace_io.h"
#define EPS_HAVE_TRACE_IO 1
#endif

namespace eps::view {

namespace fs = std::filesystem;

namespace {

std::shared_ptr<Run> index_run(std::shared_ptr<const Trace> tr) {
  auto run = std::make_shared<Run>();
  run->trace = tr;
  run->replay = std::make_unique<Replay>(tr);
  run->timeline = build_timeline(*tr);
  run->strategy = tr->strategy;
  return run;
}

}  // namespace

Loaded run_scenario(Scenario sc, std::optional<Strategy> strategy, const Budget& budget) {
  Loaded out;
  if (strategy) sc.strategy = *strategy;
  if (std::string err = budget_error(sc, Record::Replay, budget); !err.empty()) {
    out.error = err;  // "FILE: KEYS: this run would record about ..."
    return out;
  }
  try {
    Simulation sim(sc);
    sim.run();
    auto tr = std::make_shared<const Trace>(sim.take_trace());
    out.run = index_run(std::move(tr));
    out.run->source = sc.path;
    out.run->scenario = std::move(sc);
  } catch (const std::exception& e) {
    out.error = std::string("cannot run the scenario: ") + e.what();
  }
  return out;
}

Loaded load_scenario_file(const std::string& path, std::optional<Strategy> strategy,
                          const std::optional<Costs>& costs, const Budget& budget) {
  try {
    Scenario sc = load_scenario(path);
    if (costs) sc.costs = *costs;
    return run_scenario(std::move(sc), strategy, budget);
  } catch (const std::exception& e) {  // ScenarioError's what() is "file:line: key: message"
    return Loaded{nullptr, e.what()};
  }
}

Loaded load_trace_file(const std::string& path) {
#ifdef EPS_HAVE_TRACE_IO
  try {
    auto tr = std::make_shared<const Trace>(read_trace_file(path));
    Loaded out;
    out.run = index_run(std::move(tr));
    out.run->source = path;
    return out;
  } catch (const std::exception& e) {
    return Loaded{nullptr, e.what()};  // already "PATH: what is wrong"
  }
#else
  return Loaded{nullptr, path + ": this build cannot read trace files (no sim/trace_io.h)"};
#endif
}

bool looks_like_scenario(const std::string& path) {
  return fs::path(path).extension() == ".toml";
}

std::string lessons_dir() {
  auto has_toml = [](const fs::path& d) {
    std::error_code ec;
    if (!fs::is_directory(d, ec)) return false;
    for (const auto& e : fs::directory_iterator(d, ec))
      if (e.path().extension() == ".toml") return true;
    return false;
  };
  if (has_toml("scenarios")) return "scenarios";
#ifdef EPS_SOURCE_DIR
  const fs::path src = fs::path(EPS_SOURCE_DIR) / "scenarios";
  if (has_toml(src)) return src.string();
#endif
  return "scenarios";
}

std::vector<Lesson> find_lessons(const std::string& dir) {
  std::vector<Lesson> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".toml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    Lesson l;
    l.path = f.string();
    try {
      Scenario sc = load_scenario(l.path);
      l.title = sc.title;
      l.description = sc.description;
    } catch (const std::exception& e) {
      l.title = f.filename().string();
      l.error = e.what();
    }
    out.push_back(std::move(l));
  }
  return out;
}

std::string resolve_lesson(const std::string& name) {
  std::error_code ec;
  if (name.empty() || fs::exists(name, ec)) return name;
  if (name.find('/') != std::string::npos) return name;
  const fs::path p = fs::path(lessons_dir()) / (looks_like_scenario(name) ? name : name + ".toml");
  return fs::exists(p, ec) ? p.string() : name;
}

Scenario builtin_lesson() {
  return parse_scenario(R"toml(title = "Little P waits for one packet (built in)"
description = "Three connections, one epoll loop: follow a packet from the NIC to epoll_wait returning."
seed = 1
duration_ms = 2
drain_ms = 2

[server]
strategy = "epoll"
work_us = 20

[[clients]]
connections = 3
mode = "open"
rate_per_s = 1500
)toml",
                        "<built-in lesson>");
}

}  // namespace eps::view
