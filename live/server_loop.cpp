// One thread serving every connection: busy-poll, select, poll, epoll, epoll-et. The loop is
// the same for all five; only the way it waits differs (the Mux, one file each):
//
//   for (;;) {
//     n = wait(&fired);                  busy: nothing; select/poll: scan all; epoll: ready only
//     for each fired fd:
//       listening socket -> accept4 until EAGAIN, watch each new fd
//       readable         -> recvfrom; hand whole requests to the protocol; send the replies
//                           (epoll-et: recvfrom again until EAGAIN, or the rest is never heard of)
//       writable         -> send what did not fit before
//   }
//
// Model listings for the same strategies: sim/programs.cpp (kBusyPoll, kSelect, kPoll,
// kEpoll, kEpollEt). What a real loop adds: partial reads (a request may come in pieces),
// pipelining (several in one read), partial writes (the socket buffer is full: wait for
// writability), clients that vanish (EOF, ECONNRESET), and EINTR. And limits (server.h,
// limits.h): at the fd limit it stops watching the listening socket until a connection closes
// (or kAcceptRetryNs has passed); a client's requests wait while its replies have no room;
// a client that takes (almost) none of its waiting replies for output_timeout_ns is closed. Those two
// need a clock: while either is pending, the wait times out every kTickMs and tick() looks.
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "live/mux.h"
#include "live/server.h"

namespace eps::live {

namespace {

constexpr std::size_t kReadSize = 16 * 1024;  // per recvfrom (Redis reads 16 KiB too)
constexpr int kTickMs = 100;                  // the clock of tick(), while it has work

struct Conn {
  Conn(int fd_, Server& s) : fd(fd_), io(s.protocol(), s.totals()) {}
  int fd;
  std::int64_t state = 0;         // the protocol's per-connection state
  ConnBuffers io;                 // requests not run yet, replies not sent yet
  bool want_write = false;        // kWritable is registered (only while replies are unsent)
};

class EventLoop {
 public:
  EventLoop(Server& s, Mux& mux) : s_(s), mux_(mux), lfd_(s.listen_fd()) {}

  void run() {
    if (int e = mux_.add(lfd_, kReadable); e < 0) {
      s_.set_error(std::string("watching the listening socket: ") + strerror(-e));
      return;
    }
    std::vector<MuxEvent> fired;
    while (!s_.stopping()) {
      if (s_.accept_done() && open_ == 0) break;  // every expected client came and went
      int n = wait(fired);
      if (n < 0) {
        if (n == -EINTR) continue;  // a signal: look at the stop flag, then wait again
        s_.set_error(std::string(mux_.name()) + ": " + strerror(-n));
        break;
      }
      for (const MuxEvent& ev : fired) {
        if (ev.fd == lfd_) {
          accept_ready();
          continue;
        }
        // Re-check before each event (as Redis's ae does): an earlier event of this batch
        // may have closed this fd.
        if (Conn* c = conn(ev.fd); c && (ev.mask & kReadable)) readable(*c);
        if (Conn* c = conn(ev.fd); c && (ev.mask & kWritable)) writable(*c);
      }
      if (accept_paused_ || stuck_ > 0) tick();
    }
    for (auto& c : conns_)
      if (c) close_conn(*c);
  }

 private:
  // The wait, or with spin_ns: poll it for up to spin_ns first, and sleep only if nothing
  // came. A sleeper must be woken by the next sender's softirq (ep_poll_callback ->
  // try_to_wake_up, an IPI to an idle CPU), and that cost falls on the sender; a spinner
  // is found running. The kernel does the same for NAPI devices (ep_busy_loop); loopback has
  // no NAPI, so here it is done from user space, and every poll is a counted epoll_wait.
  int wait(std::vector<MuxEvent>& fired) {
    const std::int64_t spin = s_.options().spin_ns;
    if (spin > 0) {
      const std::int64_t until = sys::mono_ns() + spin;
      do {
        if (int n = mux_.wait(0, fired); n != 0) return n;
      } while (sys::mono_ns() < until && !s_.stopping());
    }
    // No timeout unless a timer is pending (tick()).
    return mux_.wait(accept_paused_ || stuck_ > 0 ? kTickMs : -1, fired);
  }

  Conn* conn(int fd) { return std::size_t(fd) < conns_.size() ? conns_[std::size_t(fd)].get() : nullptr; }

  void accept_ready() {
    while (!s_.accept_done()) {
      int fd = sys::accept4(lfd_, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        const int err = errno;
        if (err == EAGAIN) return;  // nobody else is waiting
        switch (accept_failure(err)) {
          case AcceptFailure::Retry: continue;
          case AcceptFailure::OutOfFds: return pause_accept(err);  // they wait in the backlog
          case AcceptFailure::Fatal: break;
        }
        s_.set_error(std::string("accept4: ") + strerror(err));
        mux_.del(lfd_, kReadable);
        return;
      }
      s_.on_accepted();
      if (mux_.add(fd, kReadable) < 0) {  // select: fd >= FD_SETSIZE cannot be watched
        refuse_client(s_, fd, "max number of clients reached: select cannot watch fds past FD_SETSIZE");
        s_.on_refused();
        continue;
      }
      if (std::size_t(fd) >= conns_.size()) conns_.resize(std::size_t(fd) + 1);
      conns_[std::size_t(fd)] = std::make_unique<Conn>(fd, s_);
      open_++;
    }
    mux_.del(lfd_, kReadable);  // everyone expected is in: stop watching the listener
  }

  // accept4 found no free fd. The listening socket stays readable, so watching it would only
  // spin the loop: stop until a connection closes (close_conn) or kAcceptRetryNs passes.
  void pause_accept(int err) {
    s_.on_accept_paused(err);
    mux_.del(lfd_, kReadable);
    accept_paused_ = true;
    accept_retry_at_ = sys::mono_ns() + kAcceptRetryNs;
  }
  void resume_accept() {
    accept_paused_ = false;
    mux_.add(lfd_, kReadable);
  }

  void readable(Conn& c) {
    char buf[kReadSize];
    for (;;) {
      ssize_t r = sys::recvfrom(c.fd, buf, sizeof buf);
      if (r > 0) {
        if (!serve(c, buf, std::size_t(r))) return;  // closed
        // ET: drain to EAGAIN (unless the lesson shows the bug of reading once)
        if (mux_.edge_triggered() && !s_.options().et_read_once) continue;
        return;  // LT: one read per event; if more is queued, the next wait says so
      }
      if (r == 0) return close_conn(c);  // the client closed
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;  // nothing (left) to read
      return close_conn(c);         // ECONNRESET and the like: that client is gone
    }
  }

  // Runs the whole requests (any that waited, then `data`) and sends the replies. False if
  // `c` is closed.
  bool serve(Conn& c, const char* data, std::size_t n) {
    if (!c.io.handle(c.state, data, n)) return hang_up(c);
    if (c.want_write) return true;  // already waiting for room: writable() sends it
    return flush(c);
  }

  // The client broke the protocol or a limit: send the error reply if it fits, then close.
  bool hang_up(Conn& c) {
    if (c.io.over_limit()) s_.on_limit_closed();
    if (flush(c)) close_conn(c);
    return false;
  }

  void writable(Conn& c) { flush(c); }

  // Sends the unsent replies; once they are out, runs the requests that waited for them. On
  // EAGAIN asks to hear when there is room. False if `c` is closed.
  bool flush(Conn& c) {
    for (;;) {
      while (!c.io.unsent().empty()) {
        const std::string_view u = c.io.unsent();
        ssize_t w = sys::sendto(c.fd, u.data(), u.size());
        if (w > 0) {
          c.io.sent(std::size_t(w));  // maybe partial: loop for the rest
          continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) {  // socket buffer full: the client reads slowly
          c.io.socket_full(sys::mono_ns());
          if (!c.want_write && mux_.add(c.fd, kWritable) == 0) {
            c.want_write = true;
            stuck_++;
          }
          return true;
        }
        close_conn(c);  // EPIPE, ECONNRESET: the client is gone
        return false;
      }
      if (!c.io.waiting()) break;
      if (!c.io.handle(c.state, nullptr, 0)) return hang_up(c);
    }
    if (c.want_write) {
      mux_.del(c.fd, kWritable);
      c.want_write = false;
      stuck_--;
    }
    return true;
  }

  // The timers, while one is pending: accept again after kAcceptRetryNs, and close the
  // clients that took (almost) none of their replies for output_timeout_ns.
  void tick() {
    const std::int64_t now = sys::mono_ns();
    if (accept_paused_ && now >= accept_retry_at_) resume_accept();
    if (stuck_ == 0 || now < next_stuck_check_) return;
    next_stuck_check_ = now + std::int64_t(kTickMs) * 1'000'000;
    const std::int64_t timeout = s_.options().limits.output_timeout_ns;
    for (auto& c : conns_) {
      if (c && c->want_write && c->io.stalled_ns(now) >= timeout) {
        s_.on_slow_closed();
        close_conn(*c);
      }
    }
  }

  void close_conn(Conn& c) {
    int fd = c.fd;
    if (c.want_write) stuck_--;
    mux_.del(fd, kReadable | kWritable);  // before close: epoll_ctl needs a live fd
    sys::close(fd);
    conns_[std::size_t(fd)].reset();
    open_--;
    s_.on_closed();
    if (accept_paused_) resume_accept();  // an fd is free now
  }

  Server& s_;
  Mux& mux_;
  int lfd_;
  std::vector<std::unique_ptr<Conn>> conns_;  // by fd
  int open_ = 0;                              // connections being served
  int stuck_ = 0;                             // of them, with replies the socket refused
  bool accept_paused_ = false;                // accept4 found no free fd
  std::int64_t accept_retry_at_ = 0, next_stuck_check_ = 0;
};

}  // namespace

void run_event_loop_server(Server& s, sys::ThreadLog&) {
  std::string error;
  std::unique_ptr<Mux> mux = mux_create(s.options().strategy, s.options().maxevents, error);
  if (!mux) {
    s.set_error(error);
    return;
  }
  EventLoop(s, *mux).run();
}

}  // namespace eps::live
