// Loading what the GUI shows: a lesson (scenario file, simulated here) or a saved trace. All
// errors come back as text for the window to show; nothing throws out of here, so a bad file
// never takes the app down.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/budget.h"
#include "sim/scenario.h"
#include "sim/trace.h"
#include "sim/world.h"
#include "ui/view/timeline.h"

namespace eps::view {

// One run to watch: its trace, random access to its states, its timeline lanes.
struct Run {
  std::optional<Scenario> scenario;   // absent for a trace opened from a file
  std::string source;                 // the path it came from
  std::shared_ptr<const Trace> trace;
  std::unique_ptr<Replay> replay;
  TimelineIndex timeline;
  std::optional<Strategy> strategy;   // parsed from trace->strategy
};

struct Loaded {
  std::shared_ptr<Run> run;           // null on error
  std::string error;                  // what went wrong, one line
};

// Simulates `sc` (with `strategy` instead of its own, if given) and indexes the trace. A run
// whose estimate is over `budget` (sim/budget.h: the GUI keeps trace, snapshots and lanes) is
// refused before anything of it is built: the error names the keys and --allow-big.
Loaded run_scenario(Scenario sc, std::optional<Strategy> strategy = std::nullopt, const Budget& budget = {});
// Loads a scenario file and runs it (with `costs` instead of the file's, if given: --costs).
Loaded load_scenario_file(const std::string& path, std::optional<Strategy> strategy = std::nullopt,
                          const std::optional<Costs>& costs = std::nullopt, const Budget& budget = {});
// Opens a trace written by `epollscope-cli run --trace`.
Loaded load_trace_file(const std::string& path);
// A path ending in .toml is a scenario, anything else a trace.
bool looks_like_scenario(const std::string& path);

// A lesson of the library, for the picker.
struct Lesson {
  std::string path, title, description, error;
};
// Where the lessons are: ./scenarios if it has .toml files, else the source tree's.
std::string lessons_dir();
// The .toml files of `dir` in name order, each with its title and description.
std::vector<Lesson> find_lessons(const std::string& dir);
// A lesson's name ("05-epoll") names scenarios/05-epoll.toml, as in epollscope-cli; a path
// that exists is kept as it is.
std::string resolve_lesson(const std::string& name_or_path);
// A small lesson built in, for when no scenario file can be found.
Scenario builtin_lesson();

}  // namespace eps::view
