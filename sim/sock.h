// Sockets (net/ipv4/tcp*.c, net/ipv4/inet_connection_sock.c, net/core/sock.c): connection
// sockets with their receive queue and wait queue, and listening sockets with their accept
// queue. Numbered by socket id (sid): connections first (sid = connection index), then the
// listening sockets. A socket exists before any fd refers to it: a connection waits in its
// listener's accept queue until accept4 installs an fd for it.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "sim/core.h"
#include "sim/sched.h"
#include "sim/wait.h"

namespace eps {

// A first-in first-out queue of socket ids that allocates nothing until used (a std::deque
// allocates its first block at construction: a thousand idle connections would each carry
// one, and the model's hot path would miss the cache on them).
class SidQueue {
 public:
  bool empty() const { return head_ == ids_.size(); }
  std::size_t size() const { return ids_.size() - head_; }
  std::uint32_t front() const { return ids_[head_]; }
  void push_back(std::uint32_t sid) { ids_.push_back(sid); }
  void pop_front() {
    if (++head_ == ids_.size()) ids_.clear(), head_ = 0;  // drained: start again at 0
  }
  std::vector<std::uint32_t> items() const { return {ids_.begin() + std::ptrdiff_t(head_), ids_.end()}; }

 private:
  std::vector<std::uint32_t> ids_;
  std::size_t head_ = 0;
};

struct Socket {
  std::uint32_t sid = 0;
  std::uint32_t conn = kNone;      // the connection, or kNone for a listening socket
  std::uint32_t listener = kNone;  // the listener it arrived on (connections)
  bool established = false;        // the handshake is done: it exists in the kernel
  bool accepted = false;           // accept4 gave it an fd
  bool open = false;               // accepted and not closed
  bool refused = false;            // closed by the program (select: fd >= FD_SETSIZE)
  bool nonblock = false;           // O_NONBLOCK (listener: accept4 says EAGAIN instead of sleeping)
  std::deque<Skb> rxq;             // sk_receive_queue
  SidQueue accept_queue;           // listener: established connections (icsk_accept_queue)
  WaitQueue wq;                    // sk->sk_wq: sk_wait_data, __pollwait, ep_ptable_queue_proc
  bool listening() const { return conn == kNone; }
};

class Sockets {
 public:
  Sockets(Core& k, WaitQueues& wait) : k_(k), wait_(wait) {}

  // The cast: `connections` connection sockets (not yet established) and `listeners`
  // listening sockets, each listener traced as it is created.
  void create(int connections, int listeners);
  Socket& at(std::uint32_t sid) { return socks_[sid]; }
  const Socket& at(std::uint32_t sid) const { return socks_[sid]; }
  std::size_t size() const { return socks_.size(); }
  std::uint32_t listener_sid(int k) const { return first_listener_ + std::uint32_t(k); }
  int listeners() const { return int(socks_.size() - first_listener_); }

  // A connection's handshake completes on listener `l` (tcp_check_req ->
  // inet_csk_reqsk_queue_add): the child socket waits in l's accept queue, and
  // sock_def_readable wakes whoever waits on l (accept4's sleepers, epoll hooks).
  void establish(std::uint32_t conn, std::uint32_t l, std::uint32_t flow, int cpu, bool wake);
  // reuseport_select_sock (net/core/sock_reuseport.c): which of the SO_REUSEPORT group's
  // listeners a new connection goes to, by a hash of its 4-tuple.
  std::uint32_t reuseport_select(std::uint32_t conn, std::uint64_t seed) const;
  // sock_def_readable: wake whoever waits on the socket, with EPOLLIN.
  void sk_data_ready(Socket& s, std::uint32_t flow, int cpu) {
    if (!s.wq.entries.empty()) wait_.wake_up(s.wq, 1, flow, cpu);
  }

 private:
  Core& k_;
  WaitQueues& wait_;
  std::vector<Socket> socks_;  // made once (create): their addresses never change
  std::uint32_t first_listener_ = 0;
};

}  // namespace eps
