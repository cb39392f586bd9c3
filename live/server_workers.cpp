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
// A reply the socket has no room for is waited for with poll (bounded), in the worker.
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
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
constexpr int kSlowWriterMs = 1000;  // a client that takes longer to make room is dropped

struct Conn {
  int fd = -1;
  EpollSet* ep = nullptr;     // the instance it is registered in
  std::mutex mu;              // held while a worker reads, handles and replies
  std::int64_t state = 0;     // the protocol's per-connection state
  std::string in, out;        // bytes not yet a whole request; reply bytes
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
      int n = ep->wait(-1, fired, opt_.maxevents);
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
        if (std::shared_ptr<Conn> c = conn(ev.fd)) serve(*c);
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
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno != EAGAIN) s_.set_error(std::string("accept4: ") + strerror(errno));
        break;
      }
      s_.on_accepted();
      auto c = std::make_shared<Conn>();
      c->fd = fd;
      c->ep = &ep;
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
  void serve(Conn& c) {
    std::lock_guard lock(c.mu);
    if (c.closed) return;
    char buf[kReadSize];
    for (;;) {
      ssize_t r = sys::recvfrom(c.fd, buf, sizeof buf);
      if (r > 0) {
        c.in.append(buf, std::size_t(r));
        long used = s_.protocol().handle(c.state, c.in, c.out);
        const bool sent = send_all(c);
        if (used < 0 || !sent) return close_conn(c);
        c.in.erase(0, std::size_t(used));
        if (conn_flags_ & kEdge) continue;
        break;
      }
      if (r == 0) return close_conn(c);  // the client closed
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;        // nothing (left): maybe another worker read it
      return close_conn(c);              // ECONNRESET and the like
    }
    if (conn_flags_ & kOneShot) c.ep->modify(c.fd, conn_flags_);  // re-arm for its next request
  }

  // Sends the replies; a full socket buffer is waited for (poll, bounded). False if the
  // client is gone or too slow.
  bool send_all(Conn& c) {
    std::size_t sent = 0;
    while (sent < c.out.size()) {
      ssize_t w = sys::sendto(c.fd, c.out.data() + sent, c.out.size() - sent);
      if (w > 0) {
        sent += std::size_t(w);
        continue;
      }
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EAGAIN) {
        pollfd p{c.fd, POLLOUT, 0};
        if (sys::poll(&p, 1, kSlowWriterMs) <= 0) return false;
        continue;
      }
      return false;  // EPIPE, ECONNRESET
    }
    c.out.clear();
    return true;
  }

  void close_conn(Conn& c) {
    if (c.closed) return;
    c.closed = true;
    {
      std::lock_guard lock(mu_);
      if (std::size_t(c.fd) < conns_.size() && conns_[std::size_t(c.fd)].get() == &c) conns_[std::size_t(c.fd)].reset();
    }
    c.ep->del(c.fd);  // before close: epoll_ctl needs a live fd
    sys::close(c.fd);
    s_.on_closed();
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
  std::mutex mu_;                              // guards conns_
  std::vector<std::shared_ptr<Conn>> conns_;   // by fd
};

}  // namespace

void run_workers_server(Server& s, sys::ThreadLog&) {
  auto w = std::make_shared<Workers>(s);
  w->run();
}

}  // namespace eps::live
