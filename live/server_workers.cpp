// epoll-shared, epoll-per-thread, reuseport: N worker threads (ServerOptions::threads) running
// the same loop, the model's workers listing (sim/programs.cpp). They differ in what they
// share:
//
//   epoll-shared      one epoll instance; every worker sleeps in epoll_wait on its ep->wq
//   epoll-per-thread  an instance per worker, every instance watching the one listening socket
//                     (with EPOLLEXCLUSIVE if asked: then one or a few wake per connection)
//   reuseport         an instance and a listening socket (SO_REUSEPORT) per worker: the
//                     kernel picks one socket per connection (reuseport_select_sock)
//
// The main thread makes N - 1 workers and becomes worker 0 itself. What many threads add to
// server_loop.cpp's loop: level-triggered, one epoll instance may report a connection to two
// workers at once, so each connection has a lock (the second worker waits, then mostly finds
// nothing: a wake-up for nothing), and the connections live in one table the workers share.
// The limits are server_loop.cpp's (limits.h): a connection's buffers count against the
// server's totals; a reply the socket has no room for waits for EPOLLOUT (the worker moves
// on), and a client that takes (almost) none of it for output_timeout_ns is closed; at the fd
// limit the workers stop watching the listening socket until a connection closes or
// kAcceptRetryNs passes.
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "live/mux.h"
#include "live/server.h"
#include "sim/uapi.h"

namespace eps::live {

namespace {

constexpr std::size_t kReadSize = 16 * 1024;
constexpr int kTickMs = 100;  // how often a worker looks again while accepting is paused

struct Conn {
  Conn(int fd_, EpollSet* ep_, Server& s) : fd(fd_), ep(ep_), io(s.protocol(), s.totals()) {}
  int fd;
  EpollSet* ep;               // the instance it is registered in
  std::mutex mu;              // held while a worker reads, handles and replies
  std::int64_t state = 0;     // the protocol's per-connection state
  ConnBuffers io;             // requests not run yet, replies not sent yet
  bool want_write = false;    // registered for EPOLLOUT: replies wait for room
  bool closed = false;
};

class Workers : public std::enable_shared_from_this<Workers> {
 public:
  // The last worker out closes what is still open (epoll-shared: nobody owns a connection).
  ~Workers() {
    for (auto& c : conns_)
      if (c && !c->closed) {
        c->closed = true;
        sys::close(c->fd);
        s_.on_closed();
      }
  }

  explicit Workers(Server& s) : s_(s), opt_(s.options()) {
    const std::uint32_t f = opt_.epoll_flags;
    conn_flags_ = kReadable | ((f & EPOLLET) ? kEdge : 0) | ((f & EPOLLONESHOT) ? kOneShot : 0);
    listen_flags_ = conn_flags_ | (((f & EPOLLEXCLUSIVE) && opt_.strategy == Strategy::EpollPerThread) ? kExclusive : 0);
  }

  // The main thread: the shared instance (epoll-shared), the other workers, then worker 0.
  void run() {
    if (opt_.strategy == Strategy::EpollShared) {
      std::string err;
      shared_ep_ = epoll_set_create(err);
      if (!shared_ep_) return s_.set_error(err);
      if (int e = shared_ep_->add(s_.listen_fd(), listen_flags_); e < 0)
        return s_.set_error(std::string("epoll_ctl(ADD, listening socket): ") + strerror(-e));
    }
    for (int i = 1; i < std::max(1, opt_.threads); i++) {
      auto* arg = new Arg{shared_from_this(), i};  // the worker deletes it
      int e;
      while ((e = s_.spawn_worker("worker " + std::to_string(i), &Workers::entry, reinterpret_cast<long>(arg))) == EINTR) {
      }
      if (e) {
        delete arg;
        s_.set_error(std::string("pthread_create: ") + strerror(e));
        break;
      }
    }
    worker(0);
  }

 private:
  struct Arg {
    std::shared_ptr<Workers> w;  // the workers outlive whichever thread started them
    int me;
  };
  static void entry(Server&, sys::ThreadLog&, long arg) {
    std::unique_ptr<Arg> a(reinterpret_cast<Arg*>(arg));
    a->w->worker(a->me);
  }

  void worker(int me) {
    const int lfd = s_.listen_fd(opt_.strategy == Strategy::Reuseport ? me : 0);
    std::unique_ptr<EpollSet> own;
    EpollSet* ep = shared_ep_.get();
    if (!ep) {
      std::string err;
      own = epoll_set_create(err);
      if (!own) return s_.set_error(err);
      if (int e = own->add(lfd, listen_flags_); e < 0)
        return s_.set_error(std::string("epoll_ctl(ADD, listening socket): ") + strerror(-e));
      ep = own.get();
    }
    bool watching = true;
    std::vector<MuxEvent> fired;
    while (!s_.stopping()) {
      if (s_.accept_done()) {
        if (watching) ep->del(lfd), watching = false;  // everyone expected is in
        if (s_.open_connections() == 0) break;          // ... and gone
      }
      // Accepting paused for want of an fd: stop watching the listener (it stays readable,
      // so watching it would only spin), and look again on a close or after kAcceptRetryNs.
      const bool paused = paused_until_.load() > 0;
      if (paused && watching) ep->del(lfd), watching = false;
      if (!paused && !watching && !s_.accept_done()) {
        const int e = ep->add(lfd, listen_flags_);  // EEXIST: another worker of the instance did
        watching = e == 0 || e == -EEXIST;
      }
      const bool timers = paused || stuck_.load() > 0;
      int n = ep->wait(timers ? kTickMs : -1, fired, opt_.maxevents);
      if (paused && sys::mono_ns() >= paused_until_.load()) paused_until_.store(0);
      if (stuck_.load() > 0) close_stalled();
      if (n < 0) {
        if (n == -EINTR) continue;  // a signal: look at the stop flag, then wait again
        s_.set_error(std::string("epoll_wait: ") + strerror(-n));
        break;
      }
      for (const MuxEvent& ev : fired) {
        if (ev.fd == lfd) {
          accept_ready(lfd, *ep);
          continue;
        }
        if (std::shared_ptr<Conn> c = conn(ev.fd)) serve(*c, ev.mask);
      }
    }
    // Connections this worker's own instance watched go with it (the shared table keeps
    // the others for their workers).
    if (own) close_all_in(own.get());
  }

  // One accept per event, level-triggered (the next epoll_wait reports the rest); until
  // EAGAIN with EPOLLET. EAGAIN at the first: another worker took the connection.
  void accept_ready(int lfd, EpollSet& ep) {
    for (;;) {
      if (s_.accept_done()) return;
      int fd = sys::accept4(lfd, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        const int err = errno;
        if (err == EAGAIN) break;  // none left, or another worker took it
        switch (accept_failure(err)) {
          case AcceptFailure::Retry: continue;
          case AcceptFailure::OutOfFds:  // they wait in the backlog until an fd is free
            s_.on_accept_paused(err);
            paused_until_.store(sys::mono_ns() + kAcceptRetryNs);
            return;
          case AcceptFailure::Fatal: break;
        }
        s_.set_error(std::string("accept4: ") + strerror(err));
        return;
      }
      s_.on_accepted();
      auto c = std::make_shared<Conn>(fd, &ep, s_);
      {
        std::lock_guard lock(mu_);
        if (std::size_t(fd) >= conns_.size()) conns_.resize(std::size_t(fd) + 1);
        conns_[std::size_t(fd)] = c;
      }
      if (ep.add(fd, conn_flags_) < 0) close_conn(*c);
      if (!(conn_flags_ & kEdge)) break;
    }
    if (listen_flags_ & kOneShot) ep.modify(lfd, listen_flags_);  // re-arm the listener
  }

  std::shared_ptr<Conn> conn(int fd) {
    std::lock_guard lock(mu_);
    return std::size_t(fd) < conns_.size() ? conns_[std::size_t(fd)] : nullptr;
  }

  // Read what is there (edge-triggered: until EAGAIN), answer every whole request.
  void serve(Conn& c, int mask) {
    std::lock_guard lock(c.mu);
    if (c.closed) return;
    if ((mask & kWritable) && !flush(c)) return;
    if (!(mask & kReadable)) return rearm(c);
    char buf[kReadSize];
    for (;;) {
      ssize_t r = sys::recvfrom(c.fd, buf, sizeof buf);
      if (r > 0) {
        if (!c.io.handle(c.state, buf, std::size_t(r))) return hang_up(c);
        if (!flush(c)) return;
        if (conn_flags_ & kEdge) continue;
        break;
      }
      if (r == 0) return close_conn(c);  // the client closed
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;        // nothing (left): maybe another worker read it
      return close_conn(c);              // ECONNRESET and the like
    }
    rearm(c);
  }

  // EPOLLONESHOT: re-arm for the next request (and for room, while replies wait).
  void rearm(Conn& c) {
    if (conn_flags_ & kOneShot) c.ep->modify(c.fd, conn_flags_ | (c.want_write ? kWritable : 0));
  }

  // The client broke the protocol or a limit: send the error reply if it can, then close.
  void hang_up(Conn& c) {
    if (c.io.over_limit()) s_.on_limit_closed();
    if (flush(c)) close_conn(c);
  }

  // Sends the replies, then runs the requests that waited for room. A full socket buffer:
  // ask for EPOLLOUT and move on (the client has output_timeout_ns to take kSmallRoom).
  // False if `c` is closed.
  bool flush(Conn& c) {
    for (;;) {
      while (!c.io.unsent().empty()) {
        const std::string_view u = c.io.unsent();
        ssize_t w = sys::sendto(c.fd, u.data(), u.size());
        if (w > 0) {
          c.io.sent(std::size_t(w));
          continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) {
          c.io.socket_full(sys::mono_ns());
          if (!c.want_write) {
            c.want_write = true;
            stuck_++;
            if (!(conn_flags_ & kOneShot)) c.ep->modify(c.fd, conn_flags_ | kWritable);
          }
          return true;
        }
        close_conn(c);  // EPIPE, ECONNRESET
        return false;
      }
      if (!c.io.waiting()) break;
      if (!c.io.handle(c.state, nullptr, 0)) {
        hang_up(c);
        return false;
      }
    }
    if (c.want_write) {
      c.want_write = false;
      stuck_--;
      if (!(conn_flags_ & kOneShot)) c.ep->modify(c.fd, conn_flags_);
    }
    return true;
  }

  // The clients that took (almost) none of their waiting replies for output_timeout_ns.
  void close_stalled() {
    const std::int64_t now = sys::mono_ns();
    std::int64_t next = next_stall_check_.load();
    if (now < next || !next_stall_check_.compare_exchange_strong(next, now + std::int64_t(kTickMs) * 1'000'000)) return;
    std::vector<std::shared_ptr<Conn>> all;
    {
      std::lock_guard lock(mu_);
      for (auto& c : conns_)
        if (c) all.push_back(c);
    }
    for (auto& c : all) {
      std::unique_lock lock(c->mu, std::try_to_lock);  // one being served is not stalled
      if (!lock || c->closed || !c->want_write) continue;
      if (c->io.stalled_ns(now) >= opt_.limits.output_timeout_ns) {
        s_.on_slow_closed();
        close_conn(*c);
      }
    }
  }

  void close_conn(Conn& c) {
    if (c.closed) return;
    c.closed = true;
    if (c.want_write) stuck_--;
    {
      std::lock_guard lock(mu_);
      if (std::size_t(c.fd) < conns_.size() && conns_[std::size_t(c.fd)].get() == &c) conns_[std::size_t(c.fd)].reset();
    }
    c.ep->del(c.fd);  // before close: epoll_ctl needs a live fd
    sys::close(c.fd);
    s_.on_closed();
    paused_until_.store(0);  // an fd is free now: accept again
  }

  void close_all_in(EpollSet* ep) {
    std::vector<std::shared_ptr<Conn>> mine;
    {
      std::lock_guard lock(mu_);
      for (auto& c : conns_)
        if (c && c->ep == ep) mine.push_back(c);
    }
    for (auto& c : mine) {
      std::lock_guard lock(c->mu);
      close_conn(*c);
    }
  }

  Server& s_;
  const ServerOptions& opt_;
  int conn_flags_ = kReadable, listen_flags_ = kReadable;
  std::unique_ptr<EpollSet> shared_ep_;        // epoll-shared: the one instance
  std::atomic<std::int64_t> paused_until_{0};  // accept4 found no free fd: not before then
  std::atomic<int> stuck_{0};                  // connections whose replies wait for room
  std::atomic<std::int64_t> next_stall_check_{0};
  std::mutex mu_;                              // guards conns_
  std::vector<std::shared_ptr<Conn>> conns_;   // by fd
};

}  // namespace

void run_workers_server(Server& s, sys::ThreadLog&) {
  auto w = std::make_shared<Workers>(s);
  w->run();
}

}  // namespace eps::live
