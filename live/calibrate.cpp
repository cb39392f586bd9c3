// `calibrate` (see calibrate.h): small timed loops of real syscalls, one per model cost.
#include "live/calibrate.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "live/mux.h"
#include "live/sys.h"

namespace eps::live {

namespace {

double now_ns() { return double(sys::mono_ns()); }

// Median over `batches` of the time per operation of `ops` calls of `body`.
double per_op(int batches, int ops, const std::function<void()>& body) {
  std::vector<double> t;
  body();  // warm: first-touch faults, caches
  for (int b = 0; b < batches; b++) {
    const double t0 = now_ns();
    for (int i = 0; i < ops; i++) body();
    t.push_back((now_ns() - t0) / ops);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd, o.fd);
    return *this;
  }
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string(what) + ": " + strerror(errno));
}

// A listening TCP socket on 127.0.0.1 (any port) and N connected pairs (client, server).
struct TcpPairs {
  Fd listener;
  std::vector<Fd> client, server;
  explicit TcpPairs(int n) {
    listener = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    check(listener.fd >= 0, "socket");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    check(::bind(listener.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0, "bind");
    check(::listen(listener.fd, 4096) == 0, "listen");
    socklen_t len = sizeof a;
    getsockname(listener.fd, reinterpret_cast<sockaddr*>(&a), &len);
    for (int i = 0; i < n; i++) {
      client.push_back(connect_one(a));
      if (n <= 512 || i % 256 == 255 || i == n - 1) accept_waiting();  // keep the backlog short
    }
  }
  static Fd connect_one(const sockaddr_in& a) {
    Fd c(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    check(c.fd >= 0, "socket");
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    check(::connect(c.fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0, "connect");
    return c;
  }
  void accept_waiting() {
    while (server.size() < client.size()) {
      int s = ::accept4(listener.fd, nullptr, nullptr, SOCK_CLOEXEC);
      check(s >= 0, "accept4");
      server.emplace_back(s);
    }
  }
};

// One leg of a ping-pong between two threads over two pipes: the main thread writes a byte
// and sleeps in read until the partner answers. Per leg: a write, a read, a wake-up and a
// context switch on the receiving side.
double ping_pong_leg(int cpu_main, int cpu_partner, int rounds, int batches) {
  int ab[2], ba[2];
  check(pipe2(ab, O_CLOEXEC) == 0 && pipe2(ba, O_CLOEXEC) == 0, "pipe2");
  Fd ab0(ab[0]), ab1(ab[1]), ba0(ba[0]), ba1(ba[1]);
  const int total = 1 + rounds * batches;  // per_op's warm-up call, then the batches
  std::thread partner([&] {
    sys::pin_thread(cpu_partner);
    char c;
    for (int i = 0; i < total; i++) {
      if (::read(ab0.fd, &c, 1) != 1) return;
      if (::write(ba1.fd, &c, 1) != 1) return;
    }
  });
  sys::pin_thread(cpu_main);
  char c = 'x';
  double t = 0;
  try {
    t = per_op(batches, rounds, [&] {
      if (::write(ab1.fd, &c, 1) != 1 || ::read(ba0.fd, &c, 1) != 1) throw std::runtime_error("ping-pong pipe");
    });
  } catch (...) {
    ab1 = Fd();  // the partner reads EOF and returns
    partner.join();
    throw;
  }
  partner.join();
  return t / 2;  // a round trip is two legs
}

std::int64_t ns(double v) { return v < 0 ? 0 : std::int64_t(v + 0.5); }

}  // namespace

Calibration calibrate(bool quick) {
  Calibration out;
  const int B = 5;                  // batches (the median is taken)
  const int k = quick ? 10 : 1;     // divides the repetitions
  std::map<std::string, CalibrationLine> got;
  auto put = [&](const char* key, double v, std::string how) { got[key] = {key, ns(v), std::move(how)}; };

  // Run everything on one CPU unless a measurement says otherwise; give the CPUs back after.
  const auto [cpu_a, cpu_b] = sys::two_cpus();  // {-1, -1} on one CPU: nothing to pin
  struct Restore {
    cpu_set_t saved;
    Restore() { sched_getaffinity(0, sizeof saved, &saved); }
    ~Restore() { sched_setaffinity(0, sizeof saved, &saved); }
  } restore;
  sys::pin_thread(cpu_a);

  // syscall entry + exit
  const double sc = per_op(B, 200'000 / k, [] { syscall(SYS_getppid); });
  put("syscall_ns", sc, "getppid(2): entry + exit");

  // a pipe write + read without a switch: the part of a ping-pong leg that is not scheduling
  int p[2];
  check(pipe2(p, O_CLOEXEC) == 0, "pipe2");
  Fd p0(p[0]), p1(p[1]);
  char byte = 'x';
  const double pipe_pair = per_op(B, 100'000 / k, [&] {
    if (::write(p1.fd, &byte, 1) != 1 || ::read(p0.fd, &byte, 1) != 1) throw std::runtime_error("pipe");
  });

  // context switch: both threads on one CPU
  const double leg_same = ping_pong_leg(cpu_a, cpu_a, 20'000 / k, B);
  const double cs = leg_same - pipe_pair;
  put("context_switch_ns", cs, "pipe ping-pong on one CPU, per leg, less a pipe write + read");

  // wake-up of a task on an idle CPU
  if (cpu_b >= 0) {
    // fewer rounds: a leg across CPUs can take tens of microseconds (an idle vCPU halts)
    const double leg_cross = ping_pong_leg(cpu_a, cpu_b, 2'000 / k, B);
    put("wakeup_ns", leg_cross - leg_same, "pipe ping-pong across two CPUs, per leg, less the one-CPU leg");
  } else {
    out.notes.push_back("wakeup_ns: one CPU only, nothing to wake across; kept the default");
  }
  sys::pin_thread(cpu_a);

  // select/poll: per fd per pass, registration included
  {
    const int big = quick ? 300 : 1000, small = 10;
    if (std::string why = sys::ensure_nofile(std::uint64_t(2 * big + 256)); !why.empty()) throw std::runtime_error(why);
    TcpPairs tcp(big);
    check(::send(tcp.client[big - 1].fd, "r", 1, 0) == 1, "send");  // the last server fd is ready
    auto poll_time = [&](int n) {
      std::vector<pollfd> fds(static_cast<std::size_t>(n));
      for (int i = 0; i < n; i++) fds[std::size_t(i)] = {tcp.server[std::size_t(big - n + i)].fd, POLLIN, 0};
      return per_op(B, 300 / k, [&] { ::poll(fds.data(), fds.size(), -1); });
    };
    const double t_big = poll_time(big), t_small = poll_time(small);
    put("poll_fd_ns", (t_big - t_small) / (big - small),
        "poll(2) over N idle TCP sockets, the last one ready: slope in N (" + std::to_string(small) + " to " +
            std::to_string(big) + ")");

    // epoll_wait: base and per event, through the epoll Mux (the one file that includes
    // <sys/epoll.h>); its translation of each event costs a few ns, which is in the figure.
    std::string err;
    std::unique_ptr<Mux> ep = mux_epoll_create(false, 64, err), ep_empty = mux_epoll_create(false, 64, err);
    if (!ep || !ep_empty) throw std::runtime_error(err);
    const int ready = 64;
    for (int i = 0; i < ready; i++) {
      check(::send(tcp.client[std::size_t(i)].fd, "r", 1, 0) == 1, "send");
      // level-triggered: stays ready, so every call returns all 64
      check(ep->add(tcp.server[std::size_t(i)].fd, kReadable) == 0, "epoll_ctl");
    }
    std::vector<MuxEvent> fired;
    fired.reserve(ready);
    for (int spins = 0; spins < 1000 && ep->wait(0, fired) < ready; spins++)  // loopback: at once
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    const double t_empty = per_op(B, 100'000 / k, [&] { ep_empty->wait(0, fired); });
    const double t_full = per_op(B, 20'000 / k, [&] { ep->wait(0, fired); });
    put("epoll_wait_ns", t_empty - sc, "epoll_wait(2), timeout 0, nothing ready, less a syscall");
    put("epoll_event_ns", (t_full - t_empty) / ready,
        "epoll_wait(2), timeout 0, 64 ready (level-triggered), less the empty call, per event");

    // epoll_ctl: ADD then DEL of one socket
    const int fd = tcp.server[std::size_t(big - 2)].fd;
    const double t_ctl = per_op(B, 50'000 / k, [&] {
      ep_empty->add(fd, kReadable);
      ep_empty->del(fd, kReadable);
    });
    put("epoll_ctl_ns", t_ctl / 2 - sc, "epoll_ctl(2) ADD + DEL of one socket, per call, less a syscall");

    // sendto on loopback: transmit and, inside the same call, the receiver's softirq
    int one = 1;
    const int tx_fd = tcp.client[std::size_t(big - 3)].fd, rx_fd = tcp.server[std::size_t(big - 3)].fd;
    setsockopt(tx_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char msg[64] = {};
    char sink[64 * 256];
    std::vector<double> per_send;
    for (int b = 0; b < B + 1; b++) {
      double spent = 0;
      for (int round = 0; round < 40 / k + 1; round++) {
        const double t0 = now_ns();
        for (int i = 0; i < 256; i++) ::send(tx_fd, msg, sizeof msg, 0);
        spent += now_ns() - t0;
        std::size_t left = 256 * sizeof msg;  // drain (not timed), so the window never closes
        while (left > 0) {
          ssize_t r = ::recv(rx_fd, sink, std::min(left, sizeof sink), 0);
          if (r <= 0) break;
          left -= std::size_t(r);
        }
      }
      if (b > 0) per_send.push_back(spent / ((40 / k + 1) * 256.0));  // batch 0 warms
    }
    std::sort(per_send.begin(), per_send.end());
    const double tx_rx = per_send[per_send.size() / 2] - sc;
    put("tx_packet_ns", tx_rx / 2, "send(2) of 64 bytes on loopback TCP, less a syscall: half (transmit)");
    put("softirq_packet_ns", tx_rx / 2,
        "the other half: on loopback the receive softirq runs inside the sender's call");
  }

  // accept4 of connections already in the backlog
  {
    const int n = quick ? 100 : 500;
    TcpPairs tcp(0);
    sockaddr_in a{};
    socklen_t len = sizeof a;
    getsockname(tcp.listener.fd, reinterpret_cast<sockaddr*>(&a), &len);
    std::vector<double> per;
    for (int b = 0; b < B; b++) {
      std::vector<Fd> clients, accepted;
      for (int i = 0; i < n; i++) clients.push_back(TcpPairs::connect_one(a));
      const double t0 = now_ns();
      for (int i = 0; i < n; i++) accepted.emplace_back(::accept4(tcp.listener.fd, nullptr, nullptr, SOCK_CLOEXEC));
      per.push_back((now_ns() - t0) / n);
    }
    std::sort(per.begin(), per.end());
    put("accept_ns", per[per.size() / 2] - sc, "accept4(2) of connections waiting in the backlog, less a syscall");
  }

  // clone: creating a thread (pthread_create's clone3 and stack)
  {
    const int n = 1000 / k;
    std::vector<double> per;
    for (int b = 0; b < B; b++) {
      double spent = 0;
      for (int i = 0; i < n; i++) {
        pthread_t t;
        const double t0 = now_ns();
        if (pthread_create(&t, nullptr, [](void*) -> void* { return nullptr; }, nullptr) != 0) continue;
        spent += now_ns() - t0;
        pthread_join(t, nullptr);
      }
      per.push_back(spent / n);
    }
    std::sort(per.begin(), per.end());
    put("clone_ns", per[per.size() / 2], "pthread_create(3) of a thread that returns at once");
  }

  // copy_to_user / copy_from_user per KiB
  {
    int q[2];
    check(pipe2(q, O_CLOEXEC) == 0, "pipe2");
    Fd q0(q[0]), q1(q[1]);
    std::vector<char> buf(32 * 1024);
    auto pipe_io = [&](std::size_t n) {
      return per_op(B, 20'000 / k, [&] {
        if (::write(q1.fd, buf.data(), n) != ssize_t(n)) throw std::runtime_error("pipe write");
        std::size_t got = 0;
        while (got < n) {
          ssize_t r = ::read(q0.fd, buf.data() + got, n - got);
          if (r <= 0) throw std::runtime_error("pipe read");
          got += std::size_t(r);
        }
      });
    };
    const double big = pipe_io(buf.size()), one = pipe_io(1);
    put("copy_per_kib_ns", (big - one) / (2.0 * 32), "pipe write + read of 32 KiB less of 1 byte, per KiB copied");
  }

  put("irq_ns", double(out.costs.irq_ns), "kept: loopback raises no hard IRQ");
  put("wire_latency_ns", 0, "loopback: no wire between client and server");

  for (std::string_view key : cost_keys()) {
    auto it = got.find(std::string(key));
    if (it == got.end()) continue;  // not measured here (see notes): the default stays
    *cost_field(out.costs, key) = it->second.value;
    out.lines.push_back(it->second);
  }
  return out;
}

std::string calibration_toml(const Calibration& c) {
  std::ostringstream o;
  utsname u{};
  uname(&u);
  char when[32] = "";
  std::time_t now = std::time(nullptr);
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  o << "# The model's costs, measured on " << u.nodename << " (" << sysconf(_SC_NPROCESSORS_ONLN)
    << " CPUs, Linux " << u.release << ") on " << when << " by `epollscope-cli calibrate`.\n"
    << "# Use: epollscope-cli run LESSON --costs THIS_FILE (also compare, versus).\n"
    << "# Each figure is the median of 5 timed batches; a noisy machine gives noisy figures.\n";
  for (const std::string& n : c.notes) o << "# note: " << n << "\n";
  o << "\n[costs]\n";
  std::size_t width = 0;
  for (const CalibrationLine& l : c.lines) width = std::max(width, l.key.size() + 3 + std::to_string(l.value).size());
  for (const CalibrationLine& l : c.lines) {
    std::string kv = l.key + " = " + std::to_string(l.value);
    o << kv << std::string(width - kv.size() + 2, ' ') << "# " << l.how << "\n";
  }
  return o.str();
}

}  // namespace eps::live
