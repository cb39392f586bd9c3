// A live run (see live_run.h).
#include "live/live_run.h"

#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>

#include "live/kernel_trace.h"
#include "live/kstat.h"
#include "live/loadgen.h"
#include "live/protocol.h"
#include "live/server.h"

namespace eps::live {

void fill_server_metrics(Metrics& m, const ServerStats& st, const KernelStat& k) {
  for (std::size_t i = 1; i < sys::kSysCount; i++)
    if (st.calls[i]) m.syscalls[std::string(sys_name(Sys(i)))] = st.calls[i];
  m.events = m.syscalls_total();
  m.eagain = st.eagain;
  m.fds_scanned = st.fds_scanned;
  m.ctx_voluntary = st.nvcsw;
  m.ctx_involuntary = st.nivcsw;
  m.wakeups = st.nvcsw;  // without --kernel-trace: each voluntary switch is a sleep, then a wake
  m.wasted_wakeups = st.wasted;
  m.accepted = st.accepted;
  m.threads_total = st.per_thread.size();
  if (st.per_thread.size() <= Metrics::kMaxThreadRows) m.threads = st.per_thread;
  m.softirq_net_rx = k.net_rx;
  m.softirq_packets = k.processed;
  m.time_squeeze = k.time_squeeze;
  m.nic_drops = k.dropped;
  m.cpu_user_ns = st.utime_ns;
  m.cpu_system_ns = st.stime_ns;
  m.cpu_softirq_ns = k.irq_ns + k.softirq_ns;
  m.cpu_idle_ns = k.idle_ns;
}

namespace {

int count_open_fds() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') n++;
    closedir(d);
    n--;  // the directory's own fd
  }
  return n;
}

std::int64_t thread_cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// The scenario's [[background]] tasks: CPU hogs that never sleep, next to the server.
class Hogs {
 public:
  Hogs(int count, int cpu) {
    for (int i = 0; i < count; i++)
      threads_.emplace_back([this, cpu] {
        sys::pin_thread(cpu);
        const std::int64_t start = thread_cpu_ns();
        while (!stop_.load(std::memory_order_relaxed)) {
        }
        cpu_ns_ += thread_cpu_ns() - start;
      });
  }
  std::int64_t stop() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
    return cpu_ns_.load();
  }
  ~Hogs() { stop(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> cpu_ns_{0};
  std::vector<std::thread> threads_;
};

// net.core.somaxconn: the kernel caps every listen backlog to it.
int listen_backlog_cap() {
  int cap = 4096;  // the default since Linux 5.4
  if (FILE* f = fopen("/proc/sys/net/core/somaxconn", "r")) {
    if (fscanf(f, "%d", &cap) != 1) cap = 4096;
    fclose(f);
  }
  return cap;
}

// "after the drain (not counted above): 1010 close, 1010 epoll_ctl" or "".
std::string teardown_note(const ServerStats& st) {
  std::string list;
  for (std::size_t i = 1; i < sys::kSysCount; i++) {
    if (!st.teardown_calls[i]) continue;
    list += (list.empty() ? "" : ", ") + std::to_string(st.teardown_calls[i]) + " " + std::string(sys_name(Sys(i)));
  }
  return list.empty() ? "" : "teardown after the drain, not in the figures (the model has none): " + list;
}

}  // namespace

std::vector<std::string> explain_versus(const Scenario& sc, const Metrics& model, const Metrics& live,
                                        bool calibrated) {
  std::vector<std::string> out;
  const auto us = [](SimTime ns) { return std::to_string(ns / 1000); };
  if (live.latency_p50_us > 2 * model.latency_p50_us)
    out.push_back("latency: the load generator runs on another CPU of this machine, so a request often has to wake "
                  "the server's CPU from idle" +
                  std::string(calibrated ? "" : " (`calibrate` measures that wake-up here)") + "; the lesson's model has " +
                  std::to_string(sc.cpus) + " CPU" + (sc.cpus > 1 ? "s" : "") + " and a " +
                  us(sc.costs.wire_latency_ns) + " us wire each way.");
  if (double(live.softirq_net_rx) > 1.5 * double(model.softirq_net_rx))
    out.push_back("NET_RX runs: on loopback the replies pass through NET_RX too (on the sending CPU), and the "
                  "count is the whole machine's; the model counts the server's receive side only.");
  if (strategy_info(sc.strategy).threads) {
    const long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (online > 0 && online < sc.cpus + 1)
      out.push_back("threads: the model's " + std::to_string(sc.server_threads()) + " workers have " +
                    std::to_string(sc.cpus) + " CPUs; live they have this machine's " + std::to_string(online) +
                    " but the load generator's (" + std::to_string(online - 1) +
                    "), so they take turns where the model's run side by side.");
  }
  out.push_back("CPU: user and system are the server's threads on both sides (getrusage live); softirq and idle "
                "live are the whole machine's (/proc/stat, every CPU, the load generator included, in 10 ms ticks).");
  if (sc.strategy == Strategy::Epoll && model.fds_scanned > live.fds_scanned)
    out.push_back("fds scanned: live counts the events epoll_wait returned; the model counts every epitem "
                  "ep_send_events examined, including the level-triggered re-check of the one it put back on "
                  "rdllist (about 2 per request).");
  if (model.wasted_wakeups > live.wasted_wakeups)
    out.push_back("wake-ups for nothing: live sees only those user space sees (accept4 or recvfrom saying EAGAIN "
                  "right after epoll_wait returned); a woken thread whose ep_poll finds the event already taken "
                  "sleeps again inside the kernel, which the model counts and live cannot. Wake-ups per connection "
                  "count both.");
  if (sc.start_ms > 0)
    out.push_back("throughput: the model's clock includes start_ms (" + std::to_string(sc.start_ms) +
                  " ms) for setup; the live clock starts at the first request, after every client is connected.");
  if (!calibrated)
    out.push_back("costs: the model runs on its default costs (docs/kernel.md §4), not on this machine's; "
                  "`epollscope-cli calibrate --out FILE` measures them here, then `versus ... --costs FILE`.");
  return out;
}

std::string check_live(const Scenario& sc) {
  const int n = sc.total_connections();
  if (sc.strategy == Strategy::Select) {
    // The server's fds are the lowest free numbers (the load generator keeps its own above
    // FD_SETSIZE), after what is open now and the listening socket.
    const int highest = count_open_fds() + 1 + n - 1;
    if (highest >= FD_SETSIZE)
      return "select can watch only fds 0.." + std::to_string(FD_SETSIZE - 1) + " (FD_SETSIZE = " +
             std::to_string(FD_SETSIZE) + "), and this scenario's " + std::to_string(n) +
             " connections would need fds up to " + std::to_string(highest) +
             ": use poll or epoll, or at most " + std::to_string(FD_SETSIZE - 1 - count_open_fds()) +
             " connections";
  }
  if (sc.strategy == Strategy::Blocking && n > kMaxBlockingThreads)
    return "the blocking strategy starts a thread per connection; a live run allows at most " +
           std::to_string(kMaxBlockingThreads) + ", this scenario has " + std::to_string(n) +
           ": use epoll, or fewer connections";
  return sys::ensure_nofile(std::uint64_t(1024 + 64 + 2 * std::int64_t(n) + 256));
}

LiveResult run_live(const Scenario& sc, const LiveOptions& opt) {
  if (std::string why = check_live(sc); !why.empty()) throw LiveError(why);
  LiveResult res;
  auto [server_cpu, load_cpu] = opt.pin ? sys::two_cpus() : std::pair<int, int>{-1, -1};
  // A single-threaded server gets a CPU of its own, away from the load generator. Workers get
  // every CPU but the load generator's, and the kernel places them on those, as the model's
  // fork balancing does (left free to join the spinning load generator, they run late, and
  // a worker still runnable when the next connection comes is not woken by it).
  const bool workers = strategy_info(sc.strategy).threads;

  auto proto = std::make_shared<FrameProtocol>(sc.work_us * 1000, sc.reply_bytes);
  ServerOptions so;
  so.strategy = sc.strategy;
  so.accept_limit = sc.total_connections();
  so.cpu = workers ? -1 : server_cpu;
  so.avoid_cpu = workers ? load_cpu : -1;
  so.record_trace = opt.record_trace || opt.kernel_trace;
  so.maxevents = sc.kernel.maxevents;
  so.et_read_once = sc.et_read_once && sc.strategy == Strategy::EpollEt;
  so.threads = sc.server_threads();
  so.epoll_flags = sc.epoll_flags;
  so.t0_ns = sys::mono_ns();
  // The model's clients are all connected when its server begins. Live, the same: the
  // kernel completes each handshake into the listen backlog, and the server begins once
  // every connect() has returned, accepting the whole crowd in one go instead of waking
  // once per arriving connection. Only while the backlog can hold them all.
  so.hold = sc.total_connections() <= listen_backlog_cap();
  Server server(so, proto);
  if (std::string e = server.start(); !e.empty()) throw LiveError("the live server could not start: " + e);

  KernelTrace ktrace;
  if (opt.kernel_trace) {
    if (std::string why = ktrace.start(); !why.empty()) res.notes.push_back("--kernel-trace: " + why);
  }

  int hog_count = 0;
  for (const BackgroundGroup& g : sc.background) hog_count += g.count;
  Hogs hogs(hog_count, server_cpu);

  KernelStat before, after;
  LoadOptions lo;
  // The trace's time 0 is when the server begins serving (after the clients' connects, with
  // the hold), so that a recording does not open on a long stretch of nothing.
  std::int64_t begin_ns = so.t0_ns;
  lo.on_connected = [&] {
    if (so.hold) begin_ns = sys::mono_ns();
    server.release();
  };
  lo.port = server.port();
  lo.cpu = load_cpu;
  const int expected = sc.total_connections();
  int before_run = 0;  // connections made before the run: the server accepts them first
  for (const ClientGroup& g : sc.clients) before_run += g.connects_during_run() ? 0 : g.connections;
  lo.server_ready = [&] { return server.accepted() >= before_run; };
  lo.on_start = [&](std::int64_t) { before = read_kernel_stat(); };
  bool drained = false;
  lo.on_drained = [&] {  // the end of what is measured: the clients' closing is teardown
    after = read_kernel_stat();
    server.end_window();
    drained = true;
  };
  LoadResult load;
  std::thread loader([&] { load = run_load(sc, lo); });
  loader.join();
  if (!drained) {  // the load generator could not set up: measure to here
    after = read_kernel_stat();
    server.end_window();
  }
  const std::int64_t background_ns = hogs.stop();
  // The clients have closed: each connection ends with EOF, and the server lets go of it.
  const std::int64_t grace = sys::mono_ns() + 200'000'000;
  while (server.open_connections() > 0 && sys::mono_ns() < grace)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  server.stop();
  ktrace.stop();
  ServerStats st = server.stats();
  if (!st.error.empty()) res.notes.push_back("server: " + st.error);
  if (!load.setup_error.empty()) res.notes.push_back("load generator: " + load.setup_error);
  if (st.refused) res.notes.push_back("the server refused " + std::to_string(st.refused) + " connections");
  if (st.limit_closed || st.slow_closed)
    res.notes.push_back("the server closed " + std::to_string(st.limit_closed) + " connections past a query limit and " +
                        std::to_string(st.slow_closed) + " for not reading their replies (live/limits.h)");
  if (st.accept_pauses)
    res.notes.push_back("accept4 found no free fd " + std::to_string(st.accept_pauses) + " times (RLIMIT_NOFILE)");
  if (std::string t = teardown_note(st); !t.empty()) res.notes.push_back(t);
  for (std::size_t i = 1; i < sys::kSysCount; i++)
    if (st.teardown_calls[i]) res.teardown_syscalls[std::string(sys_name(Sys(i)))] = st.teardown_calls[i];
  res.teardown_eagain = st.teardown_eagain;
  if (st.events_dropped)
    res.notes.push_back("trace: " + std::to_string(st.events_dropped) + " syscalls counted but not traced (buffer full)");

  Metrics& m = res.metrics;
  m.source = "live";
  m.scenario = sc.title;
  m.strategy = sc.strategy;
  m.seed = sc.seed;
  m.duration_ns = load.end_ns - load.t0_ns;
  m.requests_sent = load.sent;
  m.requests_completed = load.completed;
  m.requests_failed = load.failed;
  m.failed_by_reason = load.failed_by_reason;
  m.throughput_rps = m.duration_ns > 0 ? double(load.completed) * 1e9 / double(m.duration_ns) : 0;
  m.latency_p50_us = load.latency.percentile_us(50);
  m.latency_p90_us = load.latency.percentile_us(90);
  m.latency_p99_us = load.latency.percentile_us(99);
  m.latency_max_us = load.latency.max_ns() / 1000;
  fill_server_metrics(m, st, after - before);
  m.cpu_background_ns = background_ns;

  Trace& tr = res.trace;
  tr.scenario_title = sc.title;
  tr.source = "live";
  tr.strategy = m.strategy;
  tr.seed = sc.seed;
  tr.cpus = int(sysconf(_SC_NPROCESSORS_CONF));
  if (tr.cpus < 1) tr.cpus = 1;
  tr.connections = expected;
  tr.end_ns = load.end_ns - begin_ns;
  if (so.record_trace) {
    // The cast first (one task per server thread), then every syscall in time order.
    for (std::size_t i = 0; i < st.thread_names.size() && i < kNoTask; i++) {
      tr.strings.push_back(st.thread_names[i]);
      TraceEvent e;
      e.kind = Ev::TaskCreate;
      e.actor = std::uint16_t(i);
      e.a = std::uint32_t(i == 0 ? TaskKind::ServerMain : TaskKind::ServerWorker);
      e.b = std::uint32_t(i);
      e.obj = std::uint32_t(server_cpu < 0 ? 0 : server_cpu);
      tr.events.push_back(e);
    }
    const std::int64_t shift = begin_ns - so.t0_ns;  // the seam timed from so.t0_ns
    for (TraceEvent e : st.events) {
      e.t = std::max<std::int64_t>(0, e.t - shift);
      tr.events.push_back(e);
    }
    if (opt.kernel_trace) {
      std::map<int, std::uint16_t> actor_of_tid;
      for (std::size_t i = 0; i < st.thread_tids.size() && i < kNoTask; i++)
        actor_of_tid[st.thread_tids[i]] = std::uint16_t(i);
      KernelTraceSummary ks = ktrace.merge_into(tr, begin_ns, actor_of_tid);
      if (ks.ok) {
        m.wakeups = ks.server_wakeups;
        res.notes.push_back("kernel trace: " + std::to_string(ks.events) + " kernel events merged");
      } else if (!ks.error.empty()) {
        res.notes.push_back("--kernel-trace: " + ks.error);
      }
    }
    for (std::size_t i = 0; i < tr.events.size(); i++) tr.events[i].seq = std::uint32_t(i);
  }
  return res;
}

}  // namespace eps::live
