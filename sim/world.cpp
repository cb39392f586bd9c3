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
  auto it = std::find_if(wq.begin(), wq.end(), [&](const WsWait& x) { return x.kind == kind && x.who == who; });
  if (it != wq.end()) wq.erase(it);
}

template <class T>
T* slot(std::vector<T>& v, std::uint32_t i) { return i < v.size() ? &v[i] : nullptr; }

}  // namespace

const WsSocket* WorldState::socket_fd(std::uint32_t fd) const {
  if (fd >= files.size() || !files[fd].used || files[fd].kind != FileKind::Socket) return nullptr;
  return files[fd].id < sockets.size() ? &sockets[files[fd].id] : nullptr;
}

const WsSocket* WorldState::socket_conn(std::uint32_t conn) const {
  return conn < sockets.size() && sockets[conn].conn == conn ? &sockets[conn] : nullptr;
}

const WsEpoll* WorldState::epoll_fd(std::uint32_t fd) const {
  if (fd >= files.size() || !files[fd].used || files[fd].kind != FileKind::Epoll) return nullptr;
  return files[fd].id < eps.size() ? &eps[files[fd].id] : nullptr;
}

std::size_t WorldState::approx_bytes() const {
  std::size_t n = sizeof(*this) + cpus.size() * sizeof(WsCpu) + tasks.size() * (sizeof(WsTask) + 16) +
                  files.size() * sizeof(WsFile) + wire.size() * sizeof(WirePacket) + 8192 * 4 +
                  acct.tasks.size() * sizeof(TaskTime) + acct.cpus.size() * sizeof(CpuTime);
  for (const WsSocket& s : sockets) n += sizeof(WsSocket) + s.wq.size() * sizeof(WsWait) + s.accept_queue.size() * 4;
  for (const WsEpoll& ep : eps) n += sizeof(WsEpoll) + ep.rbr.size() * sizeof(RbTree::Node) + (ep.watched.size() + ep.rdllist.size()) * 4;
  return n;
}

WorldState initial_world(const Trace& trace) {
  WorldState w;
  const int cpus = std::max(1, trace.cpus);
  w.cpus.resize(std::size_t(cpus));
  w.acct = Accounting(cpus);
  w.sockets.resize(std::size_t(std::max(0, trace.connections) + std::max(0, trace.listeners)));
  w.files.resize(3, WsFile{true, FileKind::Socket, kNone});  // stdio
  return w;
}

void apply(WorldState& w, const Trace& trace, const TraceEvent& e) {
  w.t = e.t;
  w.index++;
  w.acct.on(e);  // the one accounting function, as in the model
  auto task = [&](std::uint16_t id) -> WsTask* { return id < w.tasks.size() ? &w.tasks[id] : nullptr; };
  auto cpu = [&]() -> WsCpu* { return slot(w.cpus, e.cpu); };
  auto wq_of = [&](std::uint32_t id) -> std::vector<WsWait>* {
    if (id & kEpWq) {
      WsEpoll* ep = slot(w.eps, id & ~kEpWq);
      return ep ? &ep->wq : nullptr;
    }
    WsSocket* s = slot(w.sockets, id);
    return s ? &s->wq : nullptr;
  };
  switch (e.kind) {
    case Ev::TaskCreate: {
      if (e.actor == kNoTask || e.a > std::uint32_t(TaskKind::Ksoftirqd)) break;
      WsTask t;
      t.id = e.actor;
      t.kind = TaskKind(e.a);
      t.name = e.b < trace.strings.size() ? trace.strings[e.b] : "task " + std::to_string(e.actor);
      t.cpu = int(std::min<std::uint32_t>(e.obj, std::uint32_t(w.cpus.size() - 1)));
      t.state = TaskState::Runnable;
      if (w.tasks.size() <= e.actor) w.tasks.resize(e.actor + 1u);
      w.tasks[e.actor] = std::move(t);
      break;
    }
    case Ev::SocketCreate:
      if (WsSocket* s = slot(w.sockets, e.obj)) {
        s->sid = e.obj;
        s->conn = e.a;
        s->listener = e.b;
        s->established = true;
        if (WsSocket* l = slot(w.sockets, e.b)) l->accept_queue.push_back(e.obj);
      }
      break;
    case Ev::FdInstall: {
      if (e.obj >= trace_fd_limit(trace) || e.a > std::uint32_t(FileKind::Epoll)) break;
      if (w.files.size() <= e.obj) w.files.resize(e.obj + 1u);
      w.files[e.obj] = WsFile{true, FileKind(e.a), e.b};
      if (FileKind(e.a) == FileKind::Epoll) {
        if (WsEpoll* ep = slot(w.eps, e.b)) ep->fd = std::int32_t(e.obj);
      } else if (WsSocket* s = slot(w.sockets, e.b)) {
        s->fd = std::int32_t(e.obj);
        if (!s->listening()) {
          s->accepted = true;
          if (WsSocket* l = slot(w.sockets, s->listener)) {
            auto& q = l->accept_queue;
            auto it = std::find(q.begin(), q.end(), s->sid);
            if (it != q.end()) q.erase(it);
          }
        }
      }
      break;
    }
    case Ev::EpollCreate:
      if (e.obj <= w.eps.size()) {  // instances are numbered in creation order
        if (w.eps.size() <= e.obj) w.eps.resize(e.obj + 1u);
        w.eps[e.obj].eid = e.obj;
        w.eps[e.obj].owner = e.actor;
      }
      break;
    case Ev::FdClose:
      if (WsFile* f = slot(w.files, e.obj); f && f->used) {
        if (f->kind == FileKind::Socket)
          if (WsSocket* s = slot(w.sockets, f->id)) { s->closed = true; s->rxq = 0; }
        f->used = false;
      }
      break;
    case Ev::CpuMode:
      if (WsCpu* c = cpu(); c && e.a < std::uint32_t(kCpuModeCount)) {
        c->mode = CpuMode(e.a);
        c->mode_task = e.actor;
      }
      break;
    case Ev::TaskState:
      if (e.cpu >= w.cpus.size() || e.a > std::uint32_t(TaskState::Dead)) break;
      if (WsTask* t = task(e.actor)) { t->state = TaskState(e.a); t->cpu = e.cpu; }
      break;
    case Ev::ContextSwitch:
      if (WsCpu* c = cpu()) c->curr = e.actor;
      break;
    case Ev::TryToWakeUp:
      break;
    case Ev::ProgramLine:
      if (WsTask* t = task(e.actor)) t->line = int(e.a);
      break;
    case Ev::SyscallEnter:
      if (e.a >= std::uint32_t(Sys::Count)) break;
      if (WsTask* t = task(e.actor)) { t->in_sys = Sys(e.a); t->sys_fd = e.obj; }
      break;
    case Ev::SyscallExit:
      if (e.a >= std::uint32_t(Sys::Count)) break;
      if (WsTask* t = task(e.actor)) {
        t->in_sys = Sys::None;
        t->last_sys = Sys(e.a);
        t->last_result = int(std::int32_t(e.b));
      }
      break;
    case Ev::UserWork:
    case Ev::PollScan:
      break;
    case Ev::ClientSend:
      w.wire.push_back(WirePacket{e.flow, e.obj, e.a, e.t, false, false});
      break;
    case Ev::ClientConnect:
      w.wire.push_back(WirePacket{e.flow, e.obj, 0, e.t, false, true});
      break;
    case Ev::NicRx:
    case Ev::NicDrop: {
      auto it = std::find_if(w.wire.begin(), w.wire.end(),
                             [&](const WirePacket& p) { return p.flow == e.flow && !p.reply; });
      if (it != w.wire.end()) w.wire.erase(it);
      if (e.kind == Ev::NicRx) w.ring = e.a;
      break;
    }
    case Ev::HardIrq:
      if (WsCpu* c = cpu()) c->hardirq = e.a == 1;
      break;
    case Ev::NapiSchedule:
      w.napi_scheduled = true;
      break;
    case Ev::Softirq:
      if (WsCpu* c = cpu()) {
        if (e.actor == kNoTask) c->softirq = e.a == 1;  // not when ksoftirqd runs it as a task
        if (e.a == 1) c->softirq_packets = 0;
        else if (w.ring == 0) w.napi_scheduled = false;  // napi_complete_done: the ring was empty
      }
      break;
    case Ev::NapiRx:
      w.ring = e.a;
      if (WsCpu* c = cpu()) c->softirq_packets++;
      break;
    case Ev::TimeSqueeze:
      break;
    case Ev::SkbQueue:
      if (WsSocket* s = slot(w.sockets, e.obj)) { s->rxq = e.a; s->received++; }
      break;
    case Ev::SkbDequeue:
      if (WsSocket* s = slot(w.sockets, e.obj)) s->rxq = e.a;
      break;
    case Ev::WaitAdd:
      if (wait_kind_of(e.a) > WaitKind::EpWait) break;
      if (auto* wq = wq_of(e.obj)) {
        WsWait x{wait_kind_of(e.a), e.b, (e.a & kWaitExclusive) != 0};
        if (e.a & kWaitAtTail) wq->push_back(x);
        else wq->insert(wq->begin(), x);
      }
      break;
    case Ev::WaitRemove:
      if (auto* wq = wq_of(e.obj)) erase_wait(*wq, wait_kind_of(e.a), e.b);
      break;
    case Ev::WaitWake:
      break;
    case Ev::EpitemInsert:
      if (WsEpoll* ep = slot(w.eps, e.obj); ep && !ep->rbr.contains(RbKey{e.a, std::int32_t(e.a)})) {
        ep->rbr.insert(RbKey{e.a, std::int32_t(e.a)});
        ep->watched.push_back(e.a);
      }
      break;
    case Ev::EpitemRemove:
      if (WsEpoll* ep = slot(w.eps, e.obj)) {
        ep->rbr.erase(RbKey{e.a, std::int32_t(e.a)});
        auto& v = ep->watched;
        v.erase(std::remove(v.begin(), v.end(), e.a), v.end());
      }
      break;
    case Ev::EpitemModify:
    case Ev::RbRotate:
    case Ev::RbRecolor:
      break;  // the tree's shape follows from the inserts; these are for the animation
    case Ev::RdllistAdd:
      if (WsEpoll* ep = slot(w.eps, e.obj)) ep->rdllist.push_back(e.a);
      break;
    case Ev::RdllistRemove:
      if (WsEpoll* ep = slot(w.eps, e.obj)) {
        auto& v = ep->rdllist;
        auto it = std::find(v.begin(), v.end(), e.a);
        if (it != v.end()) v.erase(it);
      }
      break;
    case Ev::ReplySend:
      w.wire.push_back(WirePacket{e.flow, e.obj, e.a, e.t, true, false});
      break;
    case Ev::ReplyRecv: {
      auto it = std::find_if(w.wire.begin(), w.wire.end(),
                             [&](const WirePacket& p) { return p.flow == e.flow && p.reply; });
      if (it != w.wire.end()) w.wire.erase(it);
      break;
    }
    case Ev::RequestFailed:
    case Ev::Count:
      break;
  }
}

Metrics metrics_of(const WorldState& w, const Trace& trace, std::optional<SimTime> at) {
  Accounting acct = w.acct;  // cheap enough for a view; closing the open intervals changes it
  const SimTime t = at.value_or(w.t);
  acct.close_all(t);
  RunInfo run{trace.scenario_title, trace.strategy, trace.seed, w.index, t, {}};
  for (const WsTask& tk : w.tasks) {
    if (run.task_names.size() <= tk.id) run.task_names.resize(tk.id + 1u);
    run.task_names[tk.id] = tk.name;
  }
  return make_metrics(run, acct);
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
