// What a run will cost before it starts: requests, trace events, bytes and time, worked out
// from the scenario's own figures (rates, connections, durations, the costs table), so that a
// scenario that would grow past the machine is refused with a clear line instead of running
// until the kernel kills it. The estimate is calibrated on the shipped lessons under every
// strategy (tests/test_budget.cpp checks it stays within a factor of 2 of the measured events).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "sim/scenario.h"

namespace eps {

// What is kept of a run: it decides what an event costs in memory.
enum class Record : std::uint8_t {
  MetricsOnly,  // counters only: `epollscope-cli run` without --trace, `compare`, `versus`
  Trace,        // the trace as well: `epollscope-cli run --trace / --chrome-trace`
  Replay,       // the trace, replay snapshots and timeline lanes: the GUI
};

struct RunEstimate {
  double requests = 0;     // requests the clients will send
  double served = 0;       // of them, how many the server can answer in the run
  double events = 0;       // trace events (the metrics' "events"); +inf when a loop costs no time
  double trace_bytes = 0;  // the recorded trace, 32 bytes an event (0 when metrics only)
  double state_bytes = 0;  // the model's own state: sockets, clients, threads, per-request records
  double peak_bytes = 0;   // the process at its largest: trace while it is handed over (or the
                           // GUI's trace + snapshots + lanes) plus the state
  double seconds = 0;      // CPU time of the simulation on the development VM
  std::string term;        // the largest part of `events`, in words ("open-loop requests")
  std::vector<std::string> drivers;  // the scenario keys that term grows with ("clients[1].rate_per_s")
  std::vector<std::string> state_drivers;  // the keys state_bytes grows with
};

// The estimate for `sc` as it stands (strategy, costs and seed already overridden).
RunEstimate estimate_run(const Scenario& sc, Record record);

// The default budget: 2 GiB of memory at the peak, and 1e9 events (~20-40 s of CPU on the
// development VM) for a metrics-only run, whose memory stays small.
inline constexpr double kDefaultMaxBytes = 2.0 * 1024 * 1024 * 1024;
inline constexpr double kDefaultMaxEvents = 1e9;

struct Budget {
  double max_events = kDefaultMaxEvents;
  double max_bytes = kDefaultMaxBytes;
  // --max-events N: N events whatever they cost in memory.
  static Budget events(double n) { return Budget{n, std::numeric_limits<double>::infinity()}; }
  // --allow-big: anything that ends.
  static Budget unlimited() {
    return Budget{std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity()};
  }
};

// The largest number of events `record` may keep for `sc` under `budget` (the byte budget
// turned into events, less the model's own state).
double event_limit(const RunEstimate& est, Record record, const Budget& budget);

// A run over budget. what() is one line: "FILE: KEYS: this run would record about 9.1 billion
// events (~290 GiB); the limit is 32 million (~2 GiB). Lower them, or pass --allow-big ...".
class BudgetError : public ScenarioError {
 public:
  using ScenarioError::ScenarioError;
};

// "" when `sc` fits `budget`, else the message of the BudgetError check_budget would throw.
// A run that would never end (a loop that costs no simulated time) is refused under any budget.
std::string budget_error(const Scenario& sc, Record record, const Budget& budget = {});
void check_budget(const Scenario& sc, Record record, const Budget& budget = {});

// "9.1 billion", "33 million", "12,345": how the messages write a count.
std::string format_count(double n);
// "~2 GiB", "~290 GiB", "~512 MiB".
std::string format_bytes(double bytes);

}  // namespace eps
