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

}  // namespace

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
    for (auto& [strategy, m] : want.items()) {
      INFO(strategy);
      REQUIRE(got.contains(strategy));
      // Field by field, so a failure names the figure that moved.
      for (auto& [key, value] : m.items()) {
        INFO(key);
        REQUIRE(got[strategy][key].dump() == value.dump());
      }
    }
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
