// A live run: the scenario's server strategy on a real socket on 127.0.0.1, its clients
// replayed by the load generator, and the same Metrics the model produces ("source": "live").
//
// Order of a run (each step bounded in time):
//   1. refuse what cannot work, before touching anything: select past FD_SETSIZE, more
//      threads than the blocking strategy may start, too few fds (RLIMIT_NOFILE is raised
//      when allowed);
//   2. start the server (its own thread, pinned to one CPU where there are two or more) and
//      the scenario's background CPU hogs on the same CPU;
//   3. the load generator (its own thread, on the other CPU) opens every connection, waits
//      for the server to accept them, snapshots /proc, and replays the scenario from t0;
//   4. after the drain it closes its sockets; the server sees EOF, is stopped, and reports.
//
// What is measured: the server's figures from its start (accepting every connection, as the
// model's setup) to the end of the drain; the kernel's from t0 to the end of the drain. The
// clients closing afterwards and the server letting go (close, epoll_ctl DEL, threads
// exiting) is teardown, which the model does not have: a note lists it, the figures do not.
//
// Where the figures come from (and how they differ from the model's):
//   syscalls, eagain, fds_scanned   the server's seam (sys.h): exact, for the server only
//   context switches, cpu user/sys  getrusage(RUSAGE_THREAD) of every server thread
//   wakeups                         = voluntary switches (each sleep ends in one wake-up),
//                                     or the sched_wakeup count with --kernel-trace
//   softirq, packets, squeeze,      /proc/softirqs, /proc/net/softnet_stat, /proc/stat:
//   nic_drops, cpu softirq/idle     system-wide differences over [t0, end]
//   cpu background                  the CPU clocks of the hog threads
//   duration                        t0 (first send) to the end of the drain
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/metrics.h"
#include "sim/scenario.h"
#include "sim/trace.h"
#include "live/kstat.h"
#include "live/server.h"

namespace eps::live {

// The scenario cannot be run live here (the message says why and what to do instead).
class LiveError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LiveOptions {
  bool record_trace = false;  // keep every server syscall in LiveResult::trace
  bool kernel_trace = false;  // also record the kernel's tracepoints with perf, if possible
  bool pin = true;            // server and load generator on different CPUs, if there are two
};

struct LiveResult {
  Metrics metrics;
  Trace trace;                      // events only when record_trace (or kernel_trace)
  std::vector<std::string> notes;   // things the user should know (perf missing, ...)
  // The server's syscalls after the drain (by name), not in `metrics`; the trace has them.
  std::map<std::string, std::uint64_t> teardown_syscalls;
  std::uint64_t teardown_eagain = 0;
};

// Why the columns of `versus` differ, one line per figure that differs for a known reason
// (measured here, not guessed): which side counts what, and where the live machine is not
// the lesson's. `calibrated`: the model ran on this machine's costs (--costs).
std::vector<std::string> explain_versus(const Scenario& sc, const Metrics& model, const Metrics& live, bool calibrated);

// "" if the scenario can run live, else why not. Raises RLIMIT_NOFILE if it must and may.
std::string check_live(const Scenario& sc);
// Throws LiveError when check_live refuses or the server cannot start.
LiveResult run_live(const Scenario& sc, const LiveOptions& opt = {});

// Limits of a live run.
inline constexpr int kMaxBlockingThreads = 10000;

// The server's own counts and the machine's kernel counters, into the metrics schema (shared
// by `live` and `serve`).
void fill_server_metrics(Metrics& m, const ServerStats& st, const KernelStat& k);

}  // namespace eps::live
