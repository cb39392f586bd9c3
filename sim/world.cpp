// Rebuilding what a view draws from the trace alone. apply() is the only place that reads
// event fields for state; it mirrors, event by event, what the model changed when it emitted
// the event (tests check that the replayed final state equals the model's own).
//
// A trace read from a file has passed check_trace (sim/trace_check.h), but a Trace can also
// be built in code: apply() never indexes or grows a vector by a field it has not bounded,
// and skips what it cannot place (a few compares on the hot path; bench_sim measures it).
#include "sim/world.h"

#include <algorithm>
#include <cassert>

#include "sim/trace_check.h"

namespace eps {

namespace {

void erase_wait(std::vector<WsWait>& wq, WaitKind kind, std::uint32_t who) {
  auto it = std::find(wq.begin(), wq.end(), WsWait{kind, who});
  if (it != wq.end()) wq.erase(it);
}

// Closes the open interval of a CPU's current mode at time t.
void account(WsCpu& c, std::vector<WsTask>& tasks, SimTime t) {
  SimTime dt = t - c.mode_since;
  if (dt <= 0) return;
  c.busy_ns[std::size_t(c.mode)] += dt;
  if (c.mode_task != kNoTask && c.mode_task < tasks.size()) {
    WsTask& k = tasks[c.mode_task];
    if (c.mode == CpuMode::User) k.utime += dt;
    else if (c.mode == CpuMode::System || c.mode == CpuMode::Switch) k.stime += dt;
  }
  c.mode_since = t;
}

}  // namespace

const WsSocket* WorldState::socket_fd(std::uint32_t fd) const {
  if (fd >= fd_conn.size() || fd_conn[fd] < 0) return nullptr;
  return &sockets[std::size_t(fd_conn[fd])];
}

std::size_t WorldState::approx_bytes() const {
  std::size_t n = sizeof(*this) + cpus.size() * sizeof(WsCpu) + tasks.size() * (sizeof(WsTask) + 16) +
                  fd_conn.size() * 4 + wire.size() * sizeof(WirePacket) + 8192 * 4;
  for (const WsSocket& s : sockets) n += sizeof(WsSocket) + s.wq.size() * sizeof(WsWait);
  if (ep) n += ep->rbr.size() * sizeof(RbTree::Node) + (ep->watched.size() + ep->rdllist.size()) * 4;
  return n;
}

WorldState initial_world(const Trace& trace) {
  WorldState w;
  w.cpus.resize(std::size_t(std::max(1, trace.cpus)));
  w.sockets.reserve(std::size_t(trace.connections));
  return w;
}

void apply(WorldState& w, const Trace& trace, const TraceEvent& e) {
  w.t = e.t;
  w.index++;
  WsCounters& k = w.counters;
  auto task = [&](std::uint16_t id) -> WsTask* { return id < w.tasks.size() ? &w.tasks[id] : nullptr; };
  auto sock = [&](std::uint32_t fd) -> WsSocket* {
    if (fd >= w.fd_conn.size() || w.fd_conn[fd] < 0) return nullptr;
    return &w.sockets[std::size_t(w.fd_conn[fd])];
  };
  auto wq_of = [&](std::uint32_t owner) -> std::vector<WsWait>* {
    if (w.ep && owner == w.ep->epfd) return &w.ep->wq;
    if (owner == 3) return &w.listen_wq;
    WsSocket* s = sock(owner);
    return s ? &s->wq : nullptr;
  };
  switch (e.kind) {
    case Ev::TaskCreate: {
      if (e.actor == kNoTask || e.a > std::uint32_t(TaskKind::Ksoftirqd)) break;
      WsTask t;
      t.id = e.actor;
      t.kind = TaskKind(e.a);
      t.name = e.b < trace.strings.size() ? trace.strings[e.b] : "task " + std::to_string(e.actor);
      t.cpu = e.obj < w.cpus.size() ? int(e.obj) : 0;
      t.state = TaskState::Runnable;
      if (w.tasks.size() <= e.actor) w.tasks.resize(e.actor + 1u);
      w.tasks[e.actor] = std::move(t);
      break;
    }
    case Ev::SocketCreate: {
      // Only connections' sockets are kept (a = kNone is the listening socket), and only fds
      // a trace of this header can hold: both bound what the vectors may grow to.
      if (e.a >= std::uint32_t(std::max(0, trace.connections)) || e.obj >= trace_fd_limit(trace)) break;
      if (w.sockets.size() <= e.a) w.sockets.resize(e.a + 1u);
      WsSocket& s = w.sockets[e.a];
      s.fd = e.obj;
      s.conn = e.a;
      if (w.fd_conn.size() <= e.obj) w.fd_conn.resize(e.obj + 1u, -1);
      w.fd_conn[e.obj] = std::int32_t(e.a);
      break;
    }
    case Ev::EpollCreate:
      w.ep.emplace();
      w.ep->epfd = e.obj;
      break;
    case Ev::FdClose:
      if (WsSocket* s = sock(e.obj)) { s->closed = true; s->rxq = 0; }
      break;
    case Ev::CpuMode: {
      if (e.cpu >= w.cpus.size() || e.a >= std::uint32_t(kCpuModeCount)) break;
      WsCpu& c = w.cpus[e.cpu];
      account(c, w.tasks, e.t);
      c.mode = CpuMode(e.a);
      c.mode_task = e.actor;
      break;
    }
    case Ev::TaskState:
      if (e.cpu >= w.cpus.size() || e.a > std::uint32_t(TaskState::Dead)) break;
      if (WsTask* t = task(e.actor)) { t->state = TaskState(e.a); t->cpu = e.cpu; }
      break;
    case Ev::ContextSwitch: {
      if (e.cpu >= w.cpus.size()) break;
      WsCpu& c = w.cpus[e.cpu];
      if (WsTask* prev = task(std::uint16_t(e.a))) {
        if (e.b == 1) prev->nivcsw++;
        else if (prev->state == TaskState::Sleeping) prev->nvcsw++;
      }
      c.curr = e.actor;
      break;
    }
    case Ev::TryToWakeUp:
      if (WsTask* t = task(e.actor); t && t->server()) k.wakeups++;
      break;
    case Ev::ProgramLine:
      if (WsTask* t = task(e.actor)) t->line = int(e.a);
      break;
    case Ev::SyscallEnter:
      if (e.a >= std::uint32_t(Sys::Count)) break;
      k.syscalls[e.a]++;
      if (WsTask* t = task(e.actor)) { t->in_sys = Sys(e.a); t->sys_fd = e.obj; }
      break;
    case Ev::SyscallExit: {
      if (e.a >= std::uint32_t(Sys::Count)) break;
      int result = int(std::int32_t(e.b));
      if (Sys(e.a) == Sys::Recvfrom && result == -11) k.eagain++;
      if (WsTask* t = task(e.actor)) {
        t->in_sys = Sys::None;
        t->last_sys = Sys(e.a);
        t->last_result = result;
      }
      if (Sys(e.a) == Sys::Accept4 && result >= 0)
        if (WsSocket* s = sock(std::uint32_t(result))) s->accepted = true;
      break;
    }
    case Ev::UserWork:
      break;
    case Ev::PollScan:
      k.fds_scanned += e.a;
      break;
    case Ev::ClientSend:
      k.sent++;
      w.wire.push_back(WirePacket{e.flow, e.obj, e.a, e.t, false});
      break;
    case Ev::NicRx:
    case Ev::NicDrop: {
      auto it = std::find_if(w.wire.begin(), w.wire.end(),
                             [&](const WirePacket& p) { return p.flow == e.flow && !p.reply; });
      if (it != w.wire.end()) w.wire.erase(it);
      if (e.kind == Ev::NicRx) w.ring = e.a;
      else k.nic_drops++;
      break;
    }
    case Ev::HardIrq:
      if (e.cpu < w.cpus.size()) w.cpus[e.cpu].hardirq = e.a == 1;
      break;
    case Ev::NapiSchedule:
      w.napi_scheduled = true;
      break;
    case Ev::Softirq: {
      if (e.cpu >= w.cpus.size()) break;
      WsCpu& c = w.cpus[e.cpu];
      if (e.actor == kNoTask) c.softirq = e.a == 1;  // not when ksoftirqd runs it as a task
      if (e.a == 1) {
        k.net_rx++;
        c.softirq_packets = 0;
      } else if (w.ring == 0) {
        w.napi_scheduled = false;  // napi_complete_done: the ring was empty
      }
      break;
    }
    case Ev::NapiRx:
      k.softirq_packets++;
      w.ring = e.a;
      if (e.cpu < w.cpus.size()) w.cpus[e.cpu].softirq_packets++;
      break;
    case Ev::TimeSqueeze:
      k.time_squeeze++;
      break;
    case Ev::SkbQueue:
      if (WsSocket* s = sock(e.obj)) { s->rxq = e.a; s->received++; }
      break;
    case Ev::SkbDequeue:
      if (WsSocket* s = sock(e.obj)) s->rxq = e.a;
      break;
    case Ev::WaitAdd:
      if (e.a > std::uint32_t(WaitKind::EpWait)) break;
      if (auto* wq = wq_of(e.obj)) wq->push_back(WsWait{WaitKind(e.a), e.b});
      break;
    case Ev::WaitRemove:
      if (auto* wq = wq_of(e.obj)) erase_wait(*wq, WaitKind(e.a), e.b);
      break;
    case Ev::WaitWake:
      break;
    case Ev::EpitemInsert:
      if (w.ep && w.ep->rbr.insert(RbKey{e.a, std::int32_t(e.a)})) w.ep->watched.push_back(e.a);
      break;
    case Ev::EpitemRemove:
      if (w.ep) {
        w.ep->rbr.erase(RbKey{e.a, std::int32_t(e.a)});
        auto& v = w.ep->watched;
        v.erase(std::remove(v.begin(), v.end(), e.a), v.end());
      }
      break;
    case Ev::EpitemModify:
    case Ev::RbRotate:
    case Ev::RbRecolor:
      break;  // the tree's shape follows from the inserts; these are for the animation
    case Ev::RdllistAdd:
      if (w.ep) w.ep->rdllist.push_back(e.a);
      break;
    case Ev::RdllistRemove:
      if (w.ep) {
        auto& v = w.ep->rdllist;
        auto it = std::find(v.begin(), v.end(), e.a);
        if (it != v.end()) v.erase(it);
      }
      break;
    case Ev::ReplySend:
      w.wire.push_back(WirePacket{e.flow, e.obj, e.a, e.t, true});
      break;
    case Ev::ReplyRecv: {
      auto it = std::find_if(w.wire.begin(), w.wire.end(),
                             [&](const WirePacket& p) { return p.flow == e.flow && p.reply; });
      if (it != w.wire.end()) w.wire.erase(it);
      k.completed++;
      k.latency.add(SimTime(e.b) * 1000);
      break;
    }
    case Ev::RequestFailed:
      if (e.b < 3) k.fail(FailReason(e.b));
      break;
    case Ev::Count:
      break;
  }
}

Metrics metrics_of(const WorldState& w0, const Trace& trace, std::optional<SimTime> at) {
  WorldState w = w0;  // cheap enough for a view; accounting closes the open intervals
  SimTime t = at.value_or(w.t);
  for (WsCpu& c : w.cpus) account(c, w.tasks, t);
  CpuSplit split;
  for (const WsTask& tk : w.tasks) split.add_task(tk);
  for (const WsCpu& c : w.cpus) split.add_cpu(c);
  return make_metrics(RunInfo{trace.scenario_title, trace.strategy, trace.seed, w.index, t}, w.counters, split);
}

// ---- Replay -------------------------------------------------------------------------------

Replay::Replay(std::shared_ptr<const Trace> trace, std::size_t snapshot_every) : trace_(std::move(trace)) {
  const auto& ev = trace_->events;
  WorldState w = initial_world(*trace_);
  if (snapshot_every == 0) {
    // Estimate the state's size from a pass over the first events, then keep the whole set
    // of snapshots near 256 MiB: a seek then applies at most `every_` events.
    WorldState probe = w;
    std::size_t n = std::min<std::size_t>(ev.size(), 200'000);
    for (std::size_t i = 0; i < n; i++) apply(probe, *trace_, ev[i]);
    std::size_t bytes = std::max<std::size_t>(probe.approx_bytes(), 1024);
    std::size_t budget = std::size_t(256) << 20;
    std::size_t max_snaps = std::max<std::size_t>(budget / bytes, 16);
    every_ = std::max<std::size_t>(4096, ev.size() / max_snaps + 1);
  } else {
    every_ = snapshot_every;
  }
  snaps_.reserve(ev.size() / every_ + 1);
  for (std::size_t i = 0; i < ev.size(); i++) {
    if (i % every_ == 0) snaps_.push_back(w);
    apply(w, *trace_, ev[i]);
  }
  if (ev.size() % every_ == 0) snaps_.push_back(w);  // the final state, when on a boundary
}

WorldState Replay::at(std::size_t index) const {
  WorldState w = initial_world(*trace_);
  seek(w, index);
  return w;
}

void Replay::seek(WorldState& w, std::size_t index) const {
  index = std::min(index, size());
  if (w.cpus.empty()) w = initial_world(*trace_);
  std::size_t snap = index / every_;
  if (snap >= snaps_.size()) snap = snaps_.size() - 1;
  std::size_t from = snap * every_;
  // Applying forward from where we are is cheaper when we are ahead of the snapshot.
  if (!(w.index <= index && w.index >= from)) w = snaps_[snap];
  for (std::size_t i = w.index; i < index; i++) apply(w, *trace_, trace_->events[i]);
}

std::size_t Replay::index_at_time(SimTime t) const {
  const auto& ev = trace_->events;
  auto it = std::lower_bound(ev.begin(), ev.end(), t, [](const TraceEvent& e, SimTime x) { return e.t < x; });
  return std::size_t(it - ev.begin());
}

}  // namespace eps
