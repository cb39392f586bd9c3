// The syscall seam: every system call a live server makes goes through sys::call(), which
//  - counts it by its real Linux name, with its EAGAINs (and what select/poll/epoll scanned),
//  - records it in the live trace (SyscallEnter / SyscallExit, the model's vocabulary),
//  - lets a test inject a failure (EINTR, EAGAIN) or a short read/write instead of the real
//    result, so the servers' error paths are exercised on purpose, not by luck.
//
// Counting is per thread: a server thread attach()es its own ThreadLog, so the hot path
// touches no shared memory. Threads with no log (the load generator, the tests) go straight
// to the kernel: their syscalls are neither counted nor faulted.
#pragma once

#include <sys/select.h>
#include <sys/types.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "sim/trace.h"

struct pollfd;
struct timeval;

namespace eps::live::sys {

inline constexpr std::size_t kSysCount = std::size_t(Sys::Count);

// What one thread counted: its syscalls, and what getrusage(RUSAGE_THREAD) says of it.
struct Counts {
  std::uint64_t calls[kSysCount] = {};  // by Sys
  std::uint64_t eagain = 0;             // calls that failed with EAGAIN
  std::uint64_t fds_scanned = 0;        // select/poll: fds passed; epoll_wait: events returned
  std::uint64_t nvcsw = 0, nivcsw = 0;  // voluntary / involuntary context switches
  std::int64_t utime_ns = 0, stime_ns = 0;
  std::uint64_t ok[kSysCount] = {};     // calls that succeeded (accept4: connections accepted)
  // Wake-ups for nothing, as the model counts them where user space can see it: a wait
  // (epoll_wait, select, poll) returned events, and the first accept4 or recvfrom after it
  // said EAGAIN: another thread got there first.
  std::uint64_t wasted = 0;
  std::uint64_t requests = 0;           // requests this thread answered (Protocol)
};

// One server thread's record. Owned by the server; written only by its thread.
struct ThreadLog {
  std::uint16_t actor = 0;          // the trace's task id (0 = the server's main thread)
  std::string name;                 // "P (server)", "worker fd 7"
  int tid = 0;                      // the kernel's thread id (gettid)
  // Over the thread's life: the syscall fields as they happen, the rusage ones at rusage_end.
  Counts total;
  bool record = false;              // keep a trace of every call (costs two clock reads)
  std::int64_t t0_ns = 0;           // trace time 0 (CLOCK_MONOTONIC ns)
  std::size_t max_events = 1u << 21;  // beyond this, calls are counted but not traced
  std::uint64_t events_dropped = 0;
  std::vector<TraceEvent> events;   // seq is assigned when the logs are merged
  Counts rusage_start_;             // private: getrusage at rusage_begin (its rusage fields)

  // The measurement window. When *window_end turns true (a live run's drain is over), the
  // thread copies what it counted so far into `window` at its next syscall, before counting
  // that call: what it does afterwards (closing, exiting) is teardown, which the model does
  // not have. If the window never ends, `window` is the whole life (filled at rusage_end).
  const std::atomic<bool>* window_end = nullptr;
  bool window_taken = false;
  Counts window;
  bool woken = false;               // a wait returned events; no accept4/recvfrom since
};

// This thread's syscalls count into `log` from now on (nullptr: stop counting).
void attach(ThreadLog* log);
// The protocol answered `n` requests on this thread (counted if the thread has a log).
void count_requests(std::uint64_t n);
ThreadLog* current();
void rusage_begin(ThreadLog& log);  // at the thread's start
void rusage_end(ThreadLog& log);    // at its end: total's rusage fields = the difference

// What a test wants a call to do instead of its normal course.
struct Fault {
  int err = 0;                      // nonzero: fail with this errno (Close: after closing)
  std::size_t max_bytes = SIZE_MAX; // recvfrom/sendto: pass at most this many bytes
};
// Called before every call of an attached thread. Must be thread-safe (blocking servers call
// it from many threads). An empty function (the default) means: no faults.
using Injector = std::function<Fault(Sys call, int fd)>;
void set_injector(Injector inj);    // not while a server runs
std::int64_t mono_ns();             // CLOCK_MONOTONIC in ns
// The calling thread on one CPU (-1: leave it where it may run). Not a counted call.
void pin_thread(int cpu);
// Every CPU the thread may use now except `cpu` (nothing when cpu < 0 or it is the only one).
void pin_thread_except(int cpu);
// The first two CPUs this process may run on, or {-1, -1} if it has only one (then pinning
// would only take choices away).
std::pair<int, int> two_cpus();
// Raises the soft (and if need be the hard) RLIMIT_NOFILE to `need` open files. "" on success,
// else why not and what to do (`ulimit -n`).
std::string ensure_nofile(std::uint64_t need);
// Raises the soft RLIMIT_NOFILE to the hard one (never the hard one itself), as a server should
// that cannot know how many clients will come (Go's runtime does it at every start since 1.19).
// Returns the soft limit now.
std::uint64_t raise_nofile_soft();

namespace detail {
extern thread_local ThreadLog* tl_log;
extern Injector g_injector;
void take_window(ThreadLog& log);
// Before a call is counted: has the window just ended? (One relaxed load: no shared write.)
inline void check_window(ThreadLog& log) {
  if (log.window_end && !log.window_taken && log.window_end->load(std::memory_order_relaxed)) take_window(log);
}
void enter(ThreadLog& log, Sys s, int fd);
void exit(ThreadLog& log, Sys s, int fd, long result, int err);
}  // namespace detail

// The seam. `f(max_bytes)` makes the real call and returns its raw result (-1 + errno on
// failure). Returns what the caller should see; errno is set on -1.
template <class F>
long call(Sys s, int fd, F&& f) {
  ThreadLog* log = detail::tl_log;
  if (!log) return f(SIZE_MAX);
  detail::check_window(*log);
  detail::enter(*log, s, fd);
  Fault fault;
  if (detail::g_injector) fault = detail::g_injector(s, fd);
  long r;
  int err = 0;
  if (fault.err && s != Sys::Close) {
    r = -1, err = fault.err;        // as if interrupted (EINTR) or not ready (EAGAIN) at once
  } else {
    r = f(fault.max_bytes);
    err = r < 0 ? errno : 0;
    if (fault.err) r = -1, err = fault.err;  // close(2): the fd is gone even on EINTR
  }
  detail::exit(*log, s, fd, r, err);
  errno = err;
  return r;
}

// The wrappers the servers use (the epoll ones live in mux_epoll.cpp, the only file that
// includes <sys/epoll.h>; they go through call() the same way).
ssize_t recvfrom(int fd, void* buf, std::size_t len);          // flags 0, no address
ssize_t sendto(int fd, const void* buf, std::size_t len);      // MSG_NOSIGNAL, no address
int accept4(int lfd, int flags);
int close(int fd);
// `watched` = how many fds the sets hold (what the kernel scans, for fds_scanned).
int select(int nfds, fd_set* readfds, fd_set* writefds, int watched, int timeout_ms);
int poll(struct pollfd* fds, unsigned long nfds, int timeout_ms);
// pthread_create, counted as the clone(2) it makes. Returns 0 or an errno value.
int clone_thread(unsigned long* tid, void* (*fn)(void*), void* arg, std::size_t stack_bytes);

}  // namespace eps::live::sys
