// "The machine": the central picture. User space above, the kernel below, the syscall boundary
// between. In the kernel, left to right, the way a packet goes: the NIC and its RX ring, the
// CPUs (hard IRQ, NET_RX softirq, what runs, runqueues), the sockets (receive queue, wait
// queue), and epoll (the red-black tree, rdllist, ep->wq). The packet of the current event
// moves between these stops; an ep_insert plays its rotations and recolourings.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "ui/panel_common.h"
#include "ui/view/format.h"
#include "ui/view/machine.h"
#include "ui/view/narration.h"

namespace eps::app {

namespace {

struct Rect {
  ImVec2 a, b;
  ImVec2 center() const { return ImVec2((a.x + b.x) / 2, (a.y + b.y) / 2); }
  float w() const { return b.x - a.x; }
  float h() const { return b.y - a.y; }
};

float ease(float t) { return t * t * (3 - 2 * t); }

ImVec2 lerp(ImVec2 a, ImVec2 b, float t) { return ImVec2(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t); }

// Everything the drawing of one frame shares.
struct Canvas {
  ImDrawList* dl;
  const PanelCtx& c;
  const view::Palette& pal;
  float s;        // scale
  float fs;       // body font size
  float sfs;      // small font size
  view::Focus focus;
  // Where things ended up (for the packet and the arrows).
  std::map<std::uint16_t, Rect> task_rect;
  std::map<std::uint32_t, Rect> sock_rect;  // by sid (connections and listeners)
  std::map<std::uint32_t, Rect> rdl_rect;   // by eid: the instance's rdllist
  std::map<std::uint32_t, Rect> epwq_rect;  // by eid: its ep->wq
  std::vector<Rect> cpu_rect;
  Rect nic, wire, sockets_summary, rdllist, epwq, tree;
  bool have_summary = false;

  void text(ImVec2 p, ImU32 color, const std::string& t, bool small = false) const {
    dl->AddText(small ? c.fonts.small : c.fonts.body, small ? sfs : fs, p, color, t.c_str());
  }
  void bold(ImVec2 p, ImU32 color, const std::string& t) const {
    dl->AddText(c.fonts.big, c.fonts.big->FontSize * 0.85f, p, color, t.c_str());
  }
  float bold_w(const std::string& t) const {
    return c.fonts.big->CalcTextSizeA(c.fonts.big->FontSize * 0.85f, 1e9f, 0, t.c_str()).x;
  }
  float text_w(const std::string& t, bool small = false) const {
    ImFont* f = small ? c.fonts.small : c.fonts.body;
    return f->CalcTextSizeA(small ? sfs : fs, 1e9f, 0, t.c_str()).x;
  }
  // A small rounded label chip; returns its right edge.
  float chip(ImVec2 p, const std::string& t, view::Rgba fill, view::Rgba fg) const {
    const float w = text_w(t, true) + 8 * s, h = sfs + 4 * s;
    dl->AddRectFilled(p, ImVec2(p.x + w, p.y + h), col(fill), 3 * s);
    dl->AddText(c.fonts.small, sfs, ImVec2(p.x + 4 * s, p.y + 2 * s), col(fg), t.c_str());
    return p.x + w;
  }
};

view::Rgba text_on(const view::Palette& pal, view::Rgba fill) {
  return view::luminance(fill) > 0.35 ? view::rgb(0, 0, 0) : view::rgb(255, 255, 255);
  (void)pal;
}

std::string task_line(const WsTask& t) {
  if (t.state == TaskState::Dead) return "exited";
  if (t.in_sys != Sys::None) return "in " + std::string(sys_name(t.in_sys)) + "()";
  if (t.last_sys != Sys::None) return "after " + std::string(sys_name(t.last_sys)) + " = " + std::to_string(t.last_result);
  if (t.state == TaskState::Sleeping) return "asleep";
  return t.server() ? "user code" : "computing";
}

// A live recording knows the server's syscalls (and, with --kernel-trace, perf's scheduler
// and softirq tracepoints), not the kernel's inner state: say so instead of drawing a state
// nobody recorded.
void draw_live_note(Canvas& k, Rect r, const Trace& tr) {
  bool kernel = false;
  for (const TraceEvent& e : tr.events)
    if (e.kind == Ev::ContextSwitch || e.kind == Ev::Softirq || e.kind == Ev::NapiRx || e.kind == Ev::TryToWakeUp) {
      kernel = true;
      break;
    }
  std::string note =
      "A live recording (epollscope-cli live --trace): the real server's system calls as its seam saw them, with "
      "their times and results.";
  note += kernel ? " Recorded with --kernel-trace: the kernel's sched_switch, sched_wakeup, NET_RX softirq and "
                   "napi_poll tracepoints are in the timeline and the event log."
                 : " Record with --kernel-trace to add the kernel's scheduler and softirq tracepoints.";
  note += "\n\nWhat happens inside the kernel (receive queues, wait queues, rdllist, the red-black tree) cannot be "
          "seen from user space, so it is not drawn here. Open the same lesson as a scenario to watch the model do "
          "it, and put the figures side by side with `epollscope-cli versus`.";
  const float pad = 10 * k.s;
  k.dl->AddText(k.c.fonts.body, k.fs, ImVec2(r.a.x + pad, r.a.y + pad), col(k.pal.text), note.c_str(), nullptr,
                r.w() - 2 * pad);
}

void draw_user_space(Canvas& k, Rect r, const WorldState& w, bool live) {
  const auto& pal = k.pal;
  k.dl->AddRectFilled(r.a, r.b, col(pal.user_bg), 4 * k.s);
  k.text(ImVec2(r.a.x + 6 * k.s, r.a.y + 4 * k.s), col(pal.dim), "user space", true);
  // Server threads (the busy ones first if there are many), then neighbours.
  std::vector<const WsTask*> server, others;
  for (const auto& t : w.tasks) (t.server() ? server : others).push_back(&t);
  // Up to six server threads share the width (the threaded strategies' workers); more are
  // summarised.
  const std::size_t want = std::clamp<std::size_t>(server.size(), 3, 6);
  const float box_w = std::min(13.5f * k.fs, (r.w() * 0.8f - 20 * k.s) / float(want) - 8 * k.s);
  const float box_h = std::min(r.h() - 26 * k.s, k.fs * 3.6f);
  const int fit = std::max(1, int((r.w() * 0.8f) / (box_w + 8 * k.s) + 0.01f));
  if (int(server.size()) > fit) {
    std::stable_partition(server.begin(), server.end(), [&](const WsTask* t) {
      return t->state != TaskState::Sleeping || t->id == k.focus.task;
    });
  }
  float x = r.a.x + 6 * k.s;
  const float y = r.a.y + 22 * k.s;
  auto draw_task = [&](const WsTask& t, float bw, float bh) {
    const view::Rgba sc = live ? pal.frame : pal.state[int(t.state) & 3];
    const Rect b{ImVec2(x, y), ImVec2(x + bw, y + bh)};
    const bool focused = t.id == k.focus.task;
    box(k.dl, b.a, b.b, col(view::with_alpha(sc, 60)), col(focused ? pal.focus : sc), 5 * k.s, (focused ? 4.0f : 2.0f) * k.s);
    k.dl->PushClipRect(b.a, b.b, true);
    k.bold(ImVec2(x + 6 * k.s, y + 3 * k.s), col(pal.text), t.name);
    // Live: the run state was not recorded (only the syscalls), so none is claimed.
    const std::string st = live ? std::string("live thread")
                                : std::string(task_state_name(t.state)) +
                                      (t.server() ? "" : t.kind == TaskKind::Ksoftirqd ? " · kernel thread" : " · neighbour");
    const view::Rgba chip = live ? pal.dim : sc;
    k.chip(ImVec2(x + 6 * k.s, y + k.fs * 1.35f), st, chip, text_on(pal, chip));
    if (bh > k.fs * 3) k.text(ImVec2(x + 6 * k.s, y + k.fs * 2.45f), col(pal.text), task_line(t), true);
    k.dl->PopClipRect();
    k.task_rect[t.id] = b;
    x += bw + 8 * k.s;
  };
  int shown = 0;
  for (const WsTask* t : server) {
    if (shown >= fit) break;
    draw_task(*t, box_w, box_h);
    shown++;
  }
  if (int(server.size()) > shown) {
    int sleeping = 0;
    for (std::size_t i = std::size_t(shown); i < server.size(); i++) sleeping += server[i]->state == TaskState::Sleeping;
    char buf[96];
    std::snprintf(buf, sizeof buf, "+ %zu threads\n(%d sleeping)", server.size() - std::size_t(shown), sleeping);
    k.text(ImVec2(x, y + 4 * k.s), col(pal.dim), buf, true);
    x += k.text_w("+ 0000 threads", true) + 8 * k.s;
  }
  // Neighbours: smaller boxes on the right.
  float nx = std::max(x, r.b.x - float(std::min<std::size_t>(others.size(), 3)) * (box_w * 0.75f + 8 * k.s));
  for (std::size_t i = 0; i < others.size() && i < 3; i++) {
    x = nx;
    draw_task(*others[i], box_w * 0.75f, box_h);
    nx = x;
  }
}

void draw_nic(Canvas& k, Rect r, const WorldState& w, const Trace& tr, int rx_ring) {
  const auto& pal = k.pal;
  // The wire: packets on their way from clients to the NIC.
  const Rect wire{r.a, ImVec2(r.b.x, r.a.y + r.h() * 0.32f)};
  k.wire = wire;
  k.text(ImVec2(wire.a.x, wire.a.y), col(pal.dim), "clients → wire", true);
  const float wy = wire.a.y + k.sfs * 1.6f + 8 * k.s;
  k.dl->AddLine(ImVec2(wire.a.x, wy), ImVec2(wire.b.x, wy), col(pal.frame), 2 * k.s);
  std::size_t to_server = 0;
  for (const auto& p : w.wire) to_server += !p.reply;
  for (std::size_t i = 0; i < std::min<std::size_t>(to_server, 12); i++) {
    const float px = wire.b.x - 10 * k.s - float(i) * 12 * k.s;
    k.dl->AddCircleFilled(ImVec2(px, wy), 4.5f * k.s, col(pal.packet));
  }
  k.text(ImVec2(wire.a.x, wy + 8 * k.s), col(pal.text),
         std::to_string(to_server) + " request" + (to_server == 1 ? "" : "s") + " in flight", true);
  // The NIC and its RX ring.
  const Rect nic{ImVec2(r.a.x, wire.b.y + 6 * k.s), ImVec2(r.b.x, r.b.y)};
  k.nic = nic;
  const bool irq = !w.cpus.empty() && w.cpus[0].hardirq;
  box(k.dl, nic.a, nic.b, col(pal.panel), col(irq ? pal.mode[int(CpuMode::HardIrq)] : pal.frame), 5 * k.s, (irq ? 4.0f : 2.0f) * k.s);
  k.bold(ImVec2(nic.a.x + 6 * k.s, nic.a.y + 4 * k.s), col(pal.text), "NIC");
  k.text(ImVec2(nic.a.x + 6 * k.s, nic.a.y + k.fs * 1.5f), col(pal.text), "RX ring " + std::to_string(w.ring) + " / " + std::to_string(rx_ring), true);
  // Ring slots: the first 16, filled by occupancy.
  const int slots = 16;
  const float sw = (nic.w() - 12 * k.s) / slots, sy = nic.a.y + k.fs * 2.7f;
  for (int i = 0; i < slots; i++) {
    const ImVec2 a(nic.a.x + 6 * k.s + float(i) * sw, sy), b(a.x + sw - 2 * k.s, sy + 14 * k.s);
    if (std::uint32_t(i) < w.ring) k.dl->AddRectFilled(a, b, col(pal.packet));
    else k.dl->AddRect(a, b, col(pal.frame));
  }
  float y = sy + 22 * k.s;
  k.text(ImVec2(nic.a.x + 6 * k.s, y), col(pal.text), std::string("NAPI: ") + (w.napi_scheduled ? "on poll_list (IRQ masked)" : "idle (IRQ armed)"), true);
  y += k.sfs * 1.4f;
  k.text(ImVec2(nic.a.x + 6 * k.s, y), col(pal.dim),
         "drops " + view::group_digits(w.counters().nic_drops) + " · packets " + view::group_digits(w.counters().softirq_packets), true);
  (void)tr;
}

void draw_cpus(Canvas& k, Rect r, const WorldState& w, int budget) {
  const auto& pal = k.pal;
  const std::size_t n = w.cpus.size();
  k.cpu_rect.assign(n, Rect{});
  const std::size_t shown = std::min<std::size_t>(n, 8);
  const float gap = 6 * k.s;
  const float h = (r.h() - gap * float(shown - 1)) / float(shown);
  // Runqueues: runnable tasks by CPU.
  std::vector<std::vector<std::string>> rq(n);
  for (const auto& t : w.tasks)
    if (t.state == TaskState::Runnable && t.cpu >= 0 && std::size_t(t.cpu) < n) rq[std::size_t(t.cpu)].push_back(t.name);
  for (std::size_t i = 0; i < shown; i++) {
    const WsCpu& cpu = w.cpus[i];
    const Rect b{ImVec2(r.a.x, r.a.y + float(i) * (h + gap)), ImVec2(r.b.x, r.a.y + float(i) * (h + gap) + h)};
    k.cpu_rect[i] = b;
    const CpuMode mode = cpu.hardirq ? CpuMode::HardIrq : cpu.softirq ? CpuMode::Softirq : cpu.mode;
    const view::Rgba mc = pal.mode[int(mode)];
    const bool focused = k.focus.cpu == int(i);
    box(k.dl, b.a, b.b, col(pal.panel), col(focused ? pal.focus : pal.frame), 5 * k.s, (focused ? 4.0f : 2.0f) * k.s);
    k.dl->PushClipRect(b.a, b.b, true);
    // Mode band on the left edge.
    k.dl->AddRectFilled(b.a, ImVec2(b.a.x + 10 * k.s, b.b.y), col(mc), 5 * k.s);
    const float tx = b.a.x + 16 * k.s;
    k.bold(ImVec2(tx, b.a.y + 3 * k.s), col(pal.text), "CPU" + std::to_string(i));
    const float cx = k.chip(ImVec2(tx + k.text_w("CPU00") + 14 * k.s, b.a.y + 5 * k.s), std::string(cpu_mode_name(mode)), mc, text_on(pal, mc));
    const std::string runs = cpu.curr == kNoTask ? "runs: idle task" : "runs: " + view::task_name(w, cpu.curr);
    if (h > k.fs * 2.6f) k.text(ImVec2(tx, b.a.y + k.fs * 1.55f), col(pal.text), runs, true);
    else k.text(ImVec2(cx + 8 * k.s, b.a.y + 5 * k.s), col(pal.text), runs, true);
    float ly = b.a.y + k.fs * 1.55f + k.sfs * 1.3f;
    if (cpu.softirq && h > k.fs * 3.6f) {
      k.text(ImVec2(tx, ly), col(pal.mode[int(CpuMode::Softirq)]),
             "NET_RX softirq: " + std::to_string(cpu.softirq_packets) + " / " + std::to_string(budget) + " budget", true);
      ly += k.sfs * 1.3f;
    } else if (cpu.hardirq && h > k.fs * 3.6f) {
      k.text(ImVec2(tx, ly), col(pal.mode[int(CpuMode::HardIrq)]), "hard IRQ: napi_schedule", true);
      ly += k.sfs * 1.3f;
    }
    if (h > k.fs * 4.4f) {
      std::string q = "runqueue: ";
      if (rq[i].empty()) q += "empty";
      for (std::size_t j = 0; j < rq[i].size() && j < 4; j++) q += (j ? ", " : "") + rq[i][j];
      if (rq[i].size() > 4) q += " +" + std::to_string(rq[i].size() - 4);
      k.text(ImVec2(tx, ly), col(pal.dim), q, true);
    }
    k.dl->PopClipRect();
  }
  if (n > shown) k.text(ImVec2(r.a.x, r.b.y + 2 * k.s), col(pal.dim), "+ " + std::to_string(n - shown) + " CPUs", true);
}

// A wait queue's entries as chips, left to right in queue order (the kernel walks it so).
void draw_wait_chips(Canvas& k, const WorldState& w, const std::vector<WsWait>& wq, ImVec2 at, float right) {
  const auto& pal = k.pal;
  float cx = at.x;
  if (wq.empty()) k.text(at, col(pal.dim), "wait queue: empty", true);
  // Several epoll instances hooked on one socket (the herd's listener): one chip says so,
  // with the instances' fds in the order __wake_up_common will call them.
  std::size_t hooks = 0;
  bool excl = false;
  std::string fds;
  for (const WsWait& e : wq)
    if (e.kind == WaitKind::EpCallback) {
      hooks++;
      excl = excl || e.exclusive;
      if (e.who < w.eps.size() && w.eps[e.who].fd >= 0) fds += (fds.empty() ? "" : ",") + std::to_string(w.eps[e.who].fd);
    }
  if (hooks > 1 && hooks == wq.size()) {
    const std::string label = std::to_string(hooks) + " × ep_poll_callback (ep fd " + fds + ")" + (excl ? " exclusive" : "");
    k.chip(at, label, pal.ready, text_on(pal, pal.ready));
    return;
  }
  for (std::size_t i = 0; i < wq.size(); i++) {
    const WsWait& e = wq[i];
    std::string label;
    view::Rgba fill = pal.mode[int(CpuMode::System)];
    switch (e.kind) {
      case WaitKind::TaskWake: label = view::task_name(w, std::uint16_t(e.who)) + (e.exclusive ? " (accept, exclusive)" : " (sk_wait_data)"); fill = pal.state[int(TaskState::Sleeping)]; break;
      case WaitKind::PollWake: label = "pollwake: " + view::task_name(w, std::uint16_t(e.who)); break;
      case WaitKind::EpCallback: {
        const bool many = w.eps.size() > 1;
        label = std::string("ep_poll_callback") + (many && e.who < w.eps.size() && w.eps[e.who].fd >= 0 ? " → ep fd " + std::to_string(w.eps[e.who].fd) : "") + (e.exclusive ? " (EXCL)" : "");
        fill = pal.ready;
        break;
      }
      case WaitKind::EpWait: label = "ep_poll"; break;
    }
    if (cx + k.text_w(label, true) + 8 * k.s > right) {
      k.text(ImVec2(cx, at.y), col(pal.dim), "+" + std::to_string(wq.size() - i), true);
      break;
    }
    cx = k.chip(ImVec2(cx, at.y), label, fill, text_on(pal, fill)) + 4 * k.s;
  }
}

// The listening sockets: their accept queue (connections the handshake finished, waiting for
// accept4) and their wait queue (accept4's sleepers, or epoll's hooks). Returns the height used.
float draw_listeners(Canvas& k, Rect r, const WorldState& w) {
  const auto& pal = k.pal;
  const float row_h = k.fs * 2.9f;
  float y = r.a.y;
  int shown = 0, total = 0;
  for (const WsSocket& l : w.sockets) total += l.listening();
  for (const WsSocket& l : w.sockets) {
    if (!l.listening()) continue;
    if (shown == 4 && total > 5) {
      k.text(ImVec2(r.a.x, y), col(pal.dim), "+ " + std::to_string(total - shown) + " more listening sockets", true);
      y += k.sfs * 1.4f;
      break;
    }
    const Rect b{ImVec2(r.a.x, y), ImVec2(r.b.x, y + row_h)};
    const bool focused = l.sid == k.focus.sid;
    box(k.dl, b.a, b.b, col(view::with_alpha(pal.frame, 40)), col(focused ? pal.focus : pal.frame), 4 * k.s, (focused ? 4.0f : 1.5f) * k.s);
    k.dl->PushClipRect(b.a, b.b, true);
    const std::string head = "listening fd " + (l.fd >= 0 ? std::to_string(l.fd) : std::string("?"));
    k.bold(ImVec2(b.a.x + 6 * k.s, b.a.y + 2 * k.s), col(pal.text), head);
    float qx = b.a.x + 14 * k.s + k.bold_w(head);
    const float qy = b.a.y + 5 * k.s, q = k.fs * 0.8f;
    const std::size_t n = l.accept_queue.size();
    for (std::size_t j = 0; j < std::min<std::size_t>(n, 6); j++)
      k.dl->AddRectFilled(ImVec2(qx + float(j) * (q + 3 * k.s), qy), ImVec2(qx + float(j) * (q + 3 * k.s) + q, qy + q), col(pal.packet), 2 * k.s);
    k.text(ImVec2(qx + float(std::min<std::size_t>(n, 6)) * (q + 3 * k.s) + 2 * k.s, b.a.y + 2 * k.s), col(pal.text),
           "accept queue " + std::to_string(n), true);
    draw_wait_chips(k, w, l.wq, ImVec2(b.a.x + 6 * k.s, b.a.y + k.fs * 1.5f), b.b.x);
    k.dl->PopClipRect();
    k.sock_rect[l.sid] = b;
    y += row_h + 4 * k.s;
    shown++;
  }
  return y - r.a.y;
}

void draw_sockets(Canvas& k, Rect r, const WorldState& w, int max_boxes) {
  const auto& pal = k.pal;
  const float row_h = k.fs * 2.9f;
  k.text(ImVec2(r.a.x, r.a.y), col(pal.dim), "sockets: receive queue · wait queue", true);
  float y = r.a.y + k.sfs * 1.5f;
  y += draw_listeners(k, Rect{ImVec2(r.a.x, y), r.b}, w);
  const int fit = std::max(1, std::min(max_boxes, int((r.b.y - y - k.fs * 1.2f) / (row_h + 4 * k.s))));
  const view::SocketPick pick = view::pick_sockets(w, std::size_t(fit), k.focus.sid);
  for (std::size_t i : pick.shown) {
    const WsSocket& s = w.sockets[i];
    const Rect b{ImVec2(r.a.x, y), ImVec2(r.b.x, y + row_h)};
    const bool focused = s.sid == k.focus.sid;
    box(k.dl, b.a, b.b, col(pal.panel), col(focused ? pal.focus : pal.frame), 4 * k.s, (focused ? 4.0f : 1.5f) * k.s);
    k.dl->PushClipRect(b.a, b.b, true);
    k.bold(ImVec2(b.a.x + 6 * k.s, b.a.y + 2 * k.s), col(pal.text), "fd " + std::to_string(s.fd));
    // Receive queue: one square per segment (up to 8), then the count.
    float qx = b.a.x + 6 * k.s + k.text_w("fd 0000") + 8 * k.s;
    const float qy = b.a.y + 5 * k.s, q = k.fs * 0.8f;
    for (std::uint32_t j = 0; j < std::min<std::uint32_t>(s.rxq, 8); j++)
      k.dl->AddRectFilled(ImVec2(qx + float(j) * (q + 3 * k.s), qy), ImVec2(qx + float(j) * (q + 3 * k.s) + q, qy + q), col(pal.queue), 2 * k.s);
    k.text(ImVec2(qx + float(std::min<std::uint32_t>(s.rxq, 8)) * (q + 3 * k.s) + 2 * k.s, b.a.y + 2 * k.s), col(pal.text),
           "rxq " + std::to_string(s.rxq), true);
    draw_wait_chips(k, w, s.wq, ImVec2(b.a.x + 6 * k.s, b.a.y + k.fs * 1.5f), b.b.x);
    k.dl->PopClipRect();
    k.sock_rect[s.sid] = b;
    y += row_h + 4 * k.s;
  }
  if (pick.hidden) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "+ %zu more sockets (%zu with data, %s queued)", pick.hidden, pick.hidden_busy,
                  view::group_digits(pick.hidden_queued).c_str());
    k.text(ImVec2(r.a.x, y), col(pal.dim), buf, true);
    k.sockets_summary = Rect{ImVec2(r.a.x, y), ImVec2(r.b.x, y + k.sfs)};
    k.have_summary = true;
  }
}

void draw_tree(Canvas& k, Rect r, const Pane& p, const WsEpoll& ep) {
  const auto& pal = k.pal;
  const float nr_max = 15 * k.s;
  // How many levels fit: rows of 2.6 radii.
  const int levels = std::max(2, int(r.h() / (nr_max * 2.6f)));
  view::TreeLayout lay;
  const std::size_t cur = p.pb.cursor;
  if (!p.story.empty() && cur > p.story_at && ep.eid == p.story_eid) {
    const std::size_t step = std::min(cur - 1 - p.story_at, p.story.size() - 1);
    const view::TreeLayout to = view::layout_tree(p.story[step], levels);
    const RbTree* before = p.story_eid < p.before.eps.size() ? &p.before.eps[p.story_eid].rbr : nullptr;
    const view::TreeLayout from = step == 0 ? view::layout_tree(before ? *before : RbTree{}, levels)
                                            : view::layout_tree(p.story[step - 1], levels);
    lay = view::lerp_layout(from, to, ease(k.c.anim));
  } else {
    lay = view::layout_tree(ep.rbr, levels);
  }
  const std::size_t n = lay.nodes.size();
  if (n == 0) {
    k.text(ImVec2(r.a.x, r.a.y + 4 * k.s), col(pal.dim), "(empty: no fd added yet)", true);
    return;
  }
  const float nr = std::clamp(r.w() / (float(n) * 2.3f), 5 * k.s, nr_max);
  const float row = std::min(nr * 3.0f, (r.h() - 2 * nr) / float(std::max(1, lay.depth - 1)));
  auto pos = [&](const view::TreeNodePos& q) {
    return ImVec2(r.a.x + nr + q.x * (r.w() - 2 * nr), r.a.y + nr + q.y * row);
  };
  for (const auto& q : lay.nodes)
    if (q.parent >= 0) k.dl->AddLine(pos(lay.nodes[std::size_t(q.parent)]), pos(q), col(pal.frame), 2 * k.s);
  for (const auto& q : lay.nodes) {
    const ImVec2 c = pos(q);
    const bool focused = q.fd == k.focus.fd && (k.focus.eid == kNone || k.focus.eid == ep.eid);
    const bool ready = std::find(ep.rdllist.begin(), ep.rdllist.end(), std::uint32_t(q.fd)) != ep.rdllist.end();
    k.dl->AddCircleFilled(c, nr, col(q.red ? pal.rb_red : pal.rb_black));
    // Black nodes get a light ring so they read on a dark background; red ones a double ring
    // would be noise. Focus and "on rdllist" get their own rings.
    k.dl->AddCircle(c, nr, col(q.red ? pal.rb_red : pal.frame), 0, 1.5f * k.s);
    if (ready) k.dl->AddCircle(c, nr + 3 * k.s, col(pal.ready), 0, 2.5f * k.s);
    if (focused) k.dl->AddCircle(c, nr + 6 * k.s, col(pal.focus), 0, 3 * k.s);
    if (nr >= 9 * k.s) text_centered(k.dl, k.c.fonts.small, std::min(k.sfs, nr * 1.1f), c, col(pal.rb_text), std::to_string(q.fd).c_str());
    if (q.hidden_below && nr >= 9 * k.s)
      text_centered(k.dl, k.c.fonts.small, k.sfs * 0.9f, ImVec2(c.x, c.y + nr + k.sfs * 0.7f), col(pal.dim), ("+" + std::to_string(q.hidden_below)).c_str());
  }
  if (lay.hidden && nr < 9 * k.s)
    k.text(ImVec2(r.a.x, r.a.y + 2 * nr + float(lay.depth - 1) * row + 4 * k.s), col(pal.dim),
           "+ " + view::group_digits(std::uint64_t(lay.hidden)) + " deeper nodes not drawn", true);
}

// rdllist as a chain of fds; returns its rectangle.
Rect draw_rdllist(Canvas& k, const WsEpoll& ep, float x, float y, float right) {
  const auto& pal = k.pal;
  const float bh = k.fs * 1.25f;
  float cx = x;
  if (ep.rdllist.empty()) k.text(ImVec2(cx, y + 2 * k.s), col(pal.dim), "empty", true);
  for (std::size_t i = 0; i < ep.rdllist.size(); i++) {
    const std::string t = "fd " + std::to_string(ep.rdllist[i]);
    const float bw = k.text_w(t, true) + 12 * k.s;
    if (cx + bw + 40 * k.s > right) {
      k.text(ImVec2(cx, y + 2 * k.s), col(pal.dim), "+" + std::to_string(ep.rdllist.size() - i), true);
      break;
    }
    const bool focused = std::int32_t(ep.rdllist[i]) == k.focus.fd && (k.focus.eid == kNone || k.focus.eid == ep.eid);
    box(k.dl, ImVec2(cx, y), ImVec2(cx + bw, y + bh), col(pal.ready), col(focused ? pal.focus : pal.ready), 3 * k.s, focused ? 3 * k.s : 0);
    k.dl->AddText(k.c.fonts.small, k.sfs, ImVec2(cx + 6 * k.s, y + (bh - k.sfs) / 2), col(text_on(pal, pal.ready)), t.c_str());
    cx += bw;
    if (i + 1 < ep.rdllist.size()) {
      arrow(k.dl, ImVec2(cx + 2 * k.s, y + bh / 2), ImVec2(cx + 16 * k.s, y + bh / 2), col(pal.text), 2 * k.s, 6 * k.s);
      cx += 18 * k.s;
    }
  }
  return Rect{ImVec2(x, y), ImVec2(right, y + bh)};
}

// ep->wq and its sleepers (exclusive waiters: one is woken per event).
Rect draw_epwq(Canvas& k, const WorldState& w, const WsEpoll& ep, float x, float y, float right) {
  const auto& pal = k.pal;
  const float bh = k.fs * 1.25f;
  float cx = x;
  if (ep.wq.empty()) k.text(ImVec2(cx, y), col(pal.dim), "nobody waiting", true);
  for (std::size_t i = 0; i < ep.wq.size(); i++) {
    const std::string t = view::task_name(w, std::uint16_t(ep.wq[i].who)) + " sleeps";
    if (cx + k.text_w(t, true) + 8 * k.s > right) {
      k.text(ImVec2(cx, y), col(pal.dim), "+" + std::to_string(ep.wq.size() - i), true);
      break;
    }
    cx = k.chip(ImVec2(cx, y), t, pal.state[int(TaskState::Sleeping)], view::rgb(255, 255, 255)) + 6 * k.s;
  }
  return Rect{ImVec2(x, y), ImVec2(right, y + bh)};
}

std::string epoll_title(const WorldState& w, const WsEpoll& ep) {
  std::string t = "epoll fd " + (ep.fd >= 0 ? std::to_string(ep.fd) : std::string("?"));
  if (w.eps.size() > 1 && ep.owner != kNoTask) t += " · " + view::task_name(w, ep.owner);
  return t;
}

// The tree's size beside an instance's title, as much of it as fits before `right`: a band
// is narrow when four instances share the column.
void draw_rbr_size(Canvas& k, ImVec2 at, float right, const WsEpoll& ep) {
  const std::string n = std::to_string(ep.rbr.size());
  for (const std::string& t : {"rbr: " + n + (ep.rbr.size() == 1 ? " epitem" : " epitems"), "rbr: " + n})
    if (at.x + k.text_w(t, true) <= right) {
      k.text(at, col(k.pal.dim), t, true);
      return;
    }
}

// One instance, the whole picture: its red-black tree, rdllist and ep->wq.
void draw_epoll_full(Canvas& k, Rect r, const Pane& p, const WsEpoll& ep) {
  const auto& pal = k.pal;
  const WorldState& w = p.world;
  const float x = r.a.x + 8 * k.s;
  const std::string title = epoll_title(w, ep);
  k.bold(ImVec2(x, r.a.y + 4 * k.s), col(pal.text), title);
  draw_rbr_size(k, ImVec2(x + k.bold_w(title) + 16 * k.s, r.a.y + 6 * k.s), r.b.x - 8 * k.s, ep);
  const float ty = r.a.y + k.fs * 1.7f;
  const float th = r.h() * 0.56f;
  k.tree = Rect{ImVec2(x, ty), ImVec2(r.b.x - 8 * k.s, ty + th)};
  draw_tree(k, k.tree, p, ep);
  float y = ty + th + 6 * k.s;
  k.text(ImVec2(x, y), col(pal.text), "rdllist (ready list)", true);
  y += k.sfs * 1.4f;
  k.rdl_rect[ep.eid] = k.rdllist = draw_rdllist(k, ep, x, y, r.b.x - 8 * k.s);
  y += k.fs * 1.25f + 10 * k.s;
  k.text(ImVec2(x, y), col(pal.text), "ep->wq (epoll_wait sleepers, exclusive)", true);
  y += k.sfs * 1.4f;
  k.epwq_rect[ep.eid] = k.epwq = draw_epwq(k, w, ep, x, y, r.b.x - 8 * k.s);
}

// Several instances (a thread each): one band per instance, with its tree's size, its
// rdllist and its ep->wq; the tree of the instance the current event is about is drawn.
void draw_epoll_bands(Canvas& k, Rect r, const Pane& p) {
  const auto& pal = k.pal;
  const WorldState& w = p.world;
  const std::size_t n = w.eps.size();
  const float x = r.a.x + 8 * k.s;
  const float row = k.fs * 1.25f + 3 * k.s;
  const float band = k.fs * 1.35f + 2 * row + 6 * k.s;
  const std::size_t fit = std::max<std::size_t>(1, std::size_t(r.h() / band));
  std::size_t first = 0;
  if (n > fit && k.focus.eid != kNone && k.focus.eid < n) first = std::min(k.focus.eid, std::uint32_t(n - fit));
  float y = r.a.y + 4 * k.s;
  for (std::size_t i = first; i < n && i < first + fit; i++) {
    const WsEpoll& ep = w.eps[i];
    const bool focused = k.focus.eid == ep.eid;
    const Rect b{ImVec2(r.a.x + 3 * k.s, y - 2 * k.s), ImVec2(r.b.x - 3 * k.s, y + band - 6 * k.s)};
    box(k.dl, b.a, b.b, col(pal.panel), col(focused ? pal.focus : pal.frame), 4 * k.s, (focused ? 3.0f : 1.0f) * k.s);
    const std::string title = epoll_title(w, ep);
    k.bold(ImVec2(x, y), col(pal.text), title);
    draw_rbr_size(k, ImVec2(x + k.bold_w(title) + 12 * k.s, y + 2 * k.s), r.b.x - 8 * k.s, ep);
    float yy = y + k.fs * 1.35f;
    k.text(ImVec2(x, yy), col(pal.dim), "rdllist", true);
    const float lx = x + k.text_w("ep->wq  ", true);
    k.rdl_rect[ep.eid] = draw_rdllist(k, ep, lx, yy, r.b.x - 8 * k.s);
    yy += row;
    k.text(ImVec2(x, yy), col(pal.dim), "ep->wq", true);
    k.epwq_rect[ep.eid] = draw_epwq(k, w, ep, lx, yy, r.b.x - 8 * k.s);
    y += band;
  }
  if (n > fit) k.text(ImVec2(x, std::min(y, r.b.y - k.sfs)), col(pal.dim), "+ " + std::to_string(n - fit) + " more epoll instances", true);
  k.tree = k.rdllist = k.epwq = r;
}

void draw_epoll(Canvas& k, Rect r, const Pane& p) {
  const auto& pal = k.pal;
  const WorldState& w = p.world;
  box(k.dl, r.a, r.b, col(pal.panel), col(pal.frame), 5 * k.s, 2 * k.s);
  const float x = r.a.x + 8 * k.s;
  if (w.eps.empty()) {
    const StrategyInfo& info = strategy_info(p.run->trace->strategy);
    k.bold(ImVec2(x, r.a.y + 4 * k.s), col(pal.text), std::string(info.name));
    const std::string note = info.no_epoll.empty() ? "epoll_create1 has not run yet." : std::string(info.no_epoll);
    k.dl->AddText(k.c.fonts.small, k.sfs, ImVec2(x, r.a.y + k.fs * 1.8f), col(pal.text), note.c_str(), nullptr, r.w() - 16 * k.s);
    k.text(ImVec2(x, r.b.y - k.sfs * 1.6f), col(pal.dim), "fds scanned so far: " + view::group_digits(w.counters().fds_scanned), true);
    k.tree = k.rdllist = k.epwq = r;
    return;
  }
  if (w.eps.size() == 1) draw_epoll_full(k, r, p, w.eps.front());
  else draw_epoll_bands(k, r, p);
}

// Where a stage of a packet's trip is on screen.
ImVec2 stage_pos(const Canvas& k, view::Stage s, const view::PacketMove& m, const WorldState& w, int cpu,
                 std::uint16_t task) {
  auto sock = [&](std::uint32_t sid, bool wq) {
    auto it = k.sock_rect.find(sid);
    if (it == k.sock_rect.end()) return k.have_summary ? k.sockets_summary.center() : k.nic.center();
    return wq ? ImVec2(it->second.a.x + it->second.w() * 0.3f, it->second.b.y - 8 * k.s)
              : ImVec2(it->second.b.x - 20 * k.s, it->second.a.y + 12 * k.s);
  };
  switch (s) {
    case view::Stage::Client: return ImVec2(k.wire.a.x + 8 * k.s, k.wire.a.y + 30 * k.s);
    case view::Stage::Wire: case view::Stage::Reply: return ImVec2(k.wire.center().x, k.wire.a.y + 30 * k.s);
    case view::Stage::Ring: return ImVec2(k.nic.center().x, k.nic.a.y + k.fs * 3);
    case view::Stage::HardIrq: case view::Stage::Softirq: {
      const std::size_t i = cpu >= 0 && std::size_t(cpu) < k.cpu_rect.size() ? std::size_t(cpu) : 0;
      return k.cpu_rect.empty() ? k.nic.center() : k.cpu_rect[i].center();
    }
    case view::Stage::Socket: return sock(m.sid, false);
    case view::Stage::WaitQueue: return sock(m.sid, true);
    case view::Stage::ReadyList: {
      auto it = k.rdl_rect.find(m.eid);
      const Rect& r = it != k.rdl_rect.end() ? it->second : k.rdllist;
      return ImVec2(r.a.x + 30 * k.s, r.center().y);
    }
    case view::Stage::Task: case view::Stage::User: {
      auto it = k.task_rect.find(task);
      if (it != k.task_rect.end()) return it->second.center();
      return ImVec2(k.epwq.a.x + 30 * k.s, k.epwq.center().y);
    }
    case view::Stage::None: break;
  }
  (void)w;
  return k.nic.center();
}

}  // namespace

void draw_machine(const PanelCtx& c, ViewState& vs, Commands& out, ImVec2 size) {
  const Pane& p = c.pane;
  const WorldState& w = p.world;
  const Trace& tr = *p.run->trace;
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 o = ImGui::GetCursorScreenPos();
  ImGui::Dummy(size);
  Canvas k{dl, c, c.pal, c.scale, c.fonts.body->FontSize, c.fonts.small->FontSize, {}, {}, {}, {}, {}, {}, {}, {},
           {}, {}, {}, {}, false};
  const std::size_t cur = p.pb.cursor;
  if (cur) k.focus = view::focus_of(tr, tr.events[cur - 1], w);
  const float W = size.x, H = size.y, s = c.scale;
  dl->PushClipRect(o, ImVec2(o.x + W, o.y + H), true);

  // User space | boundary | kernel.
  const float user_h = std::max(H * 0.2f, k.fs * 5.2f);
  const bool live = tr.source == "live";
  draw_user_space(k, Rect{o, ImVec2(o.x + W, o.y + user_h)}, w, live);
  const float by = o.y + user_h + 8 * s;
  for (float x = o.x; x < o.x + W; x += 16 * s)
    dl->AddLine(ImVec2(x, by), ImVec2(std::min(x + 9 * s, o.x + W), by), col(c.pal.boundary), 2.5f * s);
  const char* bl = "system call boundary";
  k.text(ImVec2(o.x + W - k.text_w(bl, true) - 6 * s, by + 3 * s), col(c.pal.boundary), bl, true);
  const Rect kernel{ImVec2(o.x, by + 4 * s), ImVec2(o.x + W, o.y + H)};
  dl->AddRectFilled(kernel.a, kernel.b, col(c.pal.kernel_bg), 4 * s);
  k.text(ImVec2(kernel.a.x + 6 * s, kernel.a.y + 3 * s), col(c.pal.dim), "kernel", true);
  const float ky = kernel.a.y + k.sfs * 1.6f, kh = kernel.b.y - ky - 6 * s;
  if (live) {
    draw_live_note(k, Rect{ImVec2(kernel.a.x, ky), kernel.b}, tr);
    dl->PopClipRect();
    (void)vs;
    (void)out;
    return;
  }

  const int budget = p.run->scenario ? p.run->scenario->kernel.netdev_budget : 300;
  const int ring = p.run->scenario ? p.run->scenario->kernel.rx_ring : 1024;
  const float gx = 10 * s;
  const float col_a = W * 0.17f, col_b = W * 0.24f, col_c = W * 0.26f;
  float x = o.x + 6 * s;
  draw_nic(k, Rect{ImVec2(x, ky), ImVec2(x + col_a, ky + kh)}, w, tr, ring);
  x += col_a + gx;
  draw_cpus(k, Rect{ImVec2(x, ky), ImVec2(x + col_b, ky + std::min(kh, float(w.cpus.size()) * k.fs * 5.2f))}, w, budget);
  x += col_b + gx;
  draw_sockets(k, Rect{ImVec2(x, ky), ImVec2(x + col_c, ky + kh)}, w, vs.max_sockets);
  x += col_c + gx;
  draw_epoll(k, Rect{ImVec2(x, ky), ImVec2(o.x + W - 6 * s, ky + kh)}, p);

  // The IRQ line from the NIC to CPU0.
  if (!k.cpu_rect.empty()) {
    const bool irq = w.cpus[0].hardirq;
    const ImVec2 a(k.nic.b.x, k.nic.a.y + 20 * s), b(k.cpu_rect[0].a.x, k.cpu_rect[0].a.y + 20 * s);
    arrow(dl, a, b, col(irq ? c.pal.mode[int(CpuMode::HardIrq)] : view::with_alpha(c.pal.frame, 140)), (irq ? 3.5f : 1.5f) * s, 9 * s);
    k.text(ImVec2((a.x + b.x) / 2 - k.text_w("IRQ", true) / 2, std::min(a.y, b.y) - k.sfs - 2 * s),
           col(irq ? c.pal.mode[int(CpuMode::HardIrq)] : c.pal.dim), "IRQ", true);
  }

  // The packet of the current event, gliding in from its previous stop.
  if (cur) {
    const TraceEvent& e = tr.events[cur - 1];
    const view::PacketMove m = view::packet_arrival(tr, cur, c.anim);
    if (m.active) {
      std::uint16_t task = k.focus.task;
      const ImVec2 a = stage_pos(k, m.from, m, w, e.cpu, task), b = stage_pos(k, m.to, m, w, e.cpu, task);
      const ImVec2 at = lerp(a, b, ease(m.t));
      if (m.from != m.to && m.t < 1) arrow(dl, a, at, col(view::with_alpha(c.pal.packet, 150)), 2 * s, 8 * s);
      dl->AddCircleFilled(at, 9 * s, col(c.pal.packet));
      dl->AddCircle(at, 9 * s, col(c.pal.packet_outline), 0, 2 * s);
      const std::string lbl = "packet " + std::to_string(m.flow) + " · " + std::string(view::stage_name(m.to));
      k.chip(ImVec2(at.x + 12 * s, at.y + 4 * s), lbl, c.pal.packet, view::rgb(0, 0, 0));
    }
    // A wake-up: an arrow from the wait queue whose entry woke the task up to the task's box
    // above the boundary. One packet can wake several tasks (a listener watched by several
    // epoll instances: the thundering herd): every wake-up of this packet so far, at this
    // instant, gets its arrow, so the fan-out shows at once.
    if (e.kind == Ev::TryToWakeUp) {
      std::size_t lo = cur - 1;
      while (lo > 0 && cur - lo < 512 && tr.events[lo - 1].t == e.t) lo--;
      for (std::size_t j = lo; j < cur; j++) {
        const TraceEvent& wk = tr.events[j];
        if (wk.kind != Ev::TryToWakeUp || (j + 1 != cur && (wk.flow != e.flow || e.flow == kNone))) continue;
        auto it = k.task_rect.find(wk.actor);
        if (it == k.task_rect.end()) continue;
        ImVec2 from = wk.cpu < k.cpu_rect.size() ? k.cpu_rect[wk.cpu].center() : k.nic.center();
        for (std::size_t i = j, n = 0; i-- > 0 && n < 16; n++) {
          const TraceEvent& q = tr.events[i];
          if (q.kind != Ev::WaitWake) continue;
          if (q.obj & kEpWq) {
            auto r = k.epwq_rect.find(q.obj & ~kEpWq);
            from = r != k.epwq_rect.end() ? r->second.center() : k.epwq.center();
          } else if (k.sock_rect.count(q.obj)) {
            from = k.sock_rect.at(q.obj).center();
          } else if (k.have_summary) {
            from = k.sockets_summary.center();
          }
          break;
        }
        arrow(dl, from, ImVec2(it->second.center().x, it->second.b.y), col(c.pal.wake_arrow), 4 * s, 14 * s);
        if (j + 1 == cur)
          k.chip(ImVec2((from.x + it->second.center().x) / 2 + 8 * s, (from.y + it->second.b.y) / 2), "try_to_wake_up",
                 c.pal.wake_arrow, view::rgb(0, 0, 0));
      }
    }
  }
  dl->PopClipRect();
  (void)out;
}

}  // namespace eps::app
