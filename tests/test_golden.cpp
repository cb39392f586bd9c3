// Golden metrics: every shipped lesson under every strategy, compared with the figures
// checked in under tests/golden/. A change of the model that moves any number shows here;
// when the change is meant, regenerate with scripts/update-golden.sh and review the diff.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "sim/simulation.h"

#ifndef EPS_SOURCE_DIR
#define EPS_SOURCE_DIR "."
#endif

using namespace eps;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> lessons() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(fs::path(EPS_SOURCE_DIR) / "scenarios"))
    if (e.path().extension() == ".toml") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

nlohmann::json all_strategies_metrics(const Scenario& base) {
  nlohmann::json j = nlohmann::json::object();
  for (Strategy s : all_strategies()) {
    Scenario sc = base;
    sc.strategy = s;
    Simulation sim(sc, RunOptions{false, {}});
    sim.run();
    j[std::string(strategy_name(s))] = to_json(sim.metrics());
  }
  return j;
}

// Every path where `want` and `got` differ, as "path: want -> got" ("(none)" when absent).
void diff_json(const nlohmann::json& want, const nlohmann::json& got, const std::string& path,
               std::vector<std::string>& out) {
  if (want.is_object() && got.is_object()) {
    for (auto& [k, v] : want.items())
      diff_json(v, got.contains(k) ? got[k] : nlohmann::json("(none)"), path + "/" + k, out);
    for (auto& [k, v] : got.items())
      if (!want.contains(k)) out.push_back(path + "/" + k + ": (none) -> " + v.dump());
    return;
  }
  if (want.dump() != got.dump()) out.push_back(path + ": " + want.dump() + " -> " + got.dump());
}

}  // namespace

TEST_CASE("golden: the comparison sees a moved figure, a new metric and a new strategy", "[golden]") {
  const nlohmann::json want = {{"epoll", {{"a", 1}, {"b", {{"c", 2}}}}}};
  std::vector<std::string> d;
  diff_json(want, want, "", d);
  CHECK(d.empty());
  nlohmann::json got = want;
  got["epoll"]["b"]["c"] = 3;
  diff_json(want, got, "", d);
  REQUIRE(d.size() == 1);
  CHECK(d[0] == "/epoll/b/c: 2 -> 3");
  d.clear();
  got = want;
  got["epoll"]["new_metric"] = 0;
  got["new-strategy"] = {{"a", 1}};
  diff_json(want, got, "", d);
  CHECK(d.size() == 2);
  d.clear();
  got = want;
  got["epoll"].erase("a");
  diff_json(want, got, "", d);
  CHECK(d == std::vector<std::string>{"/epoll/a: 1 -> \"(none)\""});
}

TEST_CASE("golden: every lesson under every strategy gives the checked-in metrics", "[golden]") {
  auto files = lessons();
  REQUIRE(files.size() >= 6);
  const bool update = std::getenv("EPS_UPDATE_GOLDEN") != nullptr;
  for (const fs::path& f : files) {
    INFO(f.string());
    Scenario sc = load_scenario(f.string());
    nlohmann::json got = all_strategies_metrics(sc);
    fs::path golden = fs::path(EPS_SOURCE_DIR) / "tests" / "golden" / (f.stem().string() + ".json");
    if (update) {
      std::ofstream(golden) << got.dump(2) << "\n";
      continue;
    }
    std::ifstream in(golden);
    REQUIRE(in.good());  // a new lesson needs its golden file: scripts/update-golden.sh
    nlohmann::json want = nlohmann::json::parse(in);
    // Both ways, key by key: a figure that moved, and also a strategy or a metric that the
    // golden file does not have yet (a new one must be reviewed into it, not pass unseen).
    std::vector<std::string> diffs;
    diff_json(want, got, "", diffs);
    INFO(diffs.size() << " differences; the first: " << (diffs.empty() ? "" : diffs.front()));
    REQUIRE(diffs.empty());
  }
}

TEST_CASE("golden: every lesson tells a student what it is about", "[golden]") {
  for (const fs::path& f : lessons()) {
    INFO(f.string());
    Scenario sc = load_scenario(f.string());
    REQUIRE(sc.description.size() > 200);
    REQUIRE(!sc.title.empty());
  }
}
