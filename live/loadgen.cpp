// The load generator (see loadgen.h).
#include "live/loadgen.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <memory>
#include <queue>
#include <thread>
#include <vector>

#include "live/mux.h"
#include "live/protocol.h"
#include "live/sys.h"
#include "sim/arrivals.h"

namespace eps::live {

namespace {

constexpr std::int64_t kMs = 1'000'000;
// Client sockets are moved up to here, so that the server's own fds stay small numbers (as
// in the model, and within select's FD_SETSIZE): both ends live in this one process.
constexpr int kClientFdBase = 1024 + 64;
// Past this many connections, clients bind to further loopback addresses (127.0.0.2, ...):
// one source address has only ~28k ephemeral ports towards one server port.
constexpr int kConnsPerSourceAddr = 20000;

struct Client {
  int fd = -1;
  const ClientGroup* group = nullptr;
  std::uint32_t index = 0;
  std::unique_ptr<ArrivalStream> arrivals;  // open loop only
  std::deque<std::int64_t> pending;         // scheduled send time of each unanswered request
  std::uint64_t sent = 0;
  std::size_t reply_got = 0;                // bytes of the oldest pending reply received
  std::string out;                          // request bytes not yet accepted by the socket
  std::size_t out_sent = 0;
  bool want_write = false;
  bool hello_sent = false;
  bool sending = false;                     // more sends are scheduled or will be
  std::string dead;                         // why the connection is gone ("" = alive)
  std::int64_t connect_at = -1;             // ns after t0 to connect (-1: before the run)
};

int open_client(int port, std::uint32_t index, std::string& err) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return err = std::string("socket: ") + strerror(errno), -1;
  if (fd < kClientFdBase) {
    int hi = fcntl(fd, F_DUPFD_CLOEXEC, kClientFdBase);
    if (hi >= 0) {
      ::close(fd);
      fd = hi;
    }
  }
  timeval tv{2, 0};  // a connect that cannot complete in 2 s fails ("refused")
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (int extra = int(index) / kConnsPerSourceAddr; extra > 0) {
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(INADDR_LOOPBACK + std::uint32_t(extra));
    ::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(std::uint16_t(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  while (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    if (errno == EINTR) continue;
    err = std::string("connect to 127.0.0.1:") + std::to_string(port) + ": " + strerror(errno);
    ::close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

class Generator {
 public:
  Generator(const Scenario& sc, const LoadOptions& opt)
      : sc_(sc), opt_(opt), reply_bytes_(std::size_t(sc.reply_bytes)) {}

  LoadResult run() {
    sys::pin_thread(opt_.cpu);
    std::string err;
    mux_ = mux_epoll_create(false, 256, err);
    if (!mux_) {
      res_.setup_error = err;
      return std::move(res_);
    }
    grow_fd_table();
    connect_all();
    if (opt_.on_connected) opt_.on_connected();
    wait_for_server();
    loop();
    finish();
    return std::move(res_);
  }

 private:
  void connect_all() {
    std::uint32_t i = 0;
    clients_.reserve(std::size_t(sc_.total_connections()));
    for (const ClientGroup& g : sc_.clients) {
      for (int k = 0; k < g.connections; k++, i++) {
        Client c;
        c.group = &g;
        c.index = i;
        if (g.mode == ClientMode::Open) c.arrivals = std::make_unique<ArrivalStream>(sc_.seed, i, g.rate_per_s);
        if (g.connects_during_run()) {
          // The model's clock starts at 0 and sends from start_ms; this one starts at t0,
          // when the first requests may leave: connect at the same distance from it.
          const std::int64_t at = g.connect_at_ms * kMs + std::int64_t(k) * g.connect_gap_us * 1000;
          c.connect_at = std::max<std::int64_t>(0, at - sc_.start_ms * kMs);
        } else {
          connect(c);
        }
        clients_.push_back(std::move(c));
      }
    }
  }

  // Client fds live at kClientFdBase and up. The first fd that high makes the kernel grow the
  // process's fd table (expand_files), and with several threads that waits for an RCU grace
  // period (expand_fdtable: synchronize_rcu), measured at 24 ms here: pay it now, not inside
  // the first connect() of a client that connects during the run.
  void grow_fd_table() {
    const int top = kClientFdBase + sc_.total_connections() + 16;
    int probe = fcntl(0, F_DUPFD_CLOEXEC, top);
    if (probe >= 0) ::close(probe);
  }

  void connect(Client& c) {
    std::string err;
    c.fd = open_client(opt_.port, c.index, err);
    if (c.fd < 0) {
      c.dead = "refused";
      if (res_.setup_error.empty()) res_.setup_error = err;
      return;
    }
    res_.connected++;
    mux_->add(c.fd, kReadable);
    if (std::size_t(c.fd) >= fd_index_.size()) fd_index_.resize(std::size_t(c.fd) + 1, 0);
    fd_index_[std::size_t(c.fd)] = c.index;
  }

  void wait_for_server() {
    if (!opt_.server_ready) return;
    const std::int64_t give_up = sys::mono_ns() + 10'000 * kMs;
    while (!opt_.server_ready() && sys::mono_ns() < give_up)
      std::this_thread::sleep_for(std::chrono::microseconds(100));
  }

  void schedule(std::int64_t t, std::uint32_t i) { timers_.push({t, i}); }

  void loop() {
    t0_ = sys::mono_ns();
    res_.t0_ns = t0_;
    if (opt_.on_start) opt_.on_start(t0_);
    const std::int64_t duration = sc_.duration_ms * kMs;
    const std::int64_t hard_end = t0_ + duration + sc_.drain_ms * kMs;
    // First sends: open loop at the first Poisson arrival, closed loop at i microseconds.
    for (Client& c : clients_) {
      std::int64_t first;
      bool sends;
      if (c.group->mode == ClientMode::Open) {
        first = c.arrivals->next();
        sends = first < duration;
      } else {
        first = std::int64_t(c.index) * 1000;
        sends = first < duration || c.group->requests > 0;
      }
      if (c.connect_at >= 0) {
        connects_.push({t0_ + c.connect_at, c.index});
        first = std::max(first, c.connect_at);  // a request waits for its connection
      }
      if (sends) {
        c.sending = true;
        sending_++;
        schedule(t0_ + first, c.index);
      }
    }
    std::vector<MuxEvent> fired;
    end_ = hard_end;
    for (;;) {
      std::int64_t now = sys::mono_ns();
      if (now >= hard_end) break;
      while (!connects_.empty() && connects_.top().first <= now) {  // connections first:
        Client& c = clients_[connects_.top().second];                  // their requests follow
        connects_.pop();
        connect(c);
      }
      while (!timers_.empty() && timers_.top().first <= now) {
        auto [t, i] = timers_.top();
        timers_.pop();
        send_request(clients_[i], t);
      }
      if (sending_ == 0 && outstanding_ == 0) {
        end_ = now;
        break;
      }
      // Sleep until the next send, but wake a millisecond early and spin the rest: the
      // timeout has only millisecond resolution, and Poisson gaps are often shorter.
      std::int64_t next = timers_.empty() ? hard_end : std::min(timers_.top().first, hard_end);
      if (!connects_.empty()) next = std::min(next, connects_.top().first);
      std::int64_t ms = (next - now) / kMs;
      int n = mux_->wait(ms >= 2 ? int(ms - 1) : 0, fired);
      if (n <= 0) continue;
      now = sys::mono_ns();
      for (const MuxEvent& ev : fired) {
        Client& c = clients_[client_of_fd(ev.fd)];
        if (!c.dead.empty()) continue;
        if (ev.mask & kReadable) read_replies(c, now);
        if (c.dead.empty() && (ev.mask & kWritable)) flush(c);
      }
    }
  }

  std::size_t client_of_fd(int fd) { return fd_index_[std::size_t(fd)]; }

  void fail(const std::string& reason, std::uint64_t n = 1) {
    if (!n) return;
    res_.failed += n;
    res_.failed_by_reason[reason] += n;
  }

  void stop_sending(Client& c) {
    if (!c.sending) return;
    c.sending = false;
    sending_--;
  }

  void send_request(Client& c, std::int64_t scheduled) {
    res_.sent++;
    c.sent++;
    const ClientGroup& g = *c.group;
    if (!c.dead.empty()) {
      fail(c.dead);  // the connection is gone: this request cannot even leave
    } else {
      c.pending.push_back(scheduled);
      outstanding_++;
      if (!c.hello_sent) {
        c.out += FrameProtocol::hello(std::uint32_t(g.request_bytes));
        c.hello_sent = true;
      }
      c.out.append(std::size_t(g.request_bytes), 'q');
      if (!c.want_write) flush(c);
    }
    if (g.mode == ClientMode::Open) {
      std::int64_t t = c.arrivals->next();
      if (t < sc_.duration_ms * kMs) schedule(t0_ + t, c.index);
      else stop_sending(c);
    } else if (!c.dead.empty()) {
      stop_sending(c);
    }
  }

  void flush(Client& c) {
    while (c.out_sent < c.out.size()) {
      ssize_t w = ::send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
      if (w > 0) {
        c.out_sent += std::size_t(w);
        continue;
      }
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EAGAIN) {
        if (!c.want_write) mux_->add(c.fd, kWritable), c.want_write = true;
        return;
      }
      return kill(c, errno == ECONNRESET ? "reset" : "send failed");
    }
    c.out.clear();
    c.out_sent = 0;
    if (c.want_write) mux_->del(c.fd, kWritable), c.want_write = false;
  }

  void read_replies(Client& c, std::int64_t now) {
    char buf[64 * 1024];
    for (;;) {
      ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
      if (r > 0) {
        on_reply_bytes(c, std::size_t(r), now);
        if (std::size_t(r) < sizeof buf) return;
        continue;
      }
      if (r == 0) return kill(c, "closed by server");
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      return kill(c, errno == ECONNRESET ? "reset" : "closed by server");
    }
  }

  void on_reply_bytes(Client& c, std::size_t n, std::int64_t now) {
    while (n > 0 && !c.pending.empty()) {
      std::size_t take = std::min(n, reply_bytes_ - c.reply_got);
      c.reply_got += take;
      n -= take;
      if (c.reply_got < reply_bytes_) break;
      c.reply_got = 0;
      std::int64_t scheduled = c.pending.front();
      c.pending.pop_front();
      outstanding_--;
      res_.completed++;
      res_.latency.add(now - scheduled);
      const ClientGroup& g = *c.group;
      if (g.mode == ClientMode::Closed && c.sending) {
        std::int64_t next = now + g.think_us * 1000;
        bool more = g.requests > 0 ? c.sent < std::uint64_t(g.requests) : next - t0_ < sc_.duration_ms * kMs;
        if (more) schedule(next, c.index);
        else stop_sending(c);
      }
    }
  }

  void kill(Client& c, const std::string& why) {
    c.dead = why;
    mux_->del(c.fd, kReadable | kWritable);
    ::close(c.fd);
    fail(why, c.pending.size());
    outstanding_ -= c.pending.size();
    c.pending.clear();
    if (c.group->mode == ClientMode::Closed) stop_sending(c);
  }

  void finish() {
    res_.end_ns = std::min(end_, sys::mono_ns());
    if (opt_.on_drained) opt_.on_drained();
    for (Client& c : clients_) {
      fail("unanswered", c.pending.size());
      outstanding_ -= c.pending.size();
      c.pending.clear();
      if (c.dead.empty() && c.fd >= 0) ::close(c.fd);  // the server sees EOF and lets go
    }
  }

  const Scenario& sc_;
  const LoadOptions& opt_;
  const std::size_t reply_bytes_;
  std::unique_ptr<Mux> mux_;
  std::vector<Client> clients_;
  std::vector<std::uint32_t> fd_index_;
  using Timer = std::pair<std::int64_t, std::uint32_t>;  // (when, client); ties: lower index
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> connects_;  // during the run
  std::int64_t t0_ = 0, end_ = 0;
  int sending_ = 0;
  std::uint64_t outstanding_ = 0;
  LoadResult res_;
};

}  // namespace

LoadResult run_load(const Scenario& sc, const LoadOptions& opt) { return Generator(sc, opt).run(); }

}  // namespace eps::live
