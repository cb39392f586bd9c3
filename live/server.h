// A live server: a real listening socket on loopback and the server loop of one strategy.
//
//   server_blocking.cpp  blocking: accept4, then a thread per connection in recvfrom
//   server_loop.cpp      busy-poll, select, poll, epoll, epoll-et: one thread, one loop,
//                        the waiting done by the strategy's Mux (mux.h)
//   server_workers.cpp   epoll-shared, epoll-per-thread, reuseport: N threads, each with the
//                        same loop, sharing an epoll instance or a listening socket or not
// Which one runs a strategy is its LiveServer in the strategy table (sim/strategy.h).
//
// Both read like the model's programs (sim/programs.cpp) and count every syscall through the
// seam (sys.h). Unlike the model, a live server accepts inside its loop (connections really
// do arrive over time), and with an accept limit it stops watching the listening socket once
// every expected client is in, as the model's programs do after their accept loop.
//
// What a real server must also survive, and the model's programs leave out: the fd limit
// (accept4 fails with EMFILE while the connection waits in the backlog: the loops stop
// accepting until a connection closes or kAcceptRetryNs has passed, and say so once on
// stderr), and clients that would make it hold unbounded memory (limits.h).
#pragma once

#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "live/limits.h"
#include "live/protocol.h"
#include "live/sys.h"
#include "sim/metrics.h"
#include "sim/scenario.h"

namespace eps::live {

struct ServerOptions {
  Strategy strategy = Strategy::Epoll;
  std::string bind = "127.0.0.1";  // loopback unless the user says otherwise
  int port = 0;                    // 0: any free port (see Server::port())
  int accept_limit = 0;            // stop accepting after this many (0: accept forever)
  int cpu = -1;                    // pin the server's threads to this CPU (-1: do not pin)
  int avoid_cpu = -1;              // else keep them off this CPU (the load generator's; -1: do not)
  bool record_trace = false;       // keep every syscall for the live trace
  int maxevents = 64;              // epoll_wait's maxevents
  bool et_read_once = false;       // epoll-et only: the pitfall (read once, not to EAGAIN)
  std::int64_t t0_ns = 0;          // trace time 0, CLOCK_MONOTONIC (0: when start() runs)
  bool hold = false;               // listen at start(), but begin serving only at release()
  // select/poll/epoll: before sleeping in the wait, poll it (timeout 0) for up to this long.
  // Spin-then-sleep: CPU spent so that whoever sends next need not wake us (serve --spin-us).
  std::int64_t spin_ns = 0;
  int threads = 1;                 // server_workers.cpp: how many worker threads
  std::uint32_t epoll_flags = 0;   // server_workers.cpp: EPOLLET/EPOLLONESHOT/EPOLLEXCLUSIVE (sim/uapi.h)
  Limits limits;                   // what connections may hold in memory (limits.h)
};

// After accept4 failed for want of a file descriptor, try again after this long at the
// latest (sooner when one of ours closes).
inline constexpr std::int64_t kAcceptRetryNs = 100'000'000;
// Blocking server: the longest a sendto waits for room before the worker looks at its client.
inline constexpr std::int64_t kSendWaitNs = 100'000'000;

// What a failed accept4 means for the loop.
enum class AcceptFailure {
  Retry,     // EINTR, or the connection failed before we took it: accept the next one
  OutOfFds,  // EMFILE, ENFILE (or no memory for the socket): wait for a descriptor to free up
  Fatal,     // a bug (EBADF, EINVAL...): stop accepting
};
AcceptFailure accept_failure(int err);

class Server;
// Closes a connection the server cannot serve, after the protocol's error reply saying `why`
// (it fits the new socket's empty buffer), as Redis does past maxclients.
void refuse_client(Server& s, int fd, const char* why);

// What the server measured about itself, once it has stopped.
// The syscall and rusage figures cover the measurement window: from the start to
// end_window() (or to the stop, if it is never called).
struct ServerStats {
  std::uint64_t calls[sys::kSysCount] = {};  // by Sys
  std::uint64_t eagain = 0, fds_scanned = 0;
  std::uint64_t nvcsw = 0, nivcsw = 0;       // voluntary / involuntary, all server threads
  std::int64_t utime_ns = 0, stime_ns = 0;
  std::uint64_t requests = 0;                // answered
  std::uint64_t accepted = 0;
  std::uint64_t refused = 0;                 // closed at once: select's FD_SETSIZE, no thread
  std::uint64_t slow_closed = 0;             // closed for not reading their replies
  std::uint64_t limit_closed = 0;            // closed past a query-buffer limit (with an error reply)
  std::uint64_t accept_pauses = 0;           // times accept4 found no free fd
  std::uint64_t threads = 0;
  std::uint64_t wasted = 0;                  // wake-ups for nothing (sys.h, Counts::wasted)
  std::vector<ThreadMetrics> per_thread;     // in the window, by thread (main first)
  std::uint64_t teardown_calls[sys::kSysCount] = {};  // after the window: closing, exiting
  std::uint64_t teardown_eagain = 0;
  std::vector<std::string> thread_names;     // by trace actor
  std::vector<int> thread_tids;              // by trace actor (kernel thread ids)
  std::vector<TraceEvent> events;            // every thread's syscalls, ordered by time
  std::uint64_t events_dropped = 0;
  std::string error;                         // what stopped the server early, if anything
};

class Server {
 public:
  Server(ServerOptions opt, std::shared_ptr<Protocol> proto);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens and starts the server's main thread. Returns "" or what went wrong.
  std::string start();
  int port() const { return port_; }
  std::string address() const;                  // "127.0.0.1:6379"
  int accepted() const { return accepted_.load(); }
  int open_connections() const { return open_.load(); }
  // Asks every server thread to stop (a signal breaks them out of whatever syscall they
  // sleep in) and waits for them. Idempotent. Returns within about 2 s whatever they do.
  void stop();
  bool stopped() const { return main_done(); }
  // Ends the measurement window: each thread counts what it does from its next syscall on
  // as teardown (a live run calls this when the drain is over, before the clients close).
  void end_window() { window_end_.store(true, std::memory_order_relaxed); }
  // With ServerOptions::hold: the loop may begin (the clients have connected; the kernel
  // holds them in the listen backlog, so the server finds them all ready at once, as the
  // model's server does at t = 0). stop() releases too.
  void release() {
    released_.store(true);
    released_.notify_all();
  }
  ServerStats stats() const;                    // after stop()

  // ---- for the server loops (server_loop.cpp, server_blocking.cpp) ----
  const ServerOptions& options() const { return opt_; }
  Protocol& protocol() { return *proto_; }
  int listen_fd(int k = 0) const { return k == 0 ? lfd_ : extra_lfds_[std::size_t(k - 1)]; }
  int listen_fds() const { return 1 + int(extra_lfds_.size()); }
  bool stopping() const { return stop_.load(std::memory_order_relaxed); }
  bool accept_done() const { return opt_.accept_limit > 0 && accepted_.load() >= opt_.accept_limit; }
  void on_accepted() { accepted_++; open_++; }
  void on_closed();
  void on_refused() { refused_++; open_--; }
  void on_slow_closed() { slow_closed_++; }
  void on_limit_closed() { limit_closed_++; }
  // accept4 failed with OutOfFds: counted, and said on stderr the first time.
  void on_accept_paused(int err);
  // Blocking server: sleeps until a connection closes, at most `ns`.
  void wait_for_close(std::int64_t ns);
  Totals& totals() { return totals_; }
  void set_error(const std::string& e);
  // Starts a worker thread running `fn(arg)` with its own log (counted as clone).
  // Returns 0 or an errno value.
  int spawn_worker(const std::string& name, void (*fn)(Server&, sys::ThreadLog&, long), long arg);
  void reap_workers();                          // joins workers that have finished

 private:
  struct Slot {
    pthread_t tid{};
    bool started = false, joined = false;
    std::atomic<bool> done{false};
    std::unique_ptr<sys::ThreadLog> log;
    void (*fn)(Server&, sys::ThreadLog&, long) = nullptr;
    long arg = 0;
    Server* server = nullptr;
  };
  static void* thread_main(void* slot);
  Slot* new_slot(const std::string& name);
  bool main_done() const;

  ServerOptions opt_;
  std::shared_ptr<Protocol> proto_;
  int lfd_ = -1;
  std::vector<int> extra_lfds_;              // reuseport: the other workers' listening sockets
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> window_end_{false};
  std::atomic<bool> released_{false};
  std::atomic<int> accepted_{0}, open_{0};
  std::atomic<std::uint64_t> refused_{0}, slow_closed_{0}, limit_closed_{0}, accept_pauses_{0};
  Totals totals_;
  std::mutex close_mu_;                        // with closed_cv_: wait_for_close
  std::condition_variable closed_cv_;
  mutable std::mutex mu_;                      // guards slots_, error_
  std::vector<std::unique_ptr<Slot>> slots_;   // [0] is the main thread
  std::string error_;
  bool stopped_ = false;
};

// The server loops (one per file), run on the server's main thread.
void run_blocking_server(Server& s, sys::ThreadLog& log);
void run_event_loop_server(Server& s, sys::ThreadLog& log);
void run_workers_server(Server& s, sys::ThreadLog& log);

}  // namespace eps::live
