// The system calls the server programs make, each as the kernel runs it in the calling
// task's context. Every step that costs time is a co_await; state changes are traced.
#include <algorithm>
#include <cassert>

#include "sim/arrivals.h"
#include "sim/simulation.h"

namespace eps {

namespace {
constexpr int kEBADF = 9;
}

Socket* Simulation::sock(std::uint32_t fd) {
  if (fd < first_conn_fd_) return nullptr;
  std::uint32_t conn = fd - first_conn_fd_;
  return conn < socks_.size() ? socks_[conn].get() : nullptr;
}

const Socket* Simulation::socket_by_fd(std::uint32_t fd) const {
  return const_cast<Simulation*>(this)->sock(fd);
}

// entry_SYSCALL_64 .. do_syscall_64: half the syscall cost on the way in, half on the way out.
Simulation::Burn Simulation::syscall_enter(Task& t, Sys s, std::uint32_t fd) {
  st_.syscalls[std::size_t(s)]++;
  t.in_sys = s;
  emit(Ev::SyscallEnter, t.cpu, t.id, fd, std::uint32_t(s));
  return burn(t, CpuMode::System, sc_.costs.syscall_ns / 2);
}

// After the exit half of the syscall cost (see ExitBurn): back in user mode with a result.
void Simulation::syscall_returned(Task& t, Sys s, std::uint32_t fd, int result) {
  t.in_sys = Sys::None;
  if (s == Sys::Recvfrom && result == -kEAGAIN) st_.eagain++;
  emit(Ev::SyscallExit, t.cpu, t.id, fd, std::uint32_t(s), std::uint32_t(result));
}

// accept4: the connection finished its handshake before the run began; install its fd.
// With no connection left to accept it sleeps on the listening socket (forever, here).
Co<int> Simulation::sys_accept4(Task& t, std::uint32_t conn, bool nonblock) {
  co_await syscall_enter(t, Sys::Accept4, 3);
  int result;
  if (conn == kNone || conn >= socks_.size()) {
    wait_add(listen_->wq, WaitEntry{WaitKind::TaskWake, true, &t});
    co_await block(t);
    result = -kEINVAL;  // not reached in a run: nobody connects later
  } else {
    co_await burn(t, CpuMode::System, sc_.costs.accept_ns);
    socks_[conn]->open = true;
    result = int(socks_[conn]->fd);
  }
  co_await syscall_exit(t, Sys::Accept4, 3, result);
  co_return result;
}

// clone (pthread_create): a new thread of the server, runnable on this CPU.
Co<int> Simulation::sys_clone(Task& t, std::string name, ProgramFn fn) {
  co_await syscall_enter(t, Sys::Clone, kNone);
  co_await burn(t, CpuMode::System, sc_.costs.clone_ns);
  Cpu& c = cpus_[std::size_t(t.cpu)];
  // A new task starts one slice behind (CFS's START_DEBIT): the parent keeps running.
  Task& child = new_task(TaskKind::ServerWorker, std::move(name), t.cpu, std::move(fn),
                         c.min_vruntime + sc_.effective_slice_ns());
  int tid = child.id;
  co_await syscall_exit(t, Sys::Clone, kNone, tid);
  co_return tid;
}

// close: the select program refuses an fd it cannot put in an fd_set.
Co<int> Simulation::sys_close(Task& t, std::uint32_t fd) {
  co_await syscall_enter(t, Sys::Close, fd);
  Socket* s = sock(fd);
  int result = -kEBADF;
  if (s && s->open) {
    s->open = false;
    s->refused = true;
    emit(Ev::FdClose, t.cpu, t.id, fd, 1);
    // What already waits in its queue is answered with a reset; a client that got one sends
    // no more. One that has sent nothing yet learns of the close from its first request.
    Client& cl = clients_[s->conn];
    bool reset = false;
    for (const Skb& skb : s->rxq) {
      if (cl.state[skb.req] != 0) continue;
      cl.state[skb.req] = 3;
      outstanding_--;
      st_.fail(FailReason::Refused);
      emit(Ev::RequestFailed, t.cpu, t.id, s->conn, skb.req, std::uint32_t(FailReason::Refused), skb.flow);
      reset = true;
    }
    s->rxq.clear();
    if (reset && !cl.finished_sending) { cl.finished_sending = true; clients_sending_--; }
    result = 0;
  }
  co_await syscall_exit(t, Sys::Close, fd, result);
  maybe_finish();
  co_return result;
}

// recvfrom -> tcp_recvmsg: take one request off sk_receive_queue. Empty queue: EAGAIN for a
// non-blocking socket, else sk_wait_data puts the task on the socket's wait queue and sleeps.
Co<Simulation::Recv> Simulation::sys_recvfrom(Task& t, std::uint32_t fd, bool nonblock) {
  co_await syscall_enter(t, Sys::Recvfrom, fd);
  Recv r;
  Socket* s = sock(fd);
  if (!s || !s->open) {
    r.result = -kEBADF;
  } else {
    for (;;) {
      if (!s->rxq.empty()) {
        r.skb = s->rxq.front();
        s->rxq.pop_front();
        emit(Ev::SkbDequeue, t.cpu, t.id, fd, std::uint32_t(s->rxq.size()), 0, r.skb.flow);
        co_await burn(t, CpuMode::System, copy_cost(r.skb.bytes));  // skb_copy_datagram_msg
        r.result = int(r.skb.bytes);
        break;
      }
      if (nonblock) {
        r.result = -kEAGAIN;  // counted when the call returns (syscall_exit)
        break;
      }
      wait_add(s->wq, WaitEntry{WaitKind::TaskWake, false, &t});  // sk_wait_data
      co_await block(t);
    }
  }
  co_await syscall_exit(t, Sys::Recvfrom, fd, r.result);
  co_return r;
}

// sendto -> tcp_sendmsg: copy the reply in and transmit it; it reaches the client after the
// wire's latency. (The transmit path costs time, but no TX interrupt is modelled.)
Co<int> Simulation::sys_sendto(Task& t, std::uint32_t fd, const Skb& request) {
  co_await syscall_enter(t, Sys::Sendto, fd);
  co_await burn(t, CpuMode::System,
                sc_.costs.tx_packet_ns + copy_cost(std::uint64_t(sc_.reply_bytes)));
  q_.push(now() + sc_.costs.wire_latency_ns, kReplyArrive, request.conn,
          (std::uint64_t(request.req) << 32) | request.flow);
  emit(Ev::ReplySend, t.cpu, t.id, request.conn, request.req, 0, request.flow);
  co_await syscall_exit(t, Sys::Sendto, fd, sc_.reply_bytes);
  co_return sc_.reply_bytes;
}

Co<void> Simulation::user_work(Task& t, const Skb& request) {
  SimTime ns = sc_.work_us * 1000;
  emit(Ev::UserWork, t.cpu, t.id, kNone, request.conn, std::uint32_t(ns), request.flow);
  co_await burn(t, CpuMode::User, ns);
}

// One pass of do_select / do_poll over every fd: vfs_poll on each (cost paid by the caller
// before this step). On the first pass each fd's wait queue gets a __pollwait entry until
// the first ready fd is found (then wait->_qproc is cleared, as do_select does).
int Simulation::do_poll_pass(Task& t, const std::vector<std::uint32_t>& fds,
                             std::vector<std::uint32_t>& ready, PollTable* pt, bool register_entries) {
  ready.clear();
  for (std::uint32_t fd : fds) {
    st_.fds_scanned++;
    Socket* s = sock(fd);
    if (!s || !s->open) continue;
    if (register_entries && ready.empty()) {
      wait_add(s->wq, WaitEntry{WaitKind::PollWake, false, &t, nullptr, pt});
      pt->registered.push_back(s);
    }
    if (!s->rxq.empty()) ready.push_back(fd);
  }
  return int(ready.size());
}

namespace {
// do_select and do_sys_poll share this loop; they differ in what is copied in and out.
struct PollCall {
  Sys sys;
  std::uint64_t copy_in_bytes, copy_out_bytes;
};
}  // namespace

static Co<int> poll_loop(Simulation& s, Task& t, PollCall call, const std::vector<std::uint32_t>& fds,
                         std::vector<std::uint32_t>& ready, const Costs& costs) {
  co_await s.syscall_enter(t, call.sys, kNone);
  co_await s.burn(t, CpuMode::System, s.copy_cost(call.copy_in_bytes));
  PollTable pt;
  pt.task = &t;
  bool first = true;
  int n = 0;
  for (;;) {
    co_await s.burn(t, CpuMode::System, SimTime(fds.size()) * costs.poll_fd_ns);
    n = s.do_poll_pass(t, fds, ready, &pt, first);
    s.trace_scan(t, call.sys, std::uint32_t(fds.size()), std::uint32_t(n));
    first = false;
    if (n > 0) break;
    if (pt.triggered) { pt.triggered = false; continue; }  // woken during the pass: rescan
    co_await s.block(t);  // poll_schedule_timeout
    pt.triggered = false;
  }
  // poll_freewait: take every registration off its wait queue again.
  for (Socket* sk : pt.registered) s.wait_remove(sk->wq, WaitKind::PollWake, &t);
  co_await s.burn(t, CpuMode::System, s.copy_cost(call.copy_out_bytes));
  co_await s.syscall_exit(t, call.sys, kNone, n);
  co_return n;
}

// select: three fd_set bitmaps of maxfd+1 bits copied in and out. An fd >= FD_SETSIZE cannot
// be in an fd_set at all (glibc's FD_SET would write past it): refused with EINVAL.
Co<int> Simulation::sys_select(Task& t, const std::vector<std::uint32_t>& fds,
                               std::vector<std::uint32_t>& ready) {
  std::uint32_t maxfd = 0;
  for (std::uint32_t fd : fds) maxfd = std::max(maxfd, fd);
  if (maxfd >= std::uint32_t(FD_SETSIZE_)) {
    co_await syscall_enter(t, Sys::Select, kNone);
    co_await syscall_exit(t, Sys::Select, kNone, -kEINVAL);
    co_return -kEINVAL;
  }
  std::uint64_t bitmap_bytes = 3 * ((maxfd + 1 + 63) / 64) * 8;
  co_return co_await poll_loop(*this, t, PollCall{Sys::Select, bitmap_bytes, bitmap_bytes}, fds,
                               ready, sc_.costs);
}

// poll: an array of struct pollfd (8 bytes each) copied in, revents copied back.
Co<int> Simulation::sys_poll(Task& t, const std::vector<std::uint32_t>& fds,
                             std::vector<std::uint32_t>& ready) {
  std::uint64_t bytes = 8 * fds.size();
  co_return co_await poll_loop(*this, t, PollCall{Sys::Poll, bytes, bytes}, fds, ready, sc_.costs);
}

// ---- epoll ----------------------------------------------------------------------------------

// Tells the trace about every rotation and recolour while epoll's tree changes.
struct RbTraceObserver : RbTree::Observer {
  Simulation* s;
  std::uint32_t epfd;
  int cpu;
  RbTraceObserver(Simulation* sim, std::uint32_t e, int c) : s(sim), epfd(e), cpu(c) {}
  void on_rotate(const RbKey& pivot, bool right) override {
    s->emit(Ev::RbRotate, cpu, kNoTask, epfd, std::uint32_t(pivot.fd), right ? 1u : 0u);
  }
  void on_recolor(const RbKey& node, bool black) override {
    s->emit(Ev::RbRecolor, cpu, kNoTask, epfd, std::uint32_t(node.fd), black ? 1u : 0u);
  }
};

// epoll_create1 -> ep_alloc: the mutex, ep->wq, rdllist and the empty tree rbr.
Co<int> Simulation::sys_epoll_create1(Task& t) {
  co_await syscall_enter(t, Sys::EpollCreate1, kNone);
  ep_ = std::make_unique<EventPoll>();
  ep_->epfd = next_fd_++;
  ep_->wq.owner_fd = ep_->epfd;
  emit(Ev::EpollCreate, t.cpu, t.id, ep_->epfd);
  co_await syscall_exit(t, Sys::EpollCreate1, kNone, int(ep_->epfd));
  co_return int(ep_->epfd);
}

Co<int> Simulation::sys_epoll_ctl(Task& t, std::uint32_t epfd, int op, std::uint32_t fd,
                                  std::uint32_t events) {
  co_await syscall_enter(t, Sys::EpollCtl, fd);
  co_await burn(t, CpuMode::System, sc_.costs.epoll_ctl_ns);
  int result = 0;
  Socket* s = sock(fd);
  if (!ep_ || epfd != ep_->epfd || !s || !s->open) {
    result = -kEBADF;
  } else {
    EventPoll& ep = *ep_;
    RbKey key{fd, std::int32_t(fd)};  // (struct file *, fd): one file per fd here
    RbTraceObserver obs(this, epfd, t.cpu);
    bool exists = ep.rbr.contains(key);  // ep_find
    if (op == EPOLL_CTL_ADD) {
      if (exists) {
        result = -kEEXIST;
      } else {
        // ep_insert: a new epitem in the tree; ep_ptable_queue_proc hooks ep_poll_callback
        // into the socket's wait queue; an fd that is already readable goes on rdllist now.
        if (ep.items.size() <= fd) ep.items.resize(fd + 1);
        ep.items[fd] = std::make_unique<EpItem>();
        EpItem& epi = *ep.items[fd];
        epi.ep = &ep;
        epi.fd = fd;
        epi.events = events | EPOLLERR | EPOLLHUP;  // always watched
        emit(Ev::EpitemInsert, t.cpu, t.id, epfd, fd, epi.events);
        ep.rbr.insert(key, &obs);
        wait_add(s->wq, WaitEntry{WaitKind::EpCallback, false, nullptr, &epi});
        if (!s->rxq.empty() && (epi.events & EPOLLIN)) {
          rdllist_add(ep, epi, kNone);
          if (!ep.wq.entries.empty()) wake_up(ep.wq, 1, kNone);
        }
      }
    } else if (op == EPOLL_CTL_MOD) {
      if (!exists) {
        result = -kENOENT;
      } else {
        // ep_modify: new mask (re-arms an EPOLLONESHOT item); re-check readiness now.
        EpItem& epi = *ep.item(fd);
        epi.events = events | EPOLLERR | EPOLLHUP;
        emit(Ev::EpitemModify, t.cpu, t.id, epfd, fd, epi.events);
        if (!s->rxq.empty() && (epi.events & EPOLLIN) && !epi.on_rdllist) {
          rdllist_add(ep, epi, kNone);
          if (!ep.wq.entries.empty()) wake_up(ep.wq, 1, kNone);
        }
      }
    } else if (op == EPOLL_CTL_DEL) {
      if (!exists) {
        result = -kENOENT;
      } else {
        // ep_remove: unhook the callback, unlink from rdllist, erase from the tree.
        EpItem* epi = ep.item(fd);
        wait_remove(s->wq, WaitKind::EpCallback, epi);
        if (epi->on_rdllist) {
          ep.rdllist.erase(std::find(ep.rdllist.begin(), ep.rdllist.end(), epi));
          epi->on_rdllist = false;
          emit(Ev::RdllistRemove, t.cpu, t.id, epfd, fd, std::uint32_t(ep.rdllist.size()));
        }
        emit(Ev::EpitemRemove, t.cpu, t.id, epfd, fd);
        ep.rbr.erase(key, &obs);
        ep.items[fd].reset();
      }
    } else {
      result = -kEINVAL;
    }
  }
  co_await syscall_exit(t, Sys::EpollCtl, fd, result);
  co_return result;
}

// ep_send_events: take the ready list, re-poll each item (ep_item_poll), report the ready
// ones. Level-triggered items go back on rdllist so the next epoll_wait checks them again;
// edge-triggered ones do not; EPOLLONESHOT ones are disarmed. Items past maxevents stay.
int Simulation::ep_send_events(EventPoll& ep, std::vector<std::uint32_t>& ready, int maxevents,
                               int& examined) {
  ready.clear();
  examined = 0;
  std::deque<EpItem*>& txlist = txlist_;
  txlist.clear();
  txlist.swap(ep.rdllist);
  while (!txlist.empty() && int(ready.size()) < maxevents) {
    EpItem* epi = txlist.front();
    txlist.pop_front();
    epi->on_rdllist = false;
    examined++;
    st_.fds_scanned++;
    emit(Ev::RdllistRemove, 0, kNoTask, ep.epfd, epi->fd,
         std::uint32_t(txlist.size() + ep.rdllist.size()));
    Socket* s = sock(epi->fd);
    bool readable = s && !s->rxq.empty() && (epi->events & EPOLLIN);
    if (!readable) continue;  // not ready any more: dropped from the list
    ready.push_back(epi->fd);
    if (epi->events & EPOLLONESHOT) {
      epi->events &= ~(EPOLLIN | EPOLLONESHOT | EPOLLET);  // until EPOLL_CTL_MOD
    } else if (!(epi->events & EPOLLET)) {
      epi->on_rdllist = true;  // level-triggered: back on the list for the next call
      ep.rdllist.push_back(epi);
      emit(Ev::RdllistAdd, 0, kNoTask, ep.epfd, epi->fd,
           std::uint32_t(txlist.size() + ep.rdllist.size()));
    }
  }
  // ep_done_scan: what was not reached goes back at the head, in its order.
  for (auto it = txlist.rbegin(); it != txlist.rend(); ++it) ep.rdllist.push_front(*it);
  return int(ready.size());
}

// epoll_wait -> ep_poll: nothing ready -> sleep on ep->wq as an exclusive waiter.
Co<int> Simulation::sys_epoll_wait(Task& t, std::uint32_t epfd, std::vector<std::uint32_t>& ready,
                                   int maxevents) {
  co_await syscall_enter(t, Sys::EpollWait, epfd);
  co_await burn(t, CpuMode::System, sc_.costs.epoll_wait_ns);
  int n = 0;
  if (!ep_ || ep_->epfd != epfd) {
    n = -kEBADF;
  } else {
    EventPoll& ep = *ep_;
    for (;;) {
      if (!ep.rdllist.empty()) {
        int examined = 0;
        n = ep_send_events(ep, ready, maxevents, examined);
        trace_scan(t, Sys::EpollWait, std::uint32_t(examined), std::uint32_t(n));
        co_await burn(t, CpuMode::System,
                      examined * sc_.costs.epoll_event_ns + copy_cost(std::uint64_t(n) * 12));
        if (n > 0) break;
        continue;  // everything on the list had gone stale: look again
      }
      wait_add(ep.wq, WaitEntry{WaitKind::EpWait, true, &t});
      co_await block(t);
    }
  }
  co_await syscall_exit(t, Sys::EpollWait, epfd, n);
  co_return n;
}

}  // namespace eps
