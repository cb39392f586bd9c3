// --kernel-trace: the real kernel's side of a live run, recorded by perf(1) and merged into
// the live trace in the model's vocabulary, so the NIC-softirq-wakeup chain of the real
// kernel can be set next to the model's.
//
//   perf record -k CLOCK_MONOTONIC -a -e sched:sched_switch,sched:sched_wakeup,
//               irq:softirq_entry,irq:softirq_exit,napi:napi_poll,raw_syscalls:sys_enter,
//               raw_syscalls:sys_exit ...      (during the run)
//   perf script -F comm,tid,cpu,time,event,trace (afterwards) -> parse_perf_script()
//
// Mapping (model event <- tracepoint):
//   ContextSwitch  <- sched_switch   cpu; actor = next server thread (or kNoTask); a = prev
//                                    server thread (or kNoTask); b = 1 if prev was runnable (R)
//   TryToWakeUp    <- sched_wakeup   actor = woken server thread; cpu = its target CPU
//   Softirq        <- softirq_entry/exit with vec=3 (NET_RX): a = 1 entry / 0 exit
//   NapiRx         <- napi_poll      cpu; a = work done, b = budget; obj = kNone
//   SyscallEnter/Exit are not merged: the seam already recorded the server's own, with fds.
// Only events of the server's threads (and all NET_RX softirqs / NAPI polls) are kept.
// Where perf is missing or not permitted, start() says why and the run goes on without it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/trace.h"

namespace eps::live {

struct KernelTraceSummary {
  bool ok = false;
  std::string error;
  std::uint64_t events = 0;          // merged into the trace
  std::uint64_t server_wakeups = 0;  // sched_wakeup of a server thread
};

// One parsed line of `perf script` output.
struct PerfEvent {
  std::string comm;
  int tid = 0, cpu = 0;
  std::int64_t t_ns = 0;             // the clock perf was given (CLOCK_MONOTONIC)
  std::string event;                 // "sched:sched_switch"
  std::map<std::string, std::string> fields;  // key=value pairs of the trace part
};
// Parses perf script's default line shape; lines that are not events are skipped.
std::vector<PerfEvent> parse_perf_script(const std::string& text);
// Turns parsed events into trace events. `actor_of_tid` maps a server thread's tid to its
// trace actor; t0_ns is trace time 0 on the same clock.
std::vector<TraceEvent> kernel_events(const std::vector<PerfEvent>& evs,
                                      const std::map<int, std::uint16_t>& actor_of_tid,
                                      std::int64_t t0_ns, std::uint64_t* server_wakeups);

class KernelTrace {
 public:
  KernelTrace() = default;
  ~KernelTrace();
  KernelTrace(const KernelTrace&) = delete;
  KernelTrace& operator=(const KernelTrace&) = delete;
  // Starts perf in the background. "" when it records, else why not (nothing is running).
  std::string start();
  void stop();  // ends the recording (SIGINT to perf, bounded wait)
  bool recording() const { return pid_ > 0; }
  // Runs perf script on the recording and adds the events to `tr` (sorted by time).
  KernelTraceSummary merge_into(Trace& tr, std::int64_t t0_ns, const std::map<int, std::uint16_t>& actor_of_tid);

 private:
  pid_t pid_ = -1;
  bool stopped_ = false;
  std::string dir_;  // temporary directory with perf.data
};

}  // namespace eps::live
