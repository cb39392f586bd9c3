// The run estimate (sim/budget.h). Each part of the count follows one mechanism of the model:
// accepting the connections, the requests the clients send and the server can answer,
// busy-poll's EAGAIN loop, select/poll registering on every watched fd, the scheduler's slices
// between CPU hogs. The per-request and per-connection factors were measured on the shipped
// lessons under every strategy (tests/test_budget.cpp holds the estimate to them).
#include "sim/budget.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "sim/trace.h"

namespace eps {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Trace events per request the server answers (the wire, the NIC, the IRQ and softirq, the
// wake-up, the syscalls and lines of the serving loop, the reply): measured on the lessons,
// 25 (a saturated closed loop, no sleeping) to 45 (a wake-up and a switch for each request).
// By what the strategy waits with (the strategy table's traits, so a new strategy needs no
// line here).
double served_events(Strategy s) {
  const StrategyInfo& i = strategy_info(s);
  switch (i.waits) {
    case WaitsWith::Recvfrom: return 36;
    case WaitsWith::Nothing: return 26;
    case WaitsWith::Scan: return 34;
    case WaitsWith::Epoll: return i.edge_triggered ? 38 : 36;  // ET: its extra recvfrom to EAGAIN
  }
  return 40;
}

// Events to accept one connection: accept4 and its lines; epoll_ctl ADD with the tree's
// rotations and recolours; for the blocking server, clone and the new thread's first sleep.
double setup_events(Strategy s) {
  switch (strategy_info(s).waits) {
    case WaitsWith::Recvfrom: return 15;
    case WaitsWith::Nothing: return 3;
    case WaitsWith::Scan: return 5;
    case WaitsWith::Epoll: return 14;
  }
  return 15;
}

constexpr double kBaseEvents = 40;      // the cast: tasks, the listening socket, the first lines
constexpr double kRefusedEvents = 5;    // select: close() of an fd >= FD_SETSIZE
constexpr double kHerdEvents = 25;      // a worker woken for a connection: measured on lesson 09
constexpr double kUnservedEvents = 3.2; // ClientSend, NicDrop or queued, RequestFailed (a flood
                                        // of 10 M requests measured 3.2 each)
constexpr double kEagainEvents = 4;     // busy-poll: line, SyscallEnter, SyscallExit, line
constexpr double kSliceEvents = 5;      // a slice ends: CpuMode, ContextSwitch, two TaskState...

// Memory, measured with /usr/bin/time on epollscope-cli and the GUI (README, "Limits").
constexpr double kTraceEventBytes = sizeof(TraceEvent);  // 32
constexpr double kTracePeakFactor = 2;  // vector growth, then take_trace's shrink_to_fit copy:
                                        // 63-66 bytes an event at the peak, measured
constexpr double kReplayEventBytes = 150;  // the GUI near its limit: trace + snapshots + lanes
constexpr double kConnectionBytes = 1024;  // Socket, Client, arrival stream (100k: 91 MB)
constexpr double kThreadBytes = 1024;      // blocking: a Task and its coroutine frame
constexpr double kRequestBytes = 10;       // the client's send time and state per request
constexpr double kQueuedBytes = 16;        // an unanswered request waiting in a queue (Skb)
constexpr double kEventsPerSecond = 3e7;   // metrics only: 24-73 M events/s of CPU measured here

constexpr int kFdSetSize = 1024;

struct Term {
  double events = 0;
  std::string what;
  std::vector<std::string> keys;
};

std::string group_key(std::size_t i, const char* field) {
  return "clients[" + std::to_string(i + 1) + "]." + field;
}

}  // namespace

RunEstimate estimate_run(const Scenario& sc, Record record) {
  const Costs& c = sc.costs;
  const Strategy st = sc.strategy;
  const double ms = 1e6;
  const double t0 = double(sc.start_ms) * ms, ts = double(sc.duration_ms) * ms, td = double(sc.drain_ms) * ms;
  const double tmax = t0 + ts + td;  // kStop: the run never goes past the drain
  const int cpus = std::max(1, sc.cpus);
  double n = 0;
  for (const ClientGroup& g : sc.clients) n += std::max(0, g.connections);

  // Neighbours: task i (the server is task 0, neighbours 1..k) starts on CPU i % cpus and, being
  // always runnable, moves only when newidle_balance pulls it to a CPU going idle: the estimate
  // takes CPU k to share its time among its own.
  int bg_total = 0;
  std::size_t big_bg = 0;
  for (std::size_t i = 0; i < sc.background.size(); i++) {
    bg_total += std::max(0, sc.background[i].count);
    if (sc.background[i].count > sc.background[big_bg].count) big_bg = i;
  }
  std::vector<int> bg_on(std::size_t(cpus), 0);
  for (int i = 1; i <= bg_total; i++) bg_on[std::size_t(i % cpus)]++;

  // The server's CPU time per request, at the least: the work, recvfrom and sendto, the reply's
  // transmit, the copies; on one CPU the softirq that delivered the request shares it too.
  int request_bytes = 0;
  for (const ClientGroup& g : sc.clients) request_bytes = std::max(request_bytes, g.request_bytes);
  auto copy = [&](double bytes) { return bytes * double(c.copy_per_kib_ns) / 1024; };
  const double per_request = double(sc.work_us) * 1000 + 2.0 * double(c.syscall_ns) + double(c.tx_packet_ns) +
                             copy(request_bytes) + copy(sc.reply_bytes) +
                             (cpus == 1 ? double(c.softirq_packet_ns) : 0.0);
  // One thread serves, except for the blocking server's thread per connection.
  const StrategyInfo& info = strategy_info(st);
  const double server_threads = info.waits == WaitsWith::Recvfrom ? n : info.threads ? double(sc.server_threads()) : 1;
  const int serving_cpus = int(std::min<double>(cpus, std::max(1.0, server_threads)));
  double serving_share = 0;  // CPUs' worth of time the server gets
  for (int k = 0; k < serving_cpus; k++) serving_share += 1.0 / (1 + bg_on[std::size_t(k)]);
  const double share0 = 1.0 / (1 + bg_on[0]);  // the main thread's CPU (accepting, busy-poll)
  const double rate_cap = per_request > 0 ? serving_share / per_request : kInf;  // requests/ns

  // Accepting a connection (the main thread, one at a time).
  double setup_cost = double(c.accept_ns) + double(c.syscall_ns);
  if (info.waits == WaitsWith::Epoll) setup_cost += double(c.epoll_ctl_ns) + double(c.syscall_ns);
  if (info.waits == WaitsWith::Recvfrom) setup_cost += double(c.clone_ns) + double(c.syscall_ns);

  // select cannot watch an fd >= FD_SETSIZE: the program closes those connections.
  const double first_fd = info.waits == WaitsWith::Epoll ? 5 : 4;
  const double watched = st == Strategy::Select ? std::min(n, kFdSetSize - first_fd) : n;

  // What the clients offer.
  double r_open = 0, r_closed = 0, r_refused = 0, t_fixed = 0;
  bool window = false;   // some group sends for the whole of duration_ms: the run lasts that long
  double first_active = -1, active = 0;
  std::size_t big_open = 0, big_closed = 0, big_conns = 0;
  double big_open_r = -1, big_closed_r = -1, big_conns_n = -1;
  bool closed_fixed = false;
  double lo = 0;
  for (std::size_t i = 0; i < sc.clients.size(); i++) {
    const ClientGroup& g = sc.clients[i];
    const double conns = std::max(0, g.connections);
    const double served_conns = std::max(0.0, std::min(lo + conns, watched) - lo);
    const double refused = conns - served_conns;
    if (conns > big_conns_n) { big_conns_n = conns; big_conns = i; }
    double r = 0;
    if (g.mode == ClientMode::Open) {
      window = true;
      const double per_conn = g.rate_per_s * ts / 1e9;
      if (g.rate_per_s > 0) {
        if (first_active < 0) first_active = lo;
        active += served_conns;
      }
      r = served_conns * per_conn;
      r_open += r;
      r_refused += refused * std::min(1.0, per_conn);
      if (r > big_open_r) { big_open_r = r; big_open = i; }
    } else {
      if (first_active < 0) first_active = lo;
      active += served_conns;
      // A closed-loop connection waits for its reply: a round trip, the think time and the
      // server's work at the least.
      const double cycle = 2.0 * double(c.wire_latency_ns) + double(g.think_us) * 1000 + per_request;
      if (g.requests > 0) {
        closed_fixed = true;
        r = served_conns * g.requests;
        t_fixed = std::max(t_fixed, g.requests * cycle);
      } else {
        window = true;
        r = cycle > 0 ? served_conns * ts / cycle : (served_conns > 0 ? kInf : 0);
      }
      r_closed += r;
      r_refused += refused;
      if (r > big_closed_r) { big_closed_r = r; big_closed = i; }
    }
    lo += conns;
  }
  if (first_active < 0) first_active = n;

  // What the server can answer: a closed loop sends no faster than it is answered; an open
  // loop's excess is dropped at the NIC or left unanswered.
  const double setup_all = std::min(n * setup_cost, share0 * tmax);
  const bool closed_capped = r_closed > rate_cap * (ts + (closed_fixed ? td : 0));
  r_closed = std::min(r_closed, rate_cap * (ts + (closed_fixed ? td : 0)));
  const double serve_window = std::max(0.0, ts + td - std::max(0.0, setup_all - t0));
  const double served = std::min(r_open + r_closed, serve_window > 0 ? rate_cap * serve_window : 0.0);
  if (!std::isfinite(served)) {
    // Only a closed loop whose round trip costs nothing gets here: it repeats at one instant.
    RunEstimate e;
    e.requests = e.served = e.events = e.seconds = kInf;
    e.term = "a closed-loop round trip";  // no wire, no think time, no work, no cost
    e.drivers = {group_key(big_closed, "think_us"), "costs.wire_latency_ns", "server.work_us"};
    e.state_drivers = e.drivers;
    e.trace_bytes = record == Record::MetricsOnly ? 0 : kInf;
    e.state_bytes = e.peak_bytes = kInf;
    return e;
  }
  const double unserved = r_open + r_closed - served + r_refused;

  // How long the run lasts: the sending window, a fixed closed loop's last reply, or the
  // server working through what it was sent; never past the drain.
  const double t_busy = served > 0 ? setup_all + served / rate_cap : 0;
  const double t_run = std::min(tmax, std::max({window ? t0 + ts : 0.0, t0 + t_fixed, t_busy}));
  const double accepted = setup_cost > 0 ? std::min(n, share0 * t_run / setup_cost) : n;
  const double setup_time = accepted * setup_cost;

  std::vector<Term> terms;
  // Requests: what they are driven by.
  {
    Term t;
    t.events = served_events(st) * served + kUnservedEvents * unserved;
    if (r_open >= r_closed) {
      t.what = "open-loop requests";
      t.keys = {group_key(big_open, "rate_per_s"), group_key(big_open, "connections"), "duration_ms"};
    } else if (closed_capped) {
      t.what = "closed-loop requests, as fast as the server answers";
      t.keys = {"duration_ms", "server.work_us"};
      if (closed_fixed) t.keys = {group_key(big_closed, "requests"), group_key(big_closed, "connections"), "server.work_us"};
      if (info.waits == WaitsWith::Recvfrom && cpus > 1) t.keys.push_back("machine.cpus");
    } else if (closed_fixed) {
      t.what = "closed-loop requests";
      t.keys = {group_key(big_closed, "requests"), group_key(big_closed, "connections")};
    } else {
      t.what = "closed-loop requests";
      t.keys = {group_key(big_closed, "connections"), "duration_ms", group_key(big_closed, "think_us")};
    }
    terms.push_back(std::move(t));
  }
  // Connections: created, accepted, registered; select closes those past FD_SETSIZE.
  // Worker threads that share a listener (one epoll instance, or one each) all wake for each
  // connection (the thundering herd): a wake-up, two switches, an ep_poll that finds nothing.
  // Only connections that arrive during the run find the workers asleep.
  double arriving = 0;
  for (const ClientGroup& g : sc.clients) arriving += g.connects_during_run() ? double(g.connections) : 0.0;
  const double herd_events = info.threads && !info.reuseport ? kHerdEvents * double(sc.server_threads()) * arriving : 0;
  terms.push_back(Term{kBaseEvents + n + herd_events + setup_events(st) * accepted + (st == Strategy::Select ? kRefusedEvents * (n - watched) : 0),
                       "accepting the connections", {group_key(big_conns, "connections")}});
  // Busy-poll: a recvfrom per fd that says EAGAIN, whenever the thread is not serving.
  if (info.waits == WaitsWith::Nothing) {
    const double spin = std::max(0.0, share0 * t_run - setup_time - served * per_request);
    Term t{spin > 0 ? (c.syscall_ns > 0 ? kEagainEvents * spin / double(c.syscall_ns) : kInf) : 0,
           "busy-poll's EAGAIN loop", {"server.strategy", t0 > ts ? "start_ms" : "duration_ms"}};
    if (c.syscall_ns == 0) t.keys = {"costs.syscall_ns"};
    else if (c.syscall_ns < Costs{}.syscall_ns) t.keys.push_back("costs.syscall_ns");
    terms.push_back(std::move(t));
  }
  // select/poll: each call that finds nothing ready registers on every watched fd and takes the
  // entries off again (2 events a fd); one that finds an fd ready stops registering there.
  if (info.waits == WaitsWith::Scan) {
    const double scan = watched * double(c.poll_fd_ns) + double(c.syscall_ns);
    const double free_time = std::max(0.0, share0 * t_run - setup_time - served * per_request);
    const double calls =
        std::min(served, std::max(served / std::max(1.0, active), scan > 0 ? free_time / scan : kInf));
    const double ready_per_call = calls > 0 ? served / calls : 1;
    const double arrivals = served / std::max(1.0, t_run - t0);  // per ns
    const double sleeps = std::exp(-arrivals * (scan + ready_per_call * per_request));
    const double registered =
        sleeps * watched + (1 - sleeps) * std::min(watched, first_active + active / (ready_per_call + 1));
    terms.push_back(Term{calls * 2 * registered + watched,  // + the last call, asleep at the end
                         std::string(strategy_name(st)) + " registering on every watched fd",
                         {"server.strategy", group_key(big_conns, "connections"), "duration_ms"}});
  }
  // CPU hogs sharing a CPU switch at the end of every slice.
  if (bg_total > 0) {
    const double slice = double(sc.effective_slice_ns());
    const double server_busy = t_run > 0 ? std::min(1.0, (setup_time + served * per_request) / t_run) : 0;
    double switching = 0;  // CPUs with more than one task to run
    for (int k = 0; k < cpus; k++) {
      double contenders = bg_on[std::size_t(k)] + (k == 0 ? (info.waits == WaitsWith::Nothing ? 1.0 : server_busy) : 0.0);
      switching += std::clamp(contenders - 1, 0.0, 1.0);
    }
    Term t{slice > 0 ? kSliceEvents * switching * t_run / slice : kInf, "neighbour tasks' time slices",
           {"background[" + std::to_string(big_bg + 1) + "].count", "duration_ms"}};
    if (sc.kernel.sched_slice_ns > 0) t.keys.push_back("kernel.sched_slice_ns");
    terms.push_back(std::move(t));
  }

  RunEstimate e;
  e.requests = r_open + r_closed + r_refused;
  e.served = served;
  const Term* big = &terms.front();
  for (const Term& t : terms) {
    e.events += t.events;
    if (t.events > big->events) big = &t;
  }
  e.term = big->what;
  e.drivers = big->keys;
  const double threads = info.waits == WaitsWith::Recvfrom ? accepted : info.threads ? double(sc.server_threads()) : 0;
  const double per_connection = kConnectionBytes * n + kThreadBytes * threads;
  const double per_request_state = kRequestBytes * e.requests + kQueuedBytes * unserved;
  e.state_bytes = per_connection + per_request_state;
  e.state_drivers = per_request_state > per_connection ? terms.front().keys
                                                       : std::vector<std::string>{group_key(big_conns, "connections")};
  switch (record) {
    case Record::MetricsOnly: e.peak_bytes = e.state_bytes; break;
    case Record::Trace:
      e.trace_bytes = kTraceEventBytes * e.events;
      e.peak_bytes = kTracePeakFactor * e.trace_bytes + e.state_bytes;
      break;
    case Record::Replay:
      e.trace_bytes = kTraceEventBytes * e.events;
      e.peak_bytes = kReplayEventBytes * e.events + e.state_bytes;
      break;
  }
  e.seconds = e.events / kEventsPerSecond;
  return e;
}

double event_limit(const RunEstimate& est, Record record, const Budget& budget) {
  if (record == Record::MetricsOnly) return budget.max_events;
  const double per_event = record == Record::Trace ? kTracePeakFactor * kTraceEventBytes : kReplayEventBytes;
  return std::min(budget.max_events, std::max(0.0, budget.max_bytes - est.state_bytes) / per_event);
}

std::string format_count(double n) {
  char b[64];
  if (!std::isfinite(n)) return "unbounded";
  struct Unit { double size; const char* name; };
  static constexpr Unit kUnits[] = {{1e15, "quadrillion"}, {1e12, "trillion"}, {1e9, "billion"}, {1e6, "million"}};
  if (n >= 1e18) {
    std::snprintf(b, sizeof b, "%.1e", n);
    return b;
  }
  for (const Unit& u : kUnits) {
    if (n >= u.size) {
      const double v = n / u.size;
      std::snprintf(b, sizeof b, v < 10 ? "%.1f %s" : "%.0f %s", v, u.name);
      return b;
    }
  }
  std::snprintf(b, sizeof b, "%.0f", n);
  std::string s = b, out;
  for (std::size_t i = 0; i < s.size(); i++) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

std::string format_bytes(double bytes) {
  char b[64];
  if (!std::isfinite(bytes)) return "unbounded";
  static constexpr const char* kUnits[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  std::size_t u = 0;
  while (bytes >= 1024 && u + 1 < std::size(kUnits)) {
    bytes /= 1024;
    u++;
  }
  if (bytes >= 1024) {
    std::snprintf(b, sizeof b, "~%.1e %s", bytes, kUnits[u]);
    return b;
  }
  std::snprintf(b, sizeof b, bytes < 10 && u > 0 ? "~%.1f %s" : "~%.0f %s", bytes, kUnits[u]);
  std::string s = b;
  if (s.size() > 4 && s.compare(s.find(' ') - 2, 2, ".0") == 0) s.erase(s.find(' ') - 2, 2);  // ~2.0 -> ~2
  return s;
}

namespace {

std::string format_seconds(double s) {
  char b[64];
  if (!std::isfinite(s)) return "forever";
  if (s < 1) return "under a second";
  if (s < 90) std::snprintf(b, sizeof b, "~%.0f s", s);
  else if (s < 90 * 60) std::snprintf(b, sizeof b, "~%.0f min", s / 60);
  else if (s < 48 * 3600) std::snprintf(b, sizeof b, "~%.0f h", s / 3600);
  else if (s < 3 * 365 * 86400.0) std::snprintf(b, sizeof b, "~%.0f days", s / 86400);
  else std::snprintf(b, sizeof b, "~%s years", format_count(s / (365 * 86400.0)).c_str());
  return b;
}

std::string join(const std::vector<std::string>& keys) {
  std::string s;
  for (const std::string& k : keys) s += (s.empty() ? "" : ", ") + k;
  return s;
}

}  // namespace

namespace {

struct Refusal {
  std::string file, keys, message;
};

std::optional<Refusal> refusal(const Scenario& sc, Record record, const Budget& budget) {
  const RunEstimate e = estimate_run(sc, record);
  Refusal r{sc.path.empty() ? "<scenario>" : sc.path, join(e.drivers), ""};
  const std::string how = "Lower them, or pass --allow-big to run it anyway.";
  if (!std::isfinite(e.events)) {
    r.message = "this run would never end: " + e.term +
                " costs no simulated time, so it repeats forever at one instant. Give it a cost; no flag runs it.";
    return r;
  }
  const double limit = event_limit(e, record, budget);
  const bool over_bytes = e.peak_bytes > budget.max_bytes;
  if (e.events <= limit && !over_bytes) return std::nullopt;
  // What grows most is what the message is about: per-request records and sockets (no trace,
  // or a state bigger than the trace), or the events.
  if (over_bytes && (e.state_bytes >= e.peak_bytes - e.state_bytes)) {
    r.keys = join(e.state_drivers);
    r.message = "this run would hold " + format_bytes(e.state_bytes) + " of model state for " +
                format_count(e.requests) + " requests and " + format_count(double(sc.total_connections())) +
                " connections; the limit is " + format_bytes(budget.max_bytes) + ". " + how;
    return r;
  }
  if (record == Record::MetricsOnly)
    r.message = "this run would simulate about " + format_count(e.events) + " events (" + format_seconds(e.seconds) +
                " of CPU); the limit is " + format_count(limit) + " (" + format_seconds(limit / kEventsPerSecond) +
                "). " + how;
  else {
    // The limit as it stands for a run of this kind (the state left out: here the trace is
    // what does not fit).
    RunEstimate stateless = e;
    stateless.state_bytes = 0;
    const double shown = event_limit(stateless, record, budget);
    r.message = "this run would record about " + format_count(e.events) + " events (" + format_bytes(e.peak_bytes) +
                "); the limit is " + format_count(shown) + " (" +
                format_bytes(std::min(budget.max_bytes, shown * (e.peak_bytes - e.state_bytes) / e.events)) + "). " + how;
  }
  return r;
}

}  // namespace

std::string budget_error(const Scenario& sc, Record record, const Budget& budget) {
  const auto r = refusal(sc, record, budget);
  return r ? BudgetError(r->file, 0, r->keys, r->message).what() : std::string();
}

void check_budget(const Scenario& sc, Record record, const Budget& budget) {
  if (auto r = refusal(sc, record, budget)) throw BudgetError(r->file, 0, r->keys, r->message);
}

}  // namespace eps
