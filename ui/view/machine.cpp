#include "ui/view/machine.h"

#include <algorithm>

namespace eps::view {

namespace {

bool has_task_waiter(const WsSocket& s) {
  for (const auto& q : s.wq)
    if (q.kind == WaitKind::TaskWake) return true;
  return false;
}

// The socket an fd names (even one closed since: its slot remembers), or kNone.
std::uint32_t sid_of_fd(const WorldState& w, std::uint32_t fd) {
  if (fd >= w.files.size() || w.files[fd].kind != FileKind::Socket) return kNone;
  return w.files[fd].id;
}

}  // namespace

bool on_any_rdllist(const WorldState& w, const WsSocket& s) {
  if (s.fd < 0) return false;
  for (const WsEpoll& ep : w.eps)
    if (std::find(ep.rdllist.begin(), ep.rdllist.end(), std::uint32_t(s.fd)) != ep.rdllist.end()) return true;
  return false;
}

SocketPick pick_sockets(const WorldState& w, std::size_t max_shown, std::uint32_t focus_sid) {
  SocketPick p;
  // Rank: 0 focus, 1 busy (data, ready, a blocked reader), 2 the rest.
  std::vector<std::pair<int, std::size_t>> ranked;
  ranked.reserve(w.sockets.size());
  for (std::size_t i = 0; i < w.sockets.size(); i++) {
    const WsSocket& s = w.sockets[i];
    if (s.closed || s.listening() || !s.accepted) continue;
    int r = 2;
    if (s.sid == focus_sid) r = 0;
    else if (s.rxq > 0 || on_any_rdllist(w, s) || has_task_waiter(s)) r = 1;
    ranked.push_back({r, i});
  }
  // Stable by rank then by fd: keep the picture from jumping around between steps.
  std::stable_sort(ranked.begin(), ranked.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return w.sockets[a.second].fd < w.sockets[b.second].fd;
  });
  for (std::size_t k = 0; k < ranked.size(); k++) {
    const WsSocket& s = w.sockets[ranked[k].second];
    if (k < max_shown) {
      p.shown.push_back(ranked[k].second);
    } else {
      p.hidden++;
      if (s.rxq > 0) p.hidden_busy++;
      p.hidden_queued += s.rxq;
    }
  }
  std::sort(p.shown.begin(), p.shown.end(),
            [&](std::size_t a, std::size_t b) { return w.sockets[a].fd < w.sockets[b].fd; });
  return p;
}

std::string_view stage_name(Stage s) {
  switch (s) {
    case Stage::None: return "";
    case Stage::Client: return "client";
    case Stage::Wire: return "wire";
    case Stage::Ring: return "RX ring";
    case Stage::HardIrq: return "hard IRQ";
    case Stage::Softirq: return "NET_RX softirq";
    case Stage::Socket: return "socket";
    case Stage::ReadyList: return "rdllist";
    case Stage::WaitQueue: return "wait queue";
    case Stage::Task: return "task";
    case Stage::User: return "user space";
    case Stage::Reply: return "reply";
  }
  return "";
}

Stage stage_of(const TraceEvent& e) {
  switch (e.kind) {
    case Ev::ClientSend: case Ev::ClientConnect: return Stage::Wire;
    case Ev::SocketCreate: return e.flow == kNone ? Stage::None : Stage::Socket;  // into the accept queue
    case Ev::NicRx: return Stage::Ring;
    case Ev::NicDrop: return Stage::Ring;
    case Ev::NapiRx: return Stage::Softirq;
    case Ev::SkbQueue: return Stage::Socket;
    case Ev::WaitWake: return Stage::WaitQueue;
    case Ev::RdllistAdd: return Stage::ReadyList;
    case Ev::TryToWakeUp: return Stage::Task;
    case Ev::SkbDequeue: return Stage::User;
    case Ev::ReplySend: return Stage::Reply;
    case Ev::ReplyRecv: return Stage::Client;
    default: return Stage::None;
  }
}

Focus focus_of(const Trace& tr, const TraceEvent& e, const WorldState& w) {
  Focus f;
  f.flow = e.flow;
  f.stage = stage_of(e);
  if (e.actor != kNoTask && e.kind != Ev::ContextSwitch) f.task = e.actor;
  if (e.kind == Ev::ContextSwitch && e.actor != kNoTask) f.task = e.actor;
  switch (e.kind) {
    case Ev::HardIrq: case Ev::Softirq: case Ev::NapiSchedule: case Ev::CpuMode: case Ev::ContextSwitch:
    case Ev::TryToWakeUp: case Ev::TimeSqueeze: case Ev::NapiRx:
      f.cpu = e.cpu;
      break;
    default: break;
  }
  switch (e.kind) {
    case Ev::ClientSend: case Ev::ClientConnect: case Ev::NicRx: case Ev::NicDrop: case Ev::NapiRx:
    case Ev::ReplySend: case Ev::ReplyRecv: case Ev::RequestFailed:
      f.conn = e.obj;
      f.sid = e.obj;  // a connection's socket id is its index
      break;
    case Ev::SkbQueue: case Ev::SkbDequeue: case Ev::SocketCreate:
      f.sid = e.obj;
      break;
    case Ev::FdClose: case Ev::FdInstall:
      f.fd = std::int32_t(e.obj);
      if (e.kind == Ev::FdClose) f.sid = sid_of_fd(w, e.obj);
      else if (FileKind(e.a) == FileKind::Socket) f.sid = e.b;
      else f.eid = e.b;
      break;
    case Ev::SyscallEnter: case Ev::SyscallExit:
      if (e.obj != kNone) {
        f.fd = std::int32_t(e.obj);
        if (w.epoll_fd(e.obj)) f.eid = w.files[e.obj].id;
        else f.sid = sid_of_fd(w, e.obj);
      }
      break;
    case Ev::WaitAdd: case Ev::WaitRemove: case Ev::WaitWake:
      if (e.obj & kEpWq) f.eid = e.obj & ~kEpWq;
      else f.sid = e.obj;
      if (wait_kind_of(e.a) == WaitKind::EpCallback) f.eid = e.b;
      else f.task = std::uint16_t(e.b);
      break;
    case Ev::EpitemInsert: case Ev::EpitemRemove: case Ev::EpitemModify: case Ev::RbRotate:
    case Ev::RbRecolor: case Ev::RdllistAdd: case Ev::RdllistRemove:
      f.eid = e.obj;
      f.fd = std::int32_t(e.a);
      f.sid = sid_of_fd(w, e.a);
      break;
    case Ev::EpollCreate:
      f.eid = e.obj;
      break;
    default: break;
  }
  if (f.conn == kNone && f.sid != kNone && f.sid < w.sockets.size() && !w.sockets[f.sid].listening())
    f.conn = w.sockets[f.sid].conn;
  (void)tr;
  return f;
}

PacketMove packet_move(const Trace& tr, std::size_t cursor, float t, std::size_t lookahead) {
  PacketMove m;
  if (cursor == 0 || cursor > tr.events.size()) return m;
  const TraceEvent& cur = tr.events[cursor - 1];
  const Stage from = stage_of(cur);
  if (from == Stage::None || cur.flow == kNone) return m;
  m.active = true;
  m.flow = cur.flow;
  m.from = m.to = from;
  if (cur.kind == Ev::ClientSend || cur.kind == Ev::ClientConnect || cur.kind == Ev::NicRx || cur.kind == Ev::NapiRx ||
      cur.kind == Ev::NicDrop || cur.kind == Ev::ReplySend || cur.kind == Ev::ReplyRecv)
    m.conn = m.sid = cur.obj;
  if (cur.kind == Ev::SkbQueue || cur.kind == Ev::SkbDequeue) m.sid = cur.obj;
  if (cur.kind == Ev::SocketCreate) m.sid = cur.b;  // the listener whose accept queue it joins
  if (cur.kind == Ev::RdllistAdd) m.eid = cur.obj;
  const std::size_t end = std::min(tr.events.size(), cursor + lookahead);
  for (std::size_t i = cursor; i < end; i++) {
    const TraceEvent& e = tr.events[i];
    if (e.flow != cur.flow) continue;
    const Stage s = stage_of(e);
    if (s == Stage::None || s == from) continue;
    m.to = s;
    m.t = std::clamp(t, 0.0f, 1.0f);
    break;
  }
  return m;
}

PacketMove packet_arrival(const Trace& tr, std::size_t cursor, float t, std::size_t lookback) {
  PacketMove m;
  if (cursor == 0 || cursor > tr.events.size()) return m;
  const TraceEvent& cur = tr.events[cursor - 1];
  const Stage to = stage_of(cur);
  if (to == Stage::None || cur.flow == kNone) return m;
  m = packet_move(tr, cursor, 1.0f, 0);  // fills flow, sid, conn, eid for the current event
  m.from = m.to = to;
  m.t = 1;
  const std::size_t stop = cursor - 1 > lookback ? cursor - 1 - lookback : 0;
  for (std::size_t i = cursor - 1; i-- > stop;) {
    const TraceEvent& e = tr.events[i];
    if (e.flow != cur.flow) continue;
    const Stage s = stage_of(e);
    if (s == Stage::None || s == to) continue;
    m.from = s;
    m.t = std::clamp(t, 0.0f, 1.0f);
    break;
  }
  return m;
}

std::uint16_t program_task(const WorldState& w, std::uint16_t focus_task) {
  auto server = [&](std::uint16_t id) {
    for (const auto& t : w.tasks)
      if (t.id == id) return t.server();
    return false;
  };
  if (focus_task != kNoTask && server(focus_task)) return focus_task;
  for (const auto& t : w.tasks)
    if (t.server() && t.state == TaskState::Running) return t.id;
  for (const auto& t : w.tasks)
    if (t.server()) return t.id;
  return kNoTask;
}

int lit_line(const WorldState& w, std::uint16_t task) {
  for (const auto& t : w.tasks)
    if (t.id == task) return t.line;
  return -1;
}

}  // namespace eps::view
