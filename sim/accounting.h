// The one accounting function: every figure the metrics report is counted from trace events,
// by Accounting::on(), which the model calls as it emits each event and replay calls as it
// applies each event. The two cannot drift because there is only one of it.
//
// What it keeps: the counters (requests, syscalls, EAGAINs, fds scanned, softirq runs, ...),
// where each CPU's time went (closed at every CpuMode event), and per task its CPU time, its
// context switches (voluntary when it left the CPU asleep, involuntary when preempted, as
// /proc/PID/status counts them) and, for server threads, what its wake-ups were worth.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/metrics.h"
#include "sim/trace.h"
#include "sim/uapi.h"

namespace eps {

struct Counters {
  std::uint64_t sent = 0, completed = 0, failed = 0, failed_by[3] = {};  // by FailReason
  std::uint64_t syscalls[std::size_t(Sys::Count)] = {};
  std::uint64_t eagain = 0, fds_scanned = 0, wakeups = 0, wasted_wakeups = 0, accepted = 0;
  std::uint64_t net_rx = 0, softirq_packets = 0, time_squeeze = 0, nic_drops = 0;
  LatencyHistogram latency;
  void fail(FailReason r) { failed++; failed_by[std::size_t(r)]++; }
  bool operator==(const Counters&) const = default;
};

struct CpuTime {                      // one CPU's time, by what it was doing
  CpuMode mode = CpuMode::Idle;       // since mode_since, for mode_task
  std::uint16_t mode_task = kNoTask;
  SimTime mode_since = 0;
  SimTime busy_ns[kCpuModeCount] = {};
  bool operator==(const CpuTime&) const = default;
};

struct TaskTime {                     // one task's share, and its wake-ups
  TaskKind kind = TaskKind::ServerMain;
  SimTime utime = 0, stime = 0;       // user; system (its syscalls and its context switches)
  std::uint64_t nvcsw = 0, nivcsw = 0;
  std::uint64_t wakeups = 0;          // try_to_wake_up of this task
  std::uint64_t wasted = 0;           // of them, those that found nothing to do (below)
  std::uint64_t accepted = 0;         // connections accept4 gave it
  std::uint64_t served = 0;           // replies it sent
  bool woken = false;                 // woken, and not yet found work or nothing
  bool server() const { return kind == TaskKind::ServerMain || kind == TaskKind::ServerWorker; }
  bool operator==(const TaskTime&) const = default;
};

class Accounting {
 public:
  Accounting() : Accounting(1) {}
  explicit Accounting(int ncpus) : cpus(std::size_t(ncpus > 0 ? ncpus : 1)) {}

  Counters k;
  std::vector<CpuTime> cpus;
  std::vector<TaskTime> tasks;        // by task id

  // Counts one event (the model: as it emits it; replay: as it applies it). Events must come
  // in trace order. Inline, so that the model's emit() folds it for a constant kind.
  void on(const TraceEvent& e) { count(e.kind, e.t, e.cpu, e.actor, e.a, e.b); }
  // The same, field by field (what the model's emit() has at hand; obj and flow count nothing).
  [[gnu::always_inline]] void count(Ev kind, SimTime t, std::uint8_t cpu, std::uint16_t actor, std::uint32_t a,
                                    std::uint32_t b) {
    const struct { Ev kind; SimTime t; std::uint8_t cpu; std::uint16_t actor; std::uint32_t a, b; } e{kind, t, cpu, actor, a, b};
    switch (e.kind) {
      case Ev::TaskCreate:
        if (e.actor == kNoTask || e.a > std::uint32_t(TaskKind::Ksoftirqd)) break;
        if (tasks.size() <= e.actor) tasks.resize(std::size_t(e.actor) + 1);
        tasks[e.actor].kind = TaskKind(e.a);
        break;
      case Ev::CpuMode:
        if (e.cpu < cpus.size() && e.a < std::uint32_t(kCpuModeCount)) {
          CpuTime& c = cpus[e.cpu];
          close(c, e.t);
          c.mode = CpuMode(e.a);
          c.mode_task = e.actor;
        }
        break;
      case Ev::ContextSwitch:
        if (TaskTime* prev = task(std::uint16_t(e.a))) {
          if (e.b == kSwitchInvoluntary) {
            prev->nivcsw++;
          } else if (e.b == kSwitchVoluntary) {
            prev->nvcsw++;
            // Back to sleep with nothing done since the wake-up: the wake-up was for nothing
            // (ep_poll found rdllist emptied by another thread, and sleeps again).
            if (prev->woken) wasted(*prev);
          }
        }
        break;
      case Ev::TryToWakeUp:
        if (TaskTime* t = task(e.actor); t && t->server()) {
          k.wakeups++;
          t->wakeups++;
          t->woken = true;
        }
        break;
      case Ev::SyscallEnter:
        if (e.a < std::size_t(Sys::Count)) k.syscalls[e.a]++;
        break;
      case Ev::SyscallExit: {
        const Sys s = Sys(e.a);
        if (s != Sys::Accept4 && s != Sys::Recvfrom) break;
        const int result = int(std::int32_t(e.b));
        if (s == Sys::Recvfrom && result == -kEAGAIN) k.eagain++;
        TaskTime* t = task(e.actor);
        if (!t) break;
        if (s == Sys::Accept4 && result >= 0) t->accepted++, k.accepted++;
        // A wake-up is judged by the first accept4 or recvfrom after it: EAGAIN means another
        // thread got there first (the thundering herd's waste); anything else, work.
        if (t->woken) {
          if (result == -kEAGAIN) wasted(*t);
          else t->woken = false;
        }
        break;
      }
      case Ev::PollScan: k.fds_scanned += e.a; break;
      case Ev::ClientSend: k.sent++; break;
      case Ev::NicDrop: k.nic_drops++; break;
      case Ev::Softirq: if (e.a == 1) k.net_rx++; break;
      case Ev::NapiRx: k.softirq_packets++; break;
      case Ev::TimeSqueeze: k.time_squeeze++; break;
      case Ev::ReplySend:
        if (TaskTime* t = task(e.actor)) t->served++;
        break;
      case Ev::ReplyRecv:
        k.completed++;
        k.latency.add(SimTime(e.b) * 1000);
        break;
      case Ev::RequestFailed:
        if (e.b < 3) k.fail(FailReason(e.b));
        break;
      default:
        break;
    }
  }

  // Closes every CPU's open interval at time t (for figures "as of t").
  void close_all(SimTime t) {
    for (CpuTime& c : cpus) close(c, t);
  }
  bool operator==(const Accounting&) const = default;

 private:
  TaskTime* task(std::uint16_t id) { return id < tasks.size() ? &tasks[id] : nullptr; }
  void wasted(TaskTime& t) {
    t.wasted++;
    t.woken = false;
    k.wasted_wakeups++;
  }
  void close(CpuTime& c, SimTime t) {
    const SimTime dt = t - c.mode_since;
    if (dt <= 0) return;
    c.busy_ns[std::size_t(c.mode)] += dt;
    if (TaskTime* k2 = task(c.mode_task)) {
      if (c.mode == CpuMode::User) k2->utime += dt;
      else if (c.mode == CpuMode::System || c.mode == CpuMode::Switch) k2->stime += dt;
    }
    c.mode_since = t;
  }
};

struct RunInfo {
  std::string scenario;
  Strategy strategy = Strategy::Epoll;
  std::uint64_t seed = 1, events = 0;
  SimTime duration_ns = 0;
  std::vector<std::string> task_names;  // by task id, for the per-thread figures
};

// The metrics of a run from its accounting (CPU intervals already closed at the end).
Metrics make_metrics(const RunInfo& run, const Accounting& acct);

}  // namespace eps
