// epoll, as Linux 6.1's fs/eventpoll.c does it: any number of instances, each with its
// red-black tree of epitems (rbr), its ready list (rdllist) and the wait queue of the tasks in
// epoll_wait (ep->wq). A watched file's wait queue holds one ep_poll_callback hook per
// instance that watches it, so one packet can notify several instances.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "sim/co.h"
#include "sim/core.h"
#include "sim/fdtable.h"
#include "sim/rbtree.h"
#include "sim/sched.h"
#include "sim/sock.h"
#include "sim/uapi.h"
#include "sim/wait.h"

namespace eps {

struct EventPoll;

struct EpItem {              // struct epitem
  EventPoll* ep = nullptr;
  int fd = 0;                // the key's fd (the file is the socket it referred to at ADD)
  std::uint32_t sid = 0;     // that socket
  std::uint32_t events = 0;  // requested mask; EPOLLONESHOT leaves only EP_PRIVATE_BITS
  bool on_rdllist = false;   // ep_is_linked(&epi->rdllink)
};

struct EventPoll {           // struct eventpoll
  std::uint32_t eid = 0;
  RbTree rbr;                // every watched (file, fd): ep_find / ep_insert / ep_remove
  std::deque<EpItem*> rdllist;  // ready items, in ep_poll_callback order
  WaitQueue wq;              // ep->wq: tasks in epoll_wait (exclusive waiters)
  std::vector<std::unique_ptr<EpItem>> items;  // by fd (sparse)
  EpItem* item(int fd) const {
    return fd >= 0 && std::size_t(fd) < items.size() ? items[std::size_t(fd)].get() : nullptr;
  }
};

using Fds = std::vector<int>;

class Epoll {
 public:
  Epoll(Core& k, Scheduler& sched, WaitQueues& wait, FdTable& files, Sockets& socks)
      : k_(k), sched_(sched), wait_(wait), files_(files), socks_(socks) {}

  // ep_poll_callback: the watched file is readable. Returns what the kernel's does (ewake):
  // whether this entry counts as an exclusive wake-up in __wake_up_common's walk.
  bool ep_poll_callback(EpItem& epi, std::uint32_t flow, int cpu);

  Co<int> epoll_create1(Task& t);
  Co<int> epoll_ctl(Task& t, int epfd, int op, int fd, std::uint32_t events);
  Co<int> epoll_wait(Task& t, int epfd, Fds& ready, int maxevents);

  const std::vector<std::unique_ptr<EventPoll>>& instances() const { return eps_; }

 private:
  EventPoll* instance(int epfd);
  void rdllist_add(EventPoll& ep, EpItem& epi, std::uint32_t flow, int cpu);
  int ep_send_events(EventPoll& ep, Fds& ready, int maxevents, int& examined, int cpu);

  Core& k_;
  Scheduler& sched_;
  WaitQueues& wait_;
  FdTable& files_;
  Sockets& socks_;
  std::vector<std::unique_ptr<EventPoll>> eps_;  // by eid
  std::deque<EpItem*> txlist_;                   // ep_send_events' txlist (storage reused)
};

// tcp_poll's answer for EPOLLIN: data queued, or (a listener) a connection to accept.
inline bool sock_readable(const Socket& s) {
  return s.listening() ? !s.accept_queue.empty() : !s.rxq.empty();
}

}  // namespace eps
