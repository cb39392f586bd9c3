// epoll (fs/eventpoll.c of Linux 6.1): epoll_create1 -> ep_alloc, epoll_ctl -> ep_insert /
// ep_modify / ep_remove, ep_poll_callback, and epoll_wait -> ep_poll -> ep_send_events.
// docs/kernel.md §2 tells the same story.
#include "sim/eventpoll.h"

#include <algorithm>

namespace eps {

namespace {

// Tells the trace about every rotation and recolour while an epoll tree changes.
struct RbTraceObserver : RbTree::Observer {
  Core& k;
  std::uint32_t eid;
  int cpu;
  RbTraceObserver(Core& core, std::uint32_t e, int c) : k(core), eid(e), cpu(c) {}
  void on_rotate(const RbKey& pivot, bool right) override {
    k.emit(Ev::RbRotate, cpu, kNoTask, eid, std::uint32_t(pivot.fd), right ? 1u : 0u);
  }
  void on_recolor(const RbKey& node, bool black) override {
    k.emit(Ev::RbRecolor, cpu, kNoTask, eid, std::uint32_t(node.fd), black ? 1u : 0u);
  }
};

}  // namespace

EventPoll* Epoll::instance(int epfd) {
  const File* f = files_.get(epfd);
  return f && f->kind == FileKind::Epoll ? eps_[f->id].get() : nullptr;
}

void Epoll::rdllist_add(EventPoll& ep, EpItem& epi, std::uint32_t flow, int cpu) {
  epi.on_rdllist = true;
  ep.rdllist.push_back(&epi);
  k_.emit(Ev::RdllistAdd, cpu, kNoTask, ep.eid, std::uint32_t(epi.fd), std::uint32_t(ep.rdllist.size()), flow);
}

// ep_poll_callback: link the epitem on rdllist if it is not there yet, and wake one task
// sleeping in epoll_wait on this instance. With EPOLLEXCLUSIVE the hook sits at the tail of
// the file's wait queue as an exclusive entry, and it reports a wake-up (ewake) only if a task
// really waited on this instance: so the file's walk goes on to the next instance until one
// with a sleeper is found, instead of waking every instance's thread (the herd).
bool Epoll::ep_poll_callback(EpItem& epi, std::uint32_t flow, int cpu) {
  bool ewake = false;
  EventPoll& ep = *epi.ep;
  // Disarmed (EPOLLONESHOT left only EP_PRIVATE_BITS), or not watching EPOLLIN.
  if ((epi.events & ~EP_PRIVATE_BITS) && (epi.events & EPOLLIN)) {
    if (!epi.on_rdllist) rdllist_add(ep, epi, flow, cpu);
    if (!ep.wq.entries.empty()) {
      if (epi.events & EPOLLEXCLUSIVE) ewake = true;
      wait_.wake_up(ep.wq, 1, flow, cpu);
    }
  }
  if (!(epi.events & EPOLLEXCLUSIVE)) ewake = true;
  return ewake;
}

// epoll_create1 -> ep_alloc: the mutex, ep->wq, rdllist and the empty tree rbr; and an fd.
Co<int> Epoll::epoll_create1(Task& t) {
  co_await sched_.syscall_enter(t, Sys::EpollCreate1, kNone);
  auto ep = std::make_unique<EventPoll>();
  ep->eid = std::uint32_t(eps_.size());
  ep->wq.id = kEpWq | ep->eid;
  k_.emit(Ev::EpollCreate, t.cpu, t.id, ep->eid);
  eps_.push_back(std::move(ep));
  const int fd = files_.install(File{FileKind::Epoll, eps_.back()->eid}, t.cpu, t.id);
  co_await sched_.syscall_exit(t, Sys::EpollCreate1, kNone, fd);
  co_return fd;
}

Co<int> Epoll::epoll_ctl(Task& t, int epfd, int op, int fd, std::uint32_t events) {
  co_await sched_.syscall_enter(t, Sys::EpollCtl, std::uint32_t(fd));
  co_await sched_.burn(t, CpuMode::System, k_.sc.costs.epoll_ctl_ns);
  int result = 0;
  EventPoll* epp = instance(epfd);
  const File* tf = files_.get(fd);
  Socket* s = tf && tf->kind == FileKind::Socket ? &socks_.at(tf->id) : nullptr;
  if (!epp || !s || !s->open) {
    result = -kEBADF;
  } else {
    EventPoll& ep = *epp;
    RbKey key{std::uint32_t(fd), fd};  // (struct file *, fd): one file per fd here
    RbTraceObserver obs(k_, ep.eid, t.cpu);
    bool exists = ep.rbr.contains(key);  // ep_find
    if (op == EPOLL_CTL_ADD) {
      if (exists) {
        result = -kEEXIST;
      } else {
        // ep_insert: a new epitem in the tree; ep_ptable_queue_proc hooks ep_poll_callback
        // into the file's wait queue (add_wait_queue, or add_wait_queue_exclusive with
        // EPOLLEXCLUSIVE); a file that is already readable goes on rdllist now.
        if (ep.items.size() <= std::size_t(fd)) ep.items.resize(std::size_t(fd) + 1);
        ep.items[std::size_t(fd)] = std::make_unique<EpItem>();
        EpItem& epi = *ep.items[std::size_t(fd)];
        epi.ep = &ep;
        epi.fd = fd;
        epi.sid = s->sid;
        epi.events = events | EPOLLERR | EPOLLHUP;  // always watched
        k_.emit(Ev::EpitemInsert, t.cpu, t.id, ep.eid, std::uint32_t(fd), epi.events);
        ep.rbr.insert(key, &obs);
        const bool excl = events & EPOLLEXCLUSIVE;
        wait_.add(s->wq, WaitEntry{WaitKind::EpCallback, excl, nullptr, &epi}, excl ? WaitAt::Tail : WaitAt::Head, t.cpu);
        if (sock_readable(*s) && (epi.events & EPOLLIN)) {
          rdllist_add(ep, epi, kNone, t.cpu);
          if (!ep.wq.entries.empty()) wait_.wake_up(ep.wq, 1, kNone, t.cpu);
        }
      }
    } else if (op == EPOLL_CTL_MOD) {
      EpItem* epi = ep.item(fd);
      if (!exists) {
        result = -kENOENT;
      } else if ((events & EPOLLEXCLUSIVE) || (epi->events & EPOLLEXCLUSIVE)) {
        result = -kEINVAL;  // exclusive wake-ups are set at ADD time only
      } else {
        // ep_modify: new mask (re-arms an EPOLLONESHOT item); re-check readiness now.
        epi->events = events | EPOLLERR | EPOLLHUP;
        k_.emit(Ev::EpitemModify, t.cpu, t.id, ep.eid, std::uint32_t(fd), epi->events);
        if (sock_readable(*s) && (epi->events & EPOLLIN) && !epi->on_rdllist) {
          rdllist_add(ep, *epi, kNone, t.cpu);
          if (!ep.wq.entries.empty()) wait_.wake_up(ep.wq, 1, kNone, t.cpu);
        }
      }
    } else if (op == EPOLL_CTL_DEL) {
      if (!exists) {
        result = -kENOENT;
      } else {
        // ep_remove: unhook the callback, unlink from rdllist, erase from the tree.
        EpItem* epi = ep.item(fd);
        wait_.remove(s->wq, WaitKind::EpCallback, epi);
        if (epi->on_rdllist) {
          ep.rdllist.erase(std::find(ep.rdllist.begin(), ep.rdllist.end(), epi));
          epi->on_rdllist = false;
          k_.emit(Ev::RdllistRemove, t.cpu, t.id, ep.eid, std::uint32_t(fd), std::uint32_t(ep.rdllist.size()));
        }
        k_.emit(Ev::EpitemRemove, t.cpu, t.id, ep.eid, std::uint32_t(fd));
        ep.rbr.erase(key, &obs);
        ep.items[std::size_t(fd)].reset();
      }
    } else {
      result = -kEINVAL;
    }
  }
  co_await sched_.syscall_exit(t, Sys::EpollCtl, std::uint32_t(fd), result);
  co_return result;
}

// ep_send_events: take the ready list, re-poll each item (ep_item_poll), report the ready
// ones. Level-triggered items go back on rdllist so the next epoll_wait checks them again;
// edge-triggered ones do not; EPOLLONESHOT ones are disarmed. Items past maxevents stay.
// ep_done_scan then puts back what was not reached and, if the list is not empty, wakes
// another waiter on ep->wq: with several threads on one instance, a level-triggered item
// that one thread was just given wakes a second thread too.
int Epoll::ep_send_events(EventPoll& ep, Fds& ready, int maxevents, int& examined, int cpu) {
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
    k_.emit(Ev::RdllistRemove, cpu, kNoTask, ep.eid, std::uint32_t(epi->fd), std::uint32_t(txlist.size() + ep.rdllist.size()));
    const Socket& s = socks_.at(epi->sid);
    bool readable = sock_readable(s) && (epi->events & EPOLLIN);
    if (!readable) continue;  // not ready any more: dropped from the list
    ready.push_back(epi->fd);
    if (epi->events & EPOLLONESHOT) {
      epi->events &= EP_PRIVATE_BITS;  // disarmed until EPOLL_CTL_MOD
    } else if (!(epi->events & EPOLLET)) {
      epi->on_rdllist = true;  // level-triggered: back on the list for the next call
      ep.rdllist.push_back(epi);
      k_.emit(Ev::RdllistAdd, cpu, kNoTask, ep.eid, std::uint32_t(epi->fd), std::uint32_t(txlist.size() + ep.rdllist.size()));
    }
  }
  // ep_done_scan: what was not reached goes back at the head, in its order.
  for (auto it = txlist.rbegin(); it != txlist.rend(); ++it) ep.rdllist.push_front(*it);
  txlist.clear();
  if (!ep.rdllist.empty() && !ep.wq.entries.empty()) wait_.wake_up(ep.wq, 1, kNone, cpu);
  return int(ready.size());
}

// epoll_wait -> ep_poll: nothing ready -> sleep on ep->wq as an exclusive waiter (at the
// head: __add_wait_queue_exclusive). Woken, it looks again; if another thread took the
// events first, it sleeps again without returning (a wake-up for nothing).
Co<int> Epoll::epoll_wait(Task& t, int epfd, Fds& ready, int maxevents) {
  co_await sched_.syscall_enter(t, Sys::EpollWait, std::uint32_t(epfd));
  co_await sched_.burn(t, CpuMode::System, k_.sc.costs.epoll_wait_ns);
  int n = 0;
  EventPoll* epp = instance(epfd);
  if (!epp) {
    n = -kEBADF;
  } else {
    EventPoll& ep = *epp;
    for (;;) {
      if (!ep.rdllist.empty()) {
        int examined = 0;
        n = ep_send_events(ep, ready, maxevents, examined, t.cpu);
        k_.emit(Ev::PollScan, t.cpu, t.id, std::uint32_t(Sys::EpollWait), std::uint32_t(examined), std::uint32_t(n));
        co_await sched_.burn(t, CpuMode::System,
                             examined * k_.sc.costs.epoll_event_ns + copy_cost(k_.sc, std::uint64_t(n) * 12));
        if (n > 0) break;
        continue;  // everything on the list had gone stale: look again
      }
      wait_.add(ep.wq, WaitEntry{WaitKind::EpWait, true, &t}, WaitAt::Head, t.cpu);
      co_await sched_.block(t);
    }
  }
  co_await sched_.syscall_exit(t, Sys::EpollWait, std::uint32_t(epfd), n);
  co_return n;
}

}  // namespace eps
