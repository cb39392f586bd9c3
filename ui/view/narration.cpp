#include "ui/view/narration.h"

#include <cstdio>

#include "sim/simulation.h"
#include "ui/view/format.h"

namespace eps::view {

namespace {

std::string fd_s(std::uint32_t fd) { return "fd " + std::to_string(fd); }

std::string mode_s(CpuMode m) { return std::string(cpu_mode_name(m)); }

const WsTask* find_task(const WorldState& w, std::uint16_t id) {
  if (id < w.tasks.size() && w.tasks[id].id == id) return &w.tasks[id];
  for (const auto& t : w.tasks)
    if (t.id == id) return &t;
  return nullptr;
}

std::string syscall_result(Sys s, int r) {
  if (r == -11) return "-EAGAIN";
  if (r == -17) return "-EEXIST";
  if (r == -2) return "-ENOENT";
  if (r == -22) return "-EINVAL";
  (void)s;
  return std::to_string(r);
}

// A socket by what a student sees: its fd, or, before accept4, its connection.
std::string sock_s(const WorldState& w, std::uint32_t sid) {
  if (sid >= w.sockets.size()) return "socket " + std::to_string(sid);
  const WsSocket& s = w.sockets[sid];
  if (s.listening()) return s.fd >= 0 ? "listening " + fd_s(std::uint32_t(s.fd)) : "the listening socket";
  if (s.fd >= 0) return fd_s(std::uint32_t(s.fd));
  return "connection " + std::to_string(s.conn) + " (not accepted yet)";
}

std::string epoll_s(const WorldState& w, std::uint32_t eid) {
  if (eid < w.eps.size() && w.eps[eid].fd >= 0) return "epoll " + fd_s(std::uint32_t(w.eps[eid].fd));
  return "epoll instance " + std::to_string(eid);
}

// A wait queue by its owner.
std::string wq_s(const WorldState& w, std::uint32_t id) {
  if (id & kEpWq) return epoll_s(w, id & ~kEpWq) + "'s ep->wq";
  return sock_s(w, id) + "'s wait queue";
}

std::string who_waits(const WorldState& w, WaitKind k, std::uint32_t who) {
  if (k == WaitKind::EpCallback) return "the epitem of " + epoll_s(w, who);
  return task_name(w, std::uint16_t(who));
}

// Why a syscall is entered: the kernel path it takes.
std::string enter_detail(Sys s, std::uint32_t fd, bool blocking_strategy) {
  switch (s) {
    case Sys::Recvfrom:
      return blocking_strategy
                 ? "tcp_recvmsg takes a segment if one is queued; if not, sk_wait_data puts the "
                   "thread to sleep on the socket's wait queue."
                 : "The socket is non-blocking: with nothing queued, tcp_recvmsg returns -EAGAIN "
                   "at once.";
    case Sys::Select:
      return "do_select copies the fd bitmaps in and calls ->poll on every fd, registering on "
             "each fd's wait queue (__pollwait).";
    case Sys::Poll:
      return "do_poll copies the pollfd array in and calls ->poll on every fd, registering on "
             "each fd's wait queue (__pollwait).";
    case Sys::EpollWait:
      return "ep_poll looks at rdllist: ready items are copied out at once; if it is empty the "
             "task sleeps on ep->wq.";
    case Sys::EpollCtl:
      return "ep_find looks the fd up in the red-black tree, then ep_insert adds an epitem.";
    case Sys::Accept4: return "It takes the next connection from the listen queue.";
    case Sys::Sendto: return "tcp_sendmsg queues the reply and transmits it.";
    case Sys::EpollCreate1: return "ep_alloc makes the eventpoll: a tree, a ready list, a wait queue.";
    case Sys::Clone: return "A new thread is made to serve one connection.";
    case Sys::Close: return "The fd is released.";
    default: return "";
  }
  (void)fd;
}

}  // namespace

std::string task_name(const WorldState& w, std::uint16_t id) {
  if (id == kNoTask) return "the idle task";
  const WsTask* t = find_task(w, id);
  if (t && !t->name.empty()) return t->name;
  return "task " + std::to_string(id);
}

std::string narrate_start(const Trace& tr) {
  return "Nothing has happened yet. " +
         (tr.scenario_title.empty() ? std::string("The run") : "\"" + tr.scenario_title + "\"") +
         " with the " + std::string(strategy_name(tr.strategy)) + " server: press Space to play, or the right arrow to step.";
}

std::string narrate(const Trace& tr, const TraceEvent& e, const WorldState& w) {
  const std::string who = task_name(w, e.actor);
  const std::string cpu = "CPU" + std::to_string(e.cpu);
  const bool blocking = strategy_info(tr.strategy).waits == WaitsWith::Recvfrom;
  switch (e.kind) {
    case Ev::TaskCreate: {
      const char* kind =
          TaskKind(e.a) == TaskKind::Background   ? "a CPU-bound neighbour that never sleeps"
          : TaskKind(e.a) == TaskKind::ServerWorker ? "a server worker thread"
          : TaskKind(e.a) == TaskKind::Ksoftirqd
              ? "the kernel thread that takes over NET_RX work when the softirq runs too long"
              : "the server process";
      return who + " is created: " + kind + ".";
    }
    case Ev::SocketCreate:
      if (e.a == kNone) return "A listening socket: connections whose handshake is done wait in its accept queue.";
      if (e.flow == kNone)
        return "Connection " + std::to_string(e.a) + " was made before the run: its socket, with its own receive "
               "queue (sk_receive_queue) and wait queue, waits in " + sock_s(w, e.b) + "'s accept queue.";
      return "The handshake of connection " + std::to_string(e.a) + " completes (tcp_check_req): its new socket "
             "joins " + sock_s(w, e.b) + "'s accept queue, and sock_def_readable wakes whoever waits on the "
             "listener.";
    case Ev::FdInstall:
      if (FileKind(e.a) == FileKind::Epoll)
        return "alloc_fd gives the epoll instance " + fd_s(e.obj) + ", the lowest free number.";
      return "alloc_fd + fd_install: " + fd_s(e.obj) + " (the lowest free number) now refers to " +
             (e.b < w.sockets.size() && w.sockets[e.b].listening() ? std::string("a listening socket")
                                                                    : "connection " + std::to_string(e.b) + "'s socket") +
             ".";
    case Ev::ClientConnect:
      return "A client calls connect() on connection " + std::to_string(e.obj) +
             ": SYN, SYN-ACK, and its last ACK crosses the wire to the server's NIC.";
    case Ev::EpollCreate:
      return "epoll_create1 → ep_alloc makes an epoll instance: an empty red-black tree (rbr), an empty "
             "ready list (rdllist) and a wait queue (ep->wq).";
    case Ev::FdClose:
      if (e.a == 1)
        return fd_s(e.obj) + " is ≥ FD_SETSIZE (1024): FD_SET on it would be undefined "
               "behaviour, so the select server closes it and that client is refused.";
      return fd_s(e.obj) + " is closed.";
    case Ev::CpuMode:
      if (CpuMode(e.a) == CpuMode::Idle) return cpu + " has nothing to run: it goes idle.";
      return cpu + " now spends its time in " + mode_s(CpuMode(e.a)) + " for " + who + ".";
    case Ev::TaskState: {
      const auto to = TaskState(e.a), from = TaskState(e.b);
      std::string s = who + " goes from " + std::string(task_state_name(from)) + " to " +
                      std::string(task_state_name(to)) + ".";
      if (to == TaskState::Sleeping)
        s += " It sleeps (TASK_INTERRUPTIBLE) and uses no CPU until a wait-queue callback wakes it.";
      else if (to == TaskState::Runnable && from == TaskState::Sleeping)
        s += " It is on a runqueue now, waiting for the scheduler to pick it.";
      else if (to == TaskState::Running)
        s += " The scheduler picked it: its code runs on " + cpu + ".";
      return s;
    }
    case Ev::ContextSwitch: {
      const std::string prev = task_name(w, std::uint16_t(e.a));
      const std::string next = e.actor == kNoTask ? "the idle task" : who;
      std::string s = "__schedule on " + cpu + ": context_switch from " + prev + " to " + next + ".";
      if (e.a != kNoTask && std::uint16_t(e.a) != kNoTask) {
        if (e.b == kSwitchInvoluntary) s += " An involuntary switch: " + prev + " was preempted while still runnable.";
        else if (e.b == kSwitchVoluntary) s += " A voluntary switch: " + prev + " blocked.";
        else s += " " + prev + " has exited.";
      }
      return s;
    }
    case Ev::TryToWakeUp: {
      std::string s = "try_to_wake_up: " + who + " becomes TASK_RUNNING and joins " + cpu +
                      "'s runqueue (sched_wakeup).";
      if (e.a) s += " It preempts the task running there.";
      return s;
    }
    case Ev::ProgramLine: {
      // The listing recorded with the run (a lesson's variant, e.g. the read-once bug).
      if (e.a < tr.program.size()) {
        std::string code = tr.program[e.a];
        while (!code.empty() && code.front() == ' ') code.erase(code.begin());
        return who + " is at line " + std::to_string(e.a + 1) + ": " + code;
      }
      return who + " is at line " + std::to_string(e.a + 1) + " of its program.";
    }
    case Ev::SyscallEnter: {
      const Sys s = Sys(e.a);
      std::string head = who + " calls " + std::string(sys_name(s)) +
                         (e.obj != kNone ? "(" + fd_s(e.obj) + ")" : "()") +
                         " and crosses into the kernel.";
      const std::string d = enter_detail(s, e.obj, blocking);
      return d.empty() ? head : head + " " + d;
    }
    case Ev::SyscallExit: {
      const Sys s = Sys(e.a);
      const int r = int(std::int32_t(e.b));
      const std::string name(sys_name(s));
      std::string head = name + " returns " + syscall_result(s, r) + " to " + who +
                         ", back in user space.";
      if (r == -11) return head + " Nothing was queued: the non-blocking call gives up at once (EAGAIN).";
      if (s == Sys::EpollWait)
        return "epoll_wait returns " + std::to_string(r) + " to " + who +
               ": ep_send_events copied " + std::to_string(r) + " ready event" + (r == 1 ? "" : "s") +
               " to user space.";
      if (s == Sys::Select || s == Sys::Poll)
        return head + " " + std::to_string(r) + " fd" + (r == 1 ? " is" : "s are") +
               " ready; the program must now test every fd to find which.";
      if (s == Sys::Recvfrom && r > 0) return head + " It got a " + std::to_string(r) + "-byte request.";
      return head;
    }
    case Ev::UserWork:
      return who + " handles a request from connection " + std::to_string(e.a) +
             " in user space: " + format_duration(SimTime(e.b)) + " of its own code.";
    case Ev::PollScan: {
      const Sys s = Sys(e.obj);
      // Nothing ready after a wake-up (the accounting's `woken`: no work done since): another
      // thread got there first. Without a wake-up it is only the level-triggered re-check.
      const bool after_wake = e.actor < w.acct.tasks.size() && w.acct.tasks[e.actor].woken;
      if (s == Sys::EpollWait && e.a > 0 && e.b == 0 && after_wake)
        return "ep_send_events re-polled " + std::to_string(e.a) + " item" + (e.a == 1 ? "" : "s") +
               " on rdllist and found nothing ready any more: another thread took the event first. " +
               task_name(w, e.actor) + " woke for nothing; ep_poll puts it back to sleep without returning "
               "to user space.";
      if (s == Sys::EpollWait)
        return "ep_send_events examined " + std::to_string(e.a) + " item" + (e.a == 1 ? "" : "s") +
               " on rdllist, " + std::to_string(e.b) +
               " ready: epoll's cost follows the ready fds, not the watched ones.";
      return std::string(s == Sys::Select ? "do_select" : "do_poll") + " called ->poll on " +
             std::to_string(e.a) + " fds and found " + std::to_string(e.b) +
             " ready: the cost grows with every watched fd, on every call.";
    }
    case Ev::ClientSend:
      return "A client sends request " + std::to_string(e.a) + " on connection " +
             std::to_string(e.obj) + " (packet " + std::to_string(e.flow) + "); it crosses the wire to the NIC.";
    case Ev::NicRx:
      if (e.b == kNone)
        return "The NIC DMAs the handshake's last ACK of connection " + std::to_string(e.obj) + " (packet " +
               std::to_string(e.flow) + ") into an RX ring slot (" + std::to_string(e.a) + " in use) and raises its IRQ line.";
      return "The NIC DMAs packet " + std::to_string(e.flow) + " (connection " + std::to_string(e.obj) +
             ") into an RX ring slot (" + std::to_string(e.a) + " in use) and raises its IRQ line.";
    case Ev::NicDrop:
      return "The RX ring is full (" + std::to_string(e.a) + " slots): the NIC drops the packet of "
             "connection " + std::to_string(e.obj) + ". The model does not retransmit, so the request fails.";
    case Ev::HardIrq:
      if (e.a)
        return "Hard interrupt on " + cpu + ": whatever ran there stops; the driver's IRQ handler "
               "masks the device IRQ and calls napi_schedule.";
      return "The IRQ handler returns; irq_exit → invoke_softirq runs the pending NET_RX softirq now.";
    case Ev::NapiSchedule:
      return "napi_schedule puts the NIC's NAPI instance on " + cpu +
             "'s softnet_data.poll_list and raises NET_RX_SOFTIRQ.";
    case Ev::Softirq: {
      const std::string where = e.actor == kNoTask ? "on " + cpu : "in " + who + " (task context)";
      if (e.a) return "NET_RX softirq " + where + ": net_rx_action polls the NIC, up to netdev_budget packets.";
      std::string done = "net_rx_action is done " + where + ": " + std::to_string(e.b) + " packet" +
                         (e.b == 1 ? "" : "s") + " in this run; ";
      if (!w.napi_scheduled) return done + "the ring is empty, napi_complete_done unmasks the device IRQ.";
      return done + "the ring still holds packets, so NAPI stays scheduled (IRQ masked) for the next run" +
             (e.actor == kNoTask ? " — or for ksoftirqd, after 10 restarts or 2 ms." : ".");
    }
    case Ev::NapiRx:
      return "The NAPI poll takes packet " + std::to_string(e.flow) + " off the RX ring (" +
             std::to_string(e.a) + " left) and passes it up: netif_receive_skb → ip_rcv → tcp_v4_rcv.";
    case Ev::TimeSqueeze:
      return "net_rx_action used up its budget: time_squeeze++, and NET_RX is raised again to "
             "finish the ring later.";
    case Ev::SkbQueue:
      return "tcp_rcv_established appends the segment to " + sock_s(w, e.obj) + "'s sk_receive_queue (" +
             std::to_string(e.a) + " queued); tcp_data_ready → sock_def_readable wakes its wait queue.";
    case Ev::SkbDequeue:
      return who + "'s recvfrom (tcp_recvmsg) takes a segment off " + sock_s(w, e.obj) +
             "'s receive queue (" + std::to_string(e.a) + " left) and copies it to user space.";
    case Ev::WaitAdd:
      switch (wait_kind_of(e.a)) {
        case WaitKind::TaskWake:
          if (e.obj < w.sockets.size() && w.sockets[e.obj].listening())
            return "inet_csk_wait_for_connect: the accept queue is empty, so " + who_waits(w, WaitKind::TaskWake, e.b) +
                   " waits on " + wq_s(w, e.obj) + " as an exclusive waiter (one is woken per connection) and sleeps.";
          return "sk_wait_data: " + who_waits(w, WaitKind::TaskWake, e.b) + " adds itself to " +
                 wq_s(w, e.obj) + ", then sleeps until data arrives.";
        case WaitKind::PollWake:
          return "__pollwait: " + who_waits(w, WaitKind::PollWake, e.b) + " registers a pollwake entry on " +
                 wq_s(w, e.obj) + " (one per watched fd, every call).";
        case WaitKind::EpCallback:
          return "ep_ptable_queue_proc hooks ep_poll_callback into " + wq_s(w, e.obj) +
                 ((e.a & kWaitExclusive) ? " as an exclusive entry at its tail (EPOLLEXCLUSIVE)" : "") +
                 ": from now on readiness of " + sock_s(w, e.obj) + " notifies " + epoll_s(w, e.b) + " by itself.";
        case WaitKind::EpWait:
          return "ep_poll: rdllist is empty, so " + who_waits(w, WaitKind::EpWait, e.b) +
                 " waits on ep->wq (an exclusive waiter) and sleeps.";
      }
      break;
    case Ev::WaitRemove:
      switch (wait_kind_of(e.a)) {
        case WaitKind::PollWake:
          return "poll_freewait: the pollwake entry of " + who_waits(w, WaitKind::PollWake, e.b) +
                 " leaves " + wq_s(w, e.obj) + " (select/poll undo every registration).";
        case WaitKind::EpCallback:
          return "ep_remove unhooks ep_poll_callback from " + wq_s(w, e.obj) + ".";
        case WaitKind::EpWait:
          return who_waits(w, WaitKind::EpWait, e.b) + " leaves ep->wq.";
        case WaitKind::TaskWake:
          return who_waits(w, WaitKind::TaskWake, e.b) + " leaves " + wq_s(w, e.obj) + ".";
      }
      break;
    case Ev::WaitWake:
      switch (wait_kind_of(e.a)) {
        case WaitKind::TaskWake:
          return "sock_def_readable walks " + wq_s(w, e.obj) + ": the entry of " +
                 who_waits(w, WaitKind::TaskWake, e.b) + " runs default_wake_function → try_to_wake_up.";
        case WaitKind::PollWake:
          return "sock_def_readable walks " + wq_s(w, e.obj) + ": pollwake wakes " +
                 who_waits(w, WaitKind::PollWake, e.b) + ", which will rescan every fd.";
        case WaitKind::EpCallback:
          return "sock_def_readable walks " + wq_s(w, e.obj) + " (__wake_up_common): this entry's callback is "
                 "ep_poll_callback of " + epoll_s(w, e.b) + ".";
        case WaitKind::EpWait:
          return "ep_poll_callback wakes one exclusive waiter on ep->wq: " +
                 who_waits(w, WaitKind::EpWait, e.b) + ".";
      }
      break;
    case Ev::EpitemInsert:
      return "epoll_ctl(EPOLL_CTL_ADD, " + fd_s(e.a) + ") → ep_insert: a new epitem keyed by "
             "(file, fd " + std::to_string(e.a) + ") goes into the red-black tree as a red leaf.";
    case Ev::EpitemRemove:
      return "ep_remove takes " + fd_s(e.a) + "'s epitem out of the red-black tree.";
    case Ev::EpitemModify:
      return "ep_modify changes " + fd_s(e.a) + "'s event mask (re-arming it if it was EPOLLONESHOT).";
    case Ev::RbRotate:
      return std::string("Rebalancing (lib/rbtree.c): a ") + (e.b ? "right" : "left") +
             " rotation about " + fd_s(e.a) + "'s node keeps the tree shallow — every path keeps "
             "the same number of black nodes.";
    case Ev::RbRecolor:
      return fd_s(e.a) + "'s node turns " + (e.b ? "black" : "red") +
             " so that no red node has a red child and black heights stay equal.";
    case Ev::RdllistAdd: {
      const std::size_t n = e.obj < w.eps.size() ? w.eps[e.obj].rdllist.size() : 0;
      const bool in_softirq = e.cpu < w.cpus.size() && (w.cpus[e.cpu].softirq || w.cpus[e.cpu].hardirq);
      if (!in_softirq && !strategy_info(tr.strategy).edge_triggered)
        return "Level-triggered: ep_send_events puts " + fd_s(e.a) +
               " back on rdllist, so the next epoll_wait checks it again (" + std::to_string(n) + " ready).";
      return "ep_poll_callback put " + fd_s(e.a) + " on the ready list (rdllist) — " +
             std::to_string(n) + " ready now — and will wake a task sleeping in epoll_wait.";
    }
    case Ev::RdllistRemove:
      return "ep_send_events takes " + fd_s(e.a) + " off rdllist, re-polls it and copies its "
             "event out to user space.";
    case Ev::ReplySend:
      return "The reply to request " + std::to_string(e.a) + " leaves on connection " +
             std::to_string(e.obj) + " (sendto).";
    case Ev::ReplyRecv:
      return "The client on connection " + std::to_string(e.obj) + " gets its reply to request " +
             std::to_string(e.a) + " after " + std::to_string(e.b) + " µs.";
    case Ev::RequestFailed:
      return "Request " + std::to_string(e.a) + " on connection " + std::to_string(e.obj) +
             " failed: " + std::string(fail_reason_name(FailReason(e.b))) + ".";
    case Ev::Count: break;
  }
  return std::string(ev_name(e.kind)) + ".";
}

std::string event_label(const Trace& tr, const TraceEvent& e, const std::vector<std::string>& names) {
  auto nm = [&](std::uint32_t id) {
    if (id == kNoTask || id == kNone) return std::string("idle");
    return id < names.size() && !names[id].empty() ? names[id] : "task " + std::to_string(id);
  };
  char buf[160];
  switch (e.kind) {
    case Ev::SyscallEnter:
      std::snprintf(buf, sizeof buf, "%s enters %s", nm(e.actor).c_str(), std::string(sys_name(Sys(e.a))).c_str());
      return buf;
    case Ev::SyscallExit:
      std::snprintf(buf, sizeof buf, "%s returns %d (%s)", std::string(sys_name(Sys(e.a))).c_str(),
                    int(std::int32_t(e.b)), nm(e.actor).c_str());
      return buf;
    case Ev::CpuMode:
      std::snprintf(buf, sizeof buf, "CPU%d: %s (%s)", e.cpu, std::string(cpu_mode_name(CpuMode(e.a))).c_str(),
                    nm(e.actor).c_str());
      return buf;
    case Ev::TaskState:
      std::snprintf(buf, sizeof buf, "%s: %s -> %s", nm(e.actor).c_str(),
                    std::string(task_state_name(TaskState(e.b))).c_str(),
                    std::string(task_state_name(TaskState(e.a))).c_str());
      return buf;
    case Ev::ContextSwitch:
      std::snprintf(buf, sizeof buf, "CPU%d: %s -> %s%s", e.cpu, nm(e.a).c_str(), nm(e.actor).c_str(),
                    e.b == kSwitchInvoluntary ? " (preempted)" : "");
      return buf;
    case Ev::TryToWakeUp:
      std::snprintf(buf, sizeof buf, "wake %s on CPU%d", nm(e.actor).c_str(), e.cpu);
      return buf;
    case Ev::ProgramLine:
      std::snprintf(buf, sizeof buf, "%s at line %u", nm(e.actor).c_str(), e.a + 1);
      return buf;
    case Ev::PollScan:
      std::snprintf(buf, sizeof buf, "%s scanned %u, %u ready", std::string(sys_name(Sys(e.obj))).c_str(), e.a, e.b);
      return buf;
    case Ev::HardIrq: case Ev::Softirq:
      std::snprintf(buf, sizeof buf, "CPU%d %s", e.cpu, e.a ? "entry" : "exit");
      return buf;
    case Ev::WaitAdd: case Ev::WaitRemove: case Ev::WaitWake: {
      static const char* kinds[] = {"task", "pollwake", "ep_poll_callback", "ep_poll"};
      const std::string who = wait_kind_of(e.a) == WaitKind::EpCallback ? "ep " + std::to_string(e.b) : nm(e.b);
      const std::string owner = (e.obj & kEpWq) ? "ep " + std::to_string(e.obj & ~kEpWq) : "sk " + std::to_string(e.obj);
      std::snprintf(buf, sizeof buf, "%s: %s %s", owner.c_str(), kinds[e.a & 3], who.c_str());
      return buf;
    }
    case Ev::EpitemInsert: case Ev::EpitemRemove: case Ev::EpitemModify: case Ev::RdllistAdd:
    case Ev::RdllistRemove:
      std::snprintf(buf, sizeof buf, "fd %u", e.a);
      return buf;
    case Ev::RbRotate:
      std::snprintf(buf, sizeof buf, "%s about fd %u", e.b ? "right" : "left", e.a);
      return buf;
    case Ev::RbRecolor:
      std::snprintf(buf, sizeof buf, "fd %u -> %s", e.a, e.b ? "black" : "red");
      return buf;
    case Ev::SkbQueue: case Ev::SkbDequeue:
      std::snprintf(buf, sizeof buf, "sk %u, queue %u", e.obj, e.a);
      return buf;
    case Ev::ClientSend: case Ev::ReplySend: case Ev::ReplyRecv: case Ev::RequestFailed:
      std::snprintf(buf, sizeof buf, "conn %u, request %u", e.obj, e.a);
      return buf;
    case Ev::NicRx: case Ev::NicDrop: case Ev::NapiRx:
      std::snprintf(buf, sizeof buf, "conn %u, ring %u", e.obj, e.a);
      return buf;
    case Ev::TaskCreate:
      return nm(e.actor);
    case Ev::SocketCreate:
      return e.a == kNone ? "listener sk " + std::to_string(e.obj) : "conn " + std::to_string(e.a);
    case Ev::EpollCreate:
      return "ep " + std::to_string(e.obj);
    case Ev::FdClose:
      return "fd " + std::to_string(e.obj);
    case Ev::FdInstall:
      return "fd " + std::to_string(e.obj) + (FileKind(e.a) == FileKind::Epoll ? " -> ep " : " -> sk ") + std::to_string(e.b);
    case Ev::ClientConnect:
      return "conn " + std::to_string(e.obj);
    default:
      break;
  }
  (void)tr;
  return "";
}

}  // namespace eps::view
