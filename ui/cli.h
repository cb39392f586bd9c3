// The command-line front: each part registers its subcommands here; main() parses the line
// and runs the one that was chosen. Exit codes: 0 ok, 1 the run failed, 2 bad usage or input.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "sim/budget.h"
#include "sim/metrics.h"
#include "sim/scenario.h"

namespace eps::cli {

inline constexpr int kExitOk = 0, kExitFailed = 1, kExitUsage = 2;

struct Command {
  CLI::App* app;              // the subcommand
  std::function<int()> run;   // called when it was chosen; returns the exit code
};

// ui/cli_sim.cpp: run, compare, validate, list.
void register_sim_commands(CLI::App& app, std::vector<Command>& out);
// ui/cli_live.cpp: live, versus, serve (when the live backend is built).
void register_live_commands(CLI::App& app, std::vector<Command>& out);

// Loads a scenario, or prints the ScenarioError to stderr and throws ExitError(2).
struct ExitError { int code; };
Scenario load_or_exit(const std::string& path);
// Applies --strategy / --seed overrides ("" / negative = keep the file's).
void apply_overrides(Scenario& sc, const std::string& strategy, long long seed);
// --costs FILE: the file's [costs] replace the scenario's ("" = keep them). A bad file is
// reported like a bad scenario (file, line, key) and throws ExitError(2).
void apply_costs_file(Scenario& sc, const std::string& path);
inline constexpr const char* kCostsHelp =
    "Replace the model's costs with a [costs] file (e.g. from `calibrate`: this machine's)";

// --allow-big / --max-events N on the subcommands that simulate (run, compare, versus).
struct BudgetFlags {
  bool allow_big = false;  // run whatever the estimate says (a run that never ends still not)
  double max_events = 0;   // > 0: this many events, instead of the 2 GiB / 1e9-event budget
};
void add_budget_flags(CLI::App* cmd, BudgetFlags& flags);
// The budget the flags ask for (sim/budget.h).
Budget budget_of(const BudgetFlags& flags);
// Refuses a run over the budget: prints the BudgetError's one line to stderr and throws
// ExitError(2), as for a bad scenario.
void check_budget_or_exit(const Scenario& sc, Record record, const BudgetFlags& flags);

// The readable summary `run` prints (and `live` prints for a live run).
std::string format_summary(const Metrics& m);
// One column per Metrics, one row per figure; `labels` head the columns.
std::string format_table(const std::vector<std::string>& labels, const std::vector<Metrics>& ms,
                         bool with_ratio = false);
// Writes JSON to a path, or to stdout for "-". Throws ExitError(1) if it cannot.
void write_json_out(const std::string& path, const std::string& json_text);

}  // namespace eps::cli
