// The syscall seam (see sys.h).
#include "live/sys.h"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

namespace eps::live::sys {

namespace detail {
thread_local ThreadLog* tl_log = nullptr;
Injector g_injector;

// One traced call boundary, in the model's vocabulary.
static TraceEvent make_event(const ThreadLog& log, Ev kind, Sys s, int fd) {
  TraceEvent e;
  e.t = mono_ns() - log.t0_ns;
  e.kind = kind;
  int cpu = sched_getcpu();
  e.cpu = std::uint8_t(cpu < 0 ? 0 : cpu);
  e.actor = log.actor;
  e.obj = fd < 0 ? kNone : std::uint32_t(fd);
  e.a = std::uint32_t(s);
  return e;
}

void enter(ThreadLog& log, Sys s, int fd) {
  if (!log.record) return;
  if (log.events.size() >= log.max_events) return;
  log.events.push_back(make_event(log, Ev::SyscallEnter, s, fd));
}

void exit(ThreadLog& log, Sys s, int fd, long result, int err) {
  log.total.calls[std::size_t(s)]++;
  if (result >= 0) log.total.ok[std::size_t(s)]++;
  if (s == Sys::EpollWait || s == Sys::Select || s == Sys::Poll) {
    if (result > 0) log.woken = true;
  } else if ((s == Sys::Accept4 || s == Sys::Recvfrom) && log.woken) {
    if (result < 0 && err == EAGAIN) log.total.wasted++;
    log.woken = false;
  }
  if (result < 0 && err == EAGAIN) log.total.eagain++;
  if (result > 0 && s == Sys::EpollWait) log.total.fds_scanned += std::uint64_t(result);
  if (!log.record) return;
  if (log.events.size() >= log.max_events) { log.events_dropped++; return; }
  TraceEvent e = make_event(log, Ev::SyscallExit, s, fd);
  e.b = std::uint32_t(std::int32_t(result < 0 ? -err : result));  // -11 = -EAGAIN, as the model
  log.events.push_back(e);
}
}  // namespace detail

void attach(ThreadLog* log) { detail::tl_log = log; }
void count_requests(std::uint64_t n) {
  if (detail::tl_log) detail::tl_log->total.requests += n;
}
ThreadLog* current() { return detail::tl_log; }
void set_injector(Injector inj) { detail::g_injector = std::move(inj); }

void pin_thread(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

void pin_thread_except(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return;
  CPU_CLR(cpu, &set);
  if (CPU_COUNT(&set) > 0) pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

std::pair<int, int> two_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return {-1, -1};
  int a = -1, b = -1;
  for (int c = 0; c < CPU_SETSIZE && b < 0; c++) {
    if (!CPU_ISSET(c, &set)) continue;
    if (a < 0) a = c;
    else b = c;
  }
  if (b < 0) return {-1, -1};
  return {a, b};
}

// Raises the soft (and if need be the hard) limit on open files to `need`.
std::string ensure_nofile(std::uint64_t need_files) {
  const rlim_t need = rlim_t(need_files);
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur >= need) return "";
  rlimit want = rl;
  want.rlim_cur = need;
  if (want.rlim_max < need) want.rlim_max = need;
  if (setrlimit(RLIMIT_NOFILE, &want) == 0) return "";
  return "this run needs " + std::to_string(need) + " open files (both ends of every connection), "
         "but RLIMIT_NOFILE is " + std::to_string(rl.rlim_cur) + " (hard limit " +
         std::to_string(rl.rlim_max) + ") and may not be raised: run `ulimit -n " +
         std::to_string(need) + "` as a user allowed to, or use fewer connections";
}

std::uint64_t raise_nofile_soft() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  // A hard limit of RLIM_INFINITY cannot be kept by setrlimit (kernel/sys.c: do_prlimit
  // refuses a hard RLIMIT_NOFILE above fs.nr_open), so there is nothing to raise to.
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max > rl.rlim_cur) {
    rlimit raised{rl.rlim_max, rl.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) rl.rlim_cur = rl.rlim_max;
  }
  return std::uint64_t(rl.rlim_cur);
}

std::int64_t mono_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

namespace {
std::int64_t tv_ns(const timeval& tv) { return std::int64_t(tv.tv_sec) * 1'000'000'000 + tv.tv_usec * 1000; }
}  // namespace

namespace {
// getrusage(RUSAGE_THREAD) into the rusage fields of `c`.
void read_rusage(Counts& c) {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  c.nvcsw = std::uint64_t(ru.ru_nvcsw);
  c.nivcsw = std::uint64_t(ru.ru_nivcsw);
  c.utime_ns = tv_ns(ru.ru_utime);
  c.stime_ns = tv_ns(ru.ru_stime);
}

// The rusage fields of `into` = now less at rusage_begin.
void rusage_since_begin(const ThreadLog& log, Counts& into) {
  read_rusage(into);
  into.nvcsw -= log.rusage_start_.nvcsw;
  into.nivcsw -= log.rusage_start_.nivcsw;
  into.utime_ns -= log.rusage_start_.utime_ns;
  into.stime_ns -= log.rusage_start_.stime_ns;
}
}  // namespace

void rusage_begin(ThreadLog& log) { read_rusage(log.rusage_start_); }

void detail::take_window(ThreadLog& log) {
  log.window = log.total;  // the syscall counts so far
  rusage_since_begin(log, log.window);
  log.window_taken = true;
}

void rusage_end(ThreadLog& log) {
  if (!log.window_taken) detail::take_window(log);  // the window outlived the thread
  rusage_since_begin(log, log.total);
}

ssize_t recvfrom(int fd, void* buf, std::size_t len) {
  return call(Sys::Recvfrom, fd, [&](std::size_t max) {
    return long(::recvfrom(fd, buf, len < max ? len : max, 0, nullptr, nullptr));
  });
}

ssize_t sendto(int fd, const void* buf, std::size_t len) {
  return call(Sys::Sendto, fd, [&](std::size_t max) {
    return long(::sendto(fd, buf, len < max ? len : max, MSG_NOSIGNAL, nullptr, 0));
  });
}

int accept4(int lfd, int flags) {
  return int(call(Sys::Accept4, lfd, [&](std::size_t) { return long(::accept4(lfd, nullptr, nullptr, flags)); }));
}

int close(int fd) {
  return int(call(Sys::Close, fd, [&](std::size_t) { return long(::close(fd)); }));
}

int select(int nfds, fd_set* readfds, fd_set* writefds, int watched, int timeout_ms) {
  ThreadLog* log = detail::tl_log;
  if (log) {
    detail::check_window(*log);
    log->total.fds_scanned += std::uint64_t(watched);  // do_select looks at every one
  }
  return int(call(Sys::Select, -1, [&](std::size_t) {
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    return long(::select(nfds, readfds, writefds, nullptr, timeout_ms < 0 ? nullptr : &tv));
  }));
}

int poll(struct pollfd* fds, unsigned long nfds, int timeout_ms) {
  ThreadLog* log = detail::tl_log;
  if (log) {
    detail::check_window(*log);
    log->total.fds_scanned += nfds;  // do_poll looks at every one
  }
  return int(call(Sys::Poll, -1, [&](std::size_t) { return long(::poll(fds, nfds, timeout_ms)); }));
}

int clone_thread(unsigned long* tid, void* (*fn)(void*), void* arg, std::size_t stack_bytes) {
  long r = call(Sys::Clone, -1, [&](std::size_t) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (stack_bytes) pthread_attr_setstacksize(&attr, stack_bytes);
    pthread_t t;
    int e = pthread_create(&t, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    if (e) { errno = e; return -1L; }
    *tid = static_cast<unsigned long>(t);
    return 0L;
  });
  return r < 0 ? errno : 0;
}

}  // namespace eps::live::sys
