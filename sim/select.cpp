#include "sim/select.h"

#include <algorithm>

namespace eps {

// One pass of do_select / do_poll over every fd: vfs_poll on each (cost paid by the caller
// before this step). On the first pass each fd's wait queue gets a __pollwait entry until
// the first ready fd is found (then wait->_qproc is cleared, as do_select does).
int SelectPoll::pass(Task& t, const Fds& fds, Fds& ready, PollTable* pt, bool register_entries) {
  ready.clear();
  for (int fd : fds) {
    const File* f = files_.get(fd);
    if (!f || f->kind != FileKind::Socket) continue;
    Socket& s = socks_.at(f->id);
    if (!s.open) continue;
    if (register_entries && ready.empty()) {
      wait_.add(s.wq, WaitEntry{WaitKind::PollWake, false, &t, nullptr, pt}, WaitAt::Head, t.cpu);
      pt->registered.push_back(&s.wq);
    }
    if (sock_readable(s)) ready.push_back(fd);
  }
  return int(ready.size());
}

Co<int> SelectPoll::poll_loop(Task& t, Call call, const Fds& fds, Fds& ready) {
  co_await sched_.syscall_enter(t, call.sys, kNone);
  co_await sched_.burn(t, CpuMode::System, copy_cost(k_.sc, call.copy_in_bytes));
  PollTable pt;
  pt.task = &t;
  bool first = true;
  int n = 0;
  for (;;) {
    co_await sched_.burn(t, CpuMode::System, SimTime(fds.size()) * k_.sc.costs.poll_fd_ns);
    n = pass(t, fds, ready, &pt, first);
    k_.emit(Ev::PollScan, t.cpu, t.id, std::uint32_t(call.sys), std::uint32_t(fds.size()), std::uint32_t(n));
    first = false;
    if (n > 0) break;
    if (pt.triggered) { pt.triggered = false; continue; }  // woken during the pass: rescan
    co_await sched_.block(t);  // poll_schedule_timeout
    pt.triggered = false;
  }
  // poll_freewait: take every registration off its wait queue again.
  for (WaitQueue* wq : pt.registered) wait_.remove(*wq, WaitKind::PollWake, &t);
  co_await sched_.burn(t, CpuMode::System, copy_cost(k_.sc, call.copy_out_bytes));
  co_await sched_.syscall_exit(t, call.sys, kNone, n);
  co_return n;
}

// select: three fd_set bitmaps of maxfd+1 bits copied in and out. An fd >= FD_SETSIZE cannot
// be in an fd_set at all (glibc's FD_SET would write past it): refused with EINVAL.
Co<int> SelectPoll::select(Task& t, const Fds& fds, Fds& ready) {
  int maxfd = 0;
  for (int fd : fds) maxfd = std::max(maxfd, fd);
  if (maxfd >= FD_SETSIZE_) {
    co_await sched_.syscall_enter(t, Sys::Select, kNone);
    co_await sched_.syscall_exit(t, Sys::Select, kNone, -kEINVAL);
    co_return -kEINVAL;
  }
  const std::uint64_t bitmap_bytes = 3 * ((std::uint64_t(maxfd) + 1 + 63) / 64) * 8;
  co_return co_await poll_loop(t, Call{Sys::Select, bitmap_bytes, bitmap_bytes}, fds, ready);
}

// poll: an array of struct pollfd (8 bytes each) copied in, revents copied back.
Co<int> SelectPoll::poll(Task& t, const Fds& fds, Fds& ready) {
  const std::uint64_t bytes = 8 * fds.size();
  co_return co_await poll_loop(t, Call{Sys::Poll, bytes, bytes}, fds, ready);
}

}  // namespace eps
