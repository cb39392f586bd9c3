// bench_sim: how fast the model runs, measured (not asserted). Prints one line per figure with
// its target. Build Release; run `bench_sim` (full) or `bench_sim --quick` (smaller, seconds).
//
//  (a) a bare binary-heap loop: pop the earliest 32-byte event, push one new at t + random gap
//  (b) the model's dispatched events/s on a busy epoll scenario, and its ratio to (a)
//  (c) 10,000 connections, ~1,000,000 requests under epoll, metrics only: wall time, peak RSS
//  (d) Replay::at on a ~10M-event trace: seek time (max, mean) and the trace's memory; one check_trace pass
//      over it (what read_trace_file adds to opening such a file)
#include <sys/resource.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "sim/simulation.h"
#include "sim/trace_check.h"
#include "sim/world.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// CPU time of this process: the events/s figures use it, so that other work on a busy machine
// (a parallel build) does not count against the model. Wall time is reported beside it.
double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// ---- (a) the bare heap ----

struct Ev32 {                 // the same size and ordering key as the engine's QEvent
  std::int64_t t;
  std::uint64_t seq;
  std::uint32_t kind, a;
  std::uint64_t b;
};
static_assert(sizeof(Ev32) == 32);

struct Later {
  bool operator()(const Ev32& x, const Ev32& y) const { return x.t != y.t ? x.t > y.t : x.seq > y.seq; }
};

// Pops `n` events from a heap kept at `pending` entries; each pop pushes one at t + gap.
double bare_heap_events_per_s(std::uint64_t n, std::size_t pending) {
  std::uint64_t x = 0x9e3779b97f4a7c15ULL;  // xorshift64*: the cheapest decent generator, so
  auto gap = [&x]() -> std::int64_t {       // the loop measures the heap, not the RNG
    x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
    return std::int64_t(1 + (x * 0x2545f4914f6cdd1dULL >> 32) % 20'000);
  };
  std::vector<Ev32> heap;
  heap.reserve(pending + 1);
  std::uint64_t seq = 0;
  for (std::size_t i = 0; i < pending; i++) {
    heap.push_back(Ev32{gap(), seq++, 0, std::uint32_t(i), 0});
    std::push_heap(heap.begin(), heap.end(), Later{});
  }
  std::uint64_t sink = 0;
  double c0 = cpu_now();
  for (std::uint64_t i = 0; i < n; i++) {
    std::pop_heap(heap.begin(), heap.end(), Later{});
    Ev32 e = heap.back();
    heap.pop_back();
    sink += e.a;
    heap.push_back(Ev32{e.t + gap(), seq++, e.kind, e.a, e.b + 1});
    std::push_heap(heap.begin(), heap.end(), Later{});
  }
  double s = cpu_now() - c0;
  if (sink == 42) std::printf(" ");  // keep the loop from being optimised away
  return double(n) / s;
}

// ---- the model ----

eps::Scenario open_loop(int connections, double rate_per_s, std::int64_t duration_ms, std::int64_t work_us) {
  eps::Scenario sc;
  sc.title = "bench";
  sc.strategy = eps::Strategy::Epoll;
  sc.duration_ms = duration_ms;
  sc.work_us = work_us;
  eps::ClientGroup g;
  g.connections = connections;
  g.mode = eps::ClientMode::Open;
  g.rate_per_s = rate_per_s;
  sc.clients.push_back(g);
  return sc;
}

struct ModelRun {
  double seconds = 0;  // CPU time
  std::uint64_t engine_events = 0;
  eps::Metrics m;
};

ModelRun run_model(const eps::Scenario& sc, bool record) {
  eps::RunOptions opt;
  opt.record_trace = record;
  eps::Simulation sim(sc, opt);
  double c0 = cpu_now();
  sim.run();
  ModelRun r;
  r.seconds = cpu_now() - c0;
  r.engine_events = sim.engine_events();
  r.m = sim.metrics();
  return r;
}

// (c) in a child process, so its peak RSS is its own and not what the other parts used.
struct BigRun {
  double seconds = 0, cpu_seconds = 0, rss_mib = 0;
  std::uint64_t sent = 0, completed = 0, failed = 0, engine_events = 0;
  bool ok = false;
};

BigRun big_run_in_child(const eps::Scenario& sc) {
  int fd[2];
  BigRun r;
  if (pipe(fd) != 0) return r;
  pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    BigRun c;
    auto t0 = Clock::now();
    double c0 = cpu_now();
    {
      eps::RunOptions opt;
      opt.record_trace = false;
      eps::Simulation sim(sc, opt);
      sim.run();
      eps::Metrics m = sim.metrics();
      c.seconds = seconds_since(t0);
      c.cpu_seconds = cpu_now() - c0;
      c.sent = m.requests_sent;
      c.completed = m.requests_completed;
      c.failed = m.requests_failed;
      c.engine_events = sim.engine_events();
    }
    c.rss_mib = peak_rss_mib();
    c.ok = true;
    ssize_t w = write(fd[1], &c, sizeof c);
    _exit(w == ssize_t(sizeof c) ? 0 : 1);
  }
  close(fd[1]);
  ssize_t got = read(fd[0], &r, sizeof r);
  close(fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (got != ssize_t(sizeof r)) r.ok = false;
  return r;
}

const char* verdict(bool ok) { return ok ? "ok" : "MISSED"; }

}  // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  if (argc > 1 && !quick) {
    std::fprintf(stderr, "usage: bench_sim [--quick]\n");
    return 2;
  }
  std::printf("bench_sim%s (best of 3 where noted; targets in parentheses)\n", quick ? " --quick" : "");

  // (b)'s scenario: 1,000 connections, 20 req/s each (20k req/s, the CPU about half busy).
  const eps::Scenario busy = open_loop(1000, 20.0, quick ? 300 : 2000, 20);

  // (a) and (b), interleaved, best of 3 each: the ratio compares like with like.
  double best_bare = 0, best_model = 0;
  ModelRun last{};
  for (int rep = 0; rep < 3; rep++) {
    best_bare = std::max(best_bare, bare_heap_events_per_s(quick ? 3'000'000 : 20'000'000, 1024));
    last = run_model(busy, false);
    best_model = std::max(best_model, double(last.engine_events) / last.seconds);
  }
  std::printf("bare heap: %.1f M events/s of CPU time (32-byte events, 1,024 pending; best of 3)\n", best_bare / 1e6);
  std::printf("model: %.1f M engine events/s of CPU time (epoll, 1,000 conns, open loop, %llu requests, %llu engine "
              "events, metrics only; best of 3)\n",
              best_model / 1e6, (unsigned long long)last.m.requests_sent,
              (unsigned long long)last.engine_events);
  // Engine events per request depend on how the model schedules (coalesced timers make fewer,
  // costlier events), so the cost per request is printed too: it is what a user waits for.
  std::printf("model cost: %.2f us of CPU per request (same run)\n",
              double(last.engine_events) / best_model / double(std::max<std::uint64_t>(1, last.m.requests_sent)) * 1e6);
  double ratio = best_model / best_bare;
  std::printf("model/bare ratio: %.3f (target >= 0.3) %s\n", ratio, verdict(ratio >= 0.3));

  // (c) 10,000 connections x 5 req/s x 20 s = 1M requests at 50k req/s with 5 us of work each:
  // the one server thread is about half busy, so nothing is dropped and nothing piles up (an
  // overloaded run would measure drops, not the model). --quick: 2 s, 100k requests.
  {
    const eps::Scenario big = open_loop(10'000, 5.0, quick ? 2'000 : 20'000, 5);
    BigRun r = big_run_in_child(big);
    if (!r.ok) {
      std::printf("big run: FAILED (child process did not report)\n");
    } else {
      std::printf("big run: 10,000 conns, sent %llu, completed %llu, failed %llu, %.1f M engine events, "
                  "%.2f us of CPU per request\n",
                  (unsigned long long)r.sent, (unsigned long long)r.completed, (unsigned long long)r.failed,
                  double(r.engine_events) / 1e6, r.cpu_seconds / double(std::max<std::uint64_t>(1, r.sent)) * 1e6);
      // Judged on CPU time, as every figure here: wall time counts whatever else the machine runs.
      std::printf("big run wall time: %.2f s, CPU time %.2f s (target < 2 s of CPU for 1M requests) %s\n",
                  r.seconds, r.cpu_seconds, quick ? "n/a with --quick" : verdict(r.cpu_seconds < 2.0));
      std::printf("big run peak RSS: %.0f MiB (target < 1024 MiB) %s\n", r.rss_mib, verdict(r.rss_mib < 1024));
    }
  }

  // (d) a recorded trace of ~10M events (1M with --quick), then Replay::at at random indices.
  {
    const std::size_t want = quick ? 1'000'000 : 10'000'000;
    // Probe how many trace events a simulated second makes, then size the run to `want`.
    eps::Scenario probe = open_loop(1000, 20.0, quick ? 100 : 1000, 20);
    eps::Simulation ps(probe);
    ps.run();
    double per_ms = double(ps.trace().events.size()) / double(ps.trace().end_ns) * 1e6;
    eps::Scenario rec = open_loop(1000, 20.0, std::int64_t(double(want) / per_ms), 20);
    auto t0 = Clock::now();
    eps::Simulation sim(rec);
    sim.run();
    auto trace = std::make_shared<const eps::Trace>(sim.take_trace());
    double record_s = seconds_since(t0);
    double trace_mib = double(trace->events.size() * sizeof(eps::TraceEvent)) / (1024.0 * 1024.0);
    double trace_cap_mib = double(trace->events.capacity() * sizeof(eps::TraceEvent)) / (1024.0 * 1024.0);
    // What read_trace_file adds to opening a file of this size: one check_trace pass.
    double k0 = cpu_now();
    const bool checked = eps::check_trace(*trace).empty();
    double check_cpu = cpu_now() - k0;
    t0 = Clock::now();
    double c0 = cpu_now();
    eps::Replay replay(trace);
    double index_s = seconds_since(t0), index_cpu = cpu_now() - c0;
    std::mt19937_64 rng(7);
    std::uniform_int_distribution<std::size_t> pick(0, replay.size());
    double max_ms = 0, sum_ms = 0;
    std::size_t sink = 0;
    const int seeks = 50;
    for (int i = 0; i < seeks; i++) {
      std::size_t idx = pick(rng);
      auto s0 = Clock::now();
      eps::WorldState w = replay.at(idx);
      double ms = seconds_since(s0) * 1e3;
      sink += w.index;
      max_ms = std::max(max_ms, ms);
      sum_ms += ms;
    }
    double snap_mib = double(replay.snapshots()) * double(replay.at(replay.size() / 2).approx_bytes()) /
                      (1024.0 * 1024.0);
    std::printf("trace: %.1f M events in %.2f s simulated, recorded in %.2f s\n",
                double(trace->events.size()) / 1e6, double(trace->end_ns) / 1e9, record_s);
    std::printf("trace memory: %.0f MiB of events (%.0f MiB allocated); Replay snapshots ~%.0f MiB "
                "(%zu, every %zu events), built in %.2f s wall, %.2f s CPU\n",
                trace_mib, trace_cap_mib, snap_mib, replay.snapshots(), replay.snapshot_every(), index_s,
                index_cpu);
    std::printf("check_trace: %.2f s CPU, %.0f M events/s (%s)\n", check_cpu,
                double(trace->events.size()) / std::max(check_cpu, 1e-9) / 1e6, checked ? "passes" : "FAILED");
    std::printf("seek Replay::at (50 random indices): max %.2f ms, mean %.2f ms (target < 50 ms) %s\n", max_ms,
                sum_ms / seeks, verdict(max_ms < 50.0));
    std::printf("peak RSS of the whole bench: %.0f MiB\n", peak_rss_mib());
    if (sink == 1) std::printf(" ");
  }
  return 0;
}
