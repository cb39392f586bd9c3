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
// writability), clients that vanish (EOF, ECONNRESET), and EINTR.
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

// A client that does not read its replies may not make us hold unbounded memory for it
// (Redis: client-output-buffer-limit). Past this, it is disconnected.
constexpr std::size_t kMaxPendingReply = 64u << 20;
constexpr std::size_t kReadSize = 16 * 1024;  // per recvfrom (Redis reads 16 KiB too)

struct Conn {
  int fd = -1;
  std::int64_t state = 0;     // the protocol's per-connection state
  std::string in;             // received bytes that are not a whole request yet
  std::string out;            // reply bytes the socket had no room for
  std::size_t out_sent = 0;   // of `out`, already sent
  bool want_write = false;    // kWritable is registered (only while `out` is pending)
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
    return mux_.wait(-1, fired);
  }

  Conn* conn(int fd) { return std::size_t(fd) < conns_.size() ? conns_[std::size_t(fd)].get() : nullptr; }

  void accept_ready() {
    while (!s_.accept_done()) {
      int fd = sys::accept4(lfd_, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno != EAGAIN) s_.set_error(std::string("accept4: ") + strerror(errno));
        return;  // EAGAIN: nobody else is waiting; EMFILE etc.: try again on the next event
      }
      s_.on_accepted();
      if (mux_.add(fd, kReadable) < 0) {  // select: fd >= FD_SETSIZE cannot be watched
        sys::close(fd);
        s_.on_refused();
        continue;
      }
      if (std::size_t(fd) >= conns_.size()) conns_.resize(std::size_t(fd) + 1);
      conns_[std::size_t(fd)] = std::make_unique<Conn>();
      conns_[std::size_t(fd)]->fd = fd;
      open_++;
    }
    mux_.del(lfd_, kReadable);  // everyone expected is in: stop watching the listener
  }

  void readable(Conn& c) {
    char buf[kReadSize];
    for (;;) {
      ssize_t r = sys::recvfrom(c.fd, buf, sizeof buf);
      if (r > 0) {
        if (!consume(c, buf, std::size_t(r))) return;  // closed
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

  // Hands the whole requests to the protocol and sends the replies. False if `c` is closed.
  bool consume(Conn& c, const char* data, std::size_t n) {
    std::string_view view;
    if (c.in.empty()) {
      view = std::string_view(data, n);  // the common case: no leftover, parse in place
    } else {
      c.in.append(data, n);
      view = c.in;
    }
    long used = s_.protocol().handle(c.state, view, c.out);
    if (used < 0) {  // protocol error: send the error reply if it fits, then hang up
      if (flush(c)) close_conn(c);
      return false;
    }
    if (c.in.empty()) c.in.assign(data + used, n - std::size_t(used));
    else c.in.erase(0, std::size_t(used));
    if (c.out.size() - c.out_sent > kMaxPendingReply) {
      s_.on_slow_closed();
      close_conn(c);
      return false;
    }
    if (c.want_write) return true;  // already waiting for room: writable() sends it
    return flush(c);
  }

  void writable(Conn& c) { flush(c); }

  // Sends pending reply bytes; on EAGAIN asks to hear when there is room. False if closed.
  bool flush(Conn& c) {
    while (c.out_sent < c.out.size()) {
      ssize_t w = sys::sendto(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent);
      if (w > 0) {
        c.out_sent += std::size_t(w);  // maybe partial: loop for the rest
        continue;
      }
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EAGAIN) {  // socket buffer full: the client reads slowly
        if (!c.want_write && mux_.add(c.fd, kWritable) == 0) c.want_write = true;
        return true;
      }
      close_conn(c);  // EPIPE, ECONNRESET: the client is gone
      return false;
    }
    c.out.clear();
    c.out_sent = 0;
    if (c.want_write) {
      mux_.del(c.fd, kWritable);
      c.want_write = false;
    }
    return true;
  }

  void close_conn(Conn& c) {
    int fd = c.fd;
    mux_.del(fd, kReadable | kWritable);  // before close: epoll_ctl needs a live fd
    sys::close(fd);
    conns_[std::size_t(fd)].reset();
    open_--;
    s_.on_closed();
  }

  Server& s_;
  Mux& mux_;
  int lfd_;
  std::vector<std::unique_ptr<Conn>> conns_;  // by fd
  int open_ = 0;                              // connections being served
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
