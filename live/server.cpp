// The parts every live server shares: the listening socket, the threads, stopping, and the
// stats. The loops themselves are in server_blocking.cpp and server_loop.cpp.
#include "live/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <thread>

namespace eps::live {

namespace {

// The signal that breaks a server thread out of a sleeping syscall when it must stop. Its
// handler does nothing and is installed without SA_RESTART, so accept4, recvfrom, select,
// poll and epoll_wait return EINTR and the loop looks at the stop flag.
int wake_signal() { return SIGRTMIN + 3; }

void install_wake_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_handler = [](int) {};
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: sleeping syscalls return EINTR
    sigaction(wake_signal(), &sa, nullptr);
  });
}

}  // namespace

AcceptFailure accept_failure(int err) {
  switch (err) {
    case EMFILE: case ENFILE: case ENOBUFS: case ENOMEM:
      return AcceptFailure::OutOfFds;
    // accept(2): "Linux accept() passes already-pending network errors on the new socket as
    // an error code from accept()"; such a connection is gone, the next one may be fine.
    case EINTR: case EAGAIN: case ECONNABORTED: case EPROTO: case EPERM: case ENETDOWN:
    case ENOPROTOOPT: case EHOSTDOWN: case ENONET: case EHOSTUNREACH: case EOPNOTSUPP: case ENETUNREACH:
      return AcceptFailure::Retry;
    default:
      return AcceptFailure::Fatal;
  }
}

void refuse_client(Server& s, int fd, const char* why) {
  std::string reply;
  s.protocol().error_reply(reply, why);
  if (!reply.empty()) sys::sendto(fd, reply.data(), reply.size());
  sys::close(fd);
}

Server::Server(ServerOptions opt, std::shared_ptr<Protocol> proto)
    : opt_(std::move(opt)), proto_(std::move(proto)), totals_(opt_.limits) {}

void Server::on_closed() {
  open_--;
  closed_cv_.notify_all();  // an accept loop waiting for a free fd (cheap when none waits)
}

void Server::on_accept_paused(int err) {
  if (accept_pauses_.fetch_add(1) > 0) return;
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  const std::string msg = "epollscope server: accept4: " + std::string(strerror(err)) + " with " +
                          std::to_string(open_.load()) + " connections open (RLIMIT_NOFILE " +
                          std::to_string(rl.rlim_cur) +
                          "): not accepting until a connection closes; the others are still "
                          "served (said once)\n";
  (void)!::write(2, msg.data(), msg.size());  // one write: not interleaved with other output
}

void Server::wait_for_close(std::int64_t ns) {
  std::unique_lock lock(close_mu_);
  closed_cv_.wait_for(lock, std::chrono::nanoseconds(ns));
}

Server::~Server() {
  stop();
  // stop() stops asking after 2 s; a thread still busy (a long work_us over many pipelined
  // requests) must still be waited for before its Server goes away.
  // Join outside the lock: a thread may still want it (spawning or reaping a worker).
  for (;;) {
    std::vector<Slot*> left;
    {
      std::lock_guard lock(mu_);
      for (auto& s : slots_)
        if (s->started && !s->joined) left.push_back(s.get());
    }
    if (left.empty()) break;
    for (Slot* s : left) pthread_join(s->tid, nullptr);
    std::lock_guard lock(mu_);
    for (Slot* s : left) s->joined = true;
  }
  if (lfd_ >= 0) ::close(lfd_);
  for (int fd : extra_lfds_) ::close(fd);
}

std::string Server::address() const { return opt_.bind + ":" + std::to_string(port_); }

void Server::set_error(const std::string& e) {
  std::lock_guard lock(mu_);
  if (error_.empty()) error_ = e;
}

std::string Server::start() {
  install_wake_handler();
  if (opt_.t0_ns == 0) opt_.t0_ns = sys::mono_ns();
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(std::uint16_t(opt_.port));
  if (inet_pton(AF_INET, opt_.bind.c_str(), &addr.sin_addr) != 1)
    return "bad bind address '" + opt_.bind + "' (expected an IPv4 address such as 127.0.0.1)";
  // Setup is not part of the program being measured: plain syscalls, not counted. With
  // SO_REUSEPORT every worker has a listening socket of its own on the one port, made here
  // (before any client connects, so that the kernel spreads every connection among them).
  const bool reuseport = opt_.strategy == Strategy::Reuseport;
  const int nlisten = reuseport ? std::max(1, opt_.threads) : 1;
  for (int k = 0; k < nlisten; k++) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::string("socket: ") + strerror(errno);
    (k == 0 ? lfd_ : extra_lfds_.emplace_back()) = fd;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuseport) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    // Accepted sockets inherit TCP_NODELAY: replies leave at once instead of waiting for the
    // ACK of the previous one (Nagle), which would otherwise meet the client's delayed ACK.
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (opt_.strategy == Strategy::Blocking) {
      // A blocking sendto that waits for room longer than kSendWaitNs comes back (short, or
      // EAGAIN), so that a worker can see that its client stopped reading
      // (Limits::output_timeout_ns). Accepted sockets inherit it (sk_clone_lock in
      // net/core/sock.c copies struct sock), so it costs no call per client.
      timeval tv{0, suseconds_t(kSendWaitNs / 1000)};
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    if (k > 0) addr.sin_port = htons(std::uint16_t(port_));  // the first socket's port
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
      return "bind " + address() + ": " + strerror(errno);
    if (::listen(fd, std::max(opt_.accept_limit, 4096)) < 0) return std::string("listen: ") + strerror(errno);
    if (k == 0) {
      socklen_t len = sizeof addr;
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
      port_ = ntohs(addr.sin_port);
    }
    // The non-blocking loops need a non-blocking listening socket (accept until EAGAIN).
    if (strategy_info(opt_.strategy).live != LiveServer::ThreadPerConnection)
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  }

  Slot* main = new_slot(strategy_info(opt_.strategy).threads ? "P (worker 0)" : "P (server)");
  main->fn = [](Server& s, sys::ThreadLog& log, long) {
    switch (strategy_info(s.options().strategy).live) {
      case LiveServer::ThreadPerConnection: run_blocking_server(s, log); break;
      case LiveServer::EventLoop: run_event_loop_server(s, log); break;
      case LiveServer::Workers: run_workers_server(s, log); break;
    }
  };
  int e = pthread_create(&main->tid, nullptr, &Server::thread_main, main);
  if (e) return std::string("pthread_create: ") + strerror(e);
  main->started = true;
  return "";
}

Server::Slot* Server::new_slot(const std::string& name) {
  auto slot = std::make_unique<Slot>();
  slot->server = this;
  slot->log = std::make_unique<sys::ThreadLog>();
  slot->log->name = name;
  slot->log->record = opt_.record_trace;
  slot->log->t0_ns = opt_.t0_ns;
  slot->log->window_end = &window_end_;
  std::lock_guard lock(mu_);
  slot->log->actor = std::uint16_t(std::min<std::size_t>(slots_.size(), kNoTask - 1));
  slots_.push_back(std::move(slot));
  return slots_.back().get();
}

void* Server::thread_main(void* p) {
  Slot& slot = *static_cast<Slot*>(p);
  Server& s = *slot.server;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, wake_signal());
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  if (slot.log->actor == 0) {  // the threads it makes inherit its CPUs
    if (s.opt_.cpu >= 0) sys::pin_thread(s.opt_.cpu);
    else sys::pin_thread_except(s.opt_.avoid_cpu);
  }
  slot.log->tid = int(gettid());
  if (slot.log->actor == 0 && s.opt_.hold) s.released_.wait(false);  // not counted: not serving yet
  sys::rusage_begin(*slot.log);
  sys::attach(slot.log.get());
  slot.fn(s, *slot.log, slot.arg);
  sys::attach(nullptr);
  sys::rusage_end(*slot.log);
  slot.done.store(true);
  return nullptr;
}

int Server::spawn_worker(const std::string& name, void (*fn)(Server&, sys::ThreadLog&, long), long arg) {
  Slot* slot = new_slot(name);
  slot->fn = fn;
  slot->arg = arg;
  unsigned long tid = 0;
  int e = sys::clone_thread(&tid, &Server::thread_main, slot, 256 * 1024);
  std::lock_guard lock(mu_);
  if (e) {
    slot->done.store(true);
    slot->joined = true;  // never ran
    return e;
  }
  slot->tid = pthread_t(tid);
  slot->started = true;
  return 0;
}

void Server::reap_workers() {
  std::lock_guard lock(mu_);
  for (std::size_t i = 1; i < slots_.size(); i++) {
    Slot& s = *slots_[i];
    if (s.started && !s.joined && s.done.load()) {
      pthread_join(s.tid, nullptr);
      s.joined = true;
    }
  }
}

bool Server::main_done() const {
  std::lock_guard lock(mu_);
  return slots_.empty() || slots_[0]->done.load();
}

void Server::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_ || slots_.empty()) return;
    stopped_ = true;
  }
  stop_.store(true);
  release();  // a held loop must begin in order to see the stop flag
  // Keep waking the threads until each has seen the flag: a signal that lands just before a
  // thread goes to sleep is not lost this way. Bounded: after 2 s we stop asking.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (;;) {
    bool all_done = true;
    {
      std::lock_guard lock(mu_);
      for (auto& s : slots_) {
        if (!s->started || s->done.load()) continue;
        all_done = false;
        pthread_kill(s->tid, wake_signal());
      }
    }
    if (all_done) break;
    if (std::chrono::steady_clock::now() > give_up) {
      set_error("some server threads did not stop within 2 s");
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::lock_guard lock(mu_);
  for (auto& s : slots_) {
    if (s->started && !s->joined && s->done.load()) {
      pthread_join(s->tid, nullptr);
      s->joined = true;
    }
  }
}

ServerStats Server::stats() const {
  ServerStats st;
  std::lock_guard lock(mu_);
  for (const auto& s : slots_) {
    if (!s->done.load()) continue;  // still running (only if stop() gave up): not readable
    const sys::ThreadLog& l = *s->log;
    const sys::Counts& w = l.window;
    for (std::size_t i = 0; i < sys::kSysCount; i++) {
      st.calls[i] += w.calls[i];
      st.teardown_calls[i] += l.total.calls[i] - w.calls[i];
    }
    st.eagain += w.eagain;
    st.teardown_eagain += l.total.eagain - w.eagain;
    st.fds_scanned += w.fds_scanned;
    st.nvcsw += w.nvcsw;
    st.nivcsw += w.nivcsw;
    st.utime_ns += w.utime_ns;
    st.stime_ns += w.stime_ns;
    st.wasted += w.wasted;
    st.per_thread.push_back(ThreadMetrics{l.name, w.nvcsw, w.wasted, w.ok[std::size_t(Sys::Accept4)], w.requests,
                                          w.utime_ns + w.stime_ns});
    st.events_dropped += l.events_dropped;
    st.events.insert(st.events.end(), l.events.begin(), l.events.end());
  }
  for (const auto& s : slots_) {
    st.thread_names.push_back(s->log->name);
    st.thread_tids.push_back(s->log->tid);
  }
  std::stable_sort(st.events.begin(), st.events.end(),
                   [](const TraceEvent& a, const TraceEvent& b) { return a.t < b.t; });
  for (std::size_t i = 0; i < st.events.size(); i++) st.events[i].seq = std::uint32_t(i);
  st.requests = proto_->requests();
  st.accepted = std::uint64_t(accepted_.load());
  st.refused = refused_.load();
  st.slow_closed = slow_closed_.load();
  st.limit_closed = limit_closed_.load();
  st.accept_pauses = accept_pauses_.load();
  st.threads = slots_.size();
  st.error = error_;
  return st;
}

}  // namespace eps::live
