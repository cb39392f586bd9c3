// epoll(7): interest is registered once (epoll_ctl), the kernel keeps the ready list, and
// epoll_wait returns only the ready fds: O(ready) per call, not O(watched).
// This is the only file that includes <sys/epoll.h>.
#include "live/mux.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "live/sys.h"

namespace eps::live {

namespace {

long epoll_create1_(int flags) {
  return sys::call(Sys::EpollCreate1, -1, [&](std::size_t) { return long(::epoll_create1(flags)); });
}
long epoll_ctl_(int epfd, int op, int fd, epoll_event* ev) {
  return sys::call(Sys::EpollCtl, fd, [&](std::size_t) { return long(::epoll_ctl(epfd, op, fd, ev)); });
}
long epoll_wait_(int epfd, epoll_event* evs, int maxevents, int timeout_ms) {
  return sys::call(Sys::EpollWait, epfd,
                   [&](std::size_t) { return long(::epoll_wait(epfd, evs, maxevents, timeout_ms)); });
}

class EpollMux final : public Mux {
 public:
  EpollMux(int epfd, bool et, int maxevents) : epfd_(epfd), et_(et), events_(std::size_t(maxevents)) {}
  ~EpollMux() override { ::close(epfd_); }

  int add(int fd, int mask) override {
    if (fd < 0) return -EINVAL;
    if (std::size_t(fd) >= mask_.size()) mask_.resize(std::size_t(fd) + 1, 0);
    int old = mask_[std::size_t(fd)];
    epoll_event ev{};
    ev.events = bits(old | mask);
    ev.data.fd = fd;
    if (epoll_ctl_(epfd_, old ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0) return -errno;
    mask_[std::size_t(fd)] = old | mask;
    return 0;
  }
  void del(int fd, int mask) override {
    if (fd < 0 || std::size_t(fd) >= mask_.size() || !mask_[std::size_t(fd)]) return;
    int left = mask_[std::size_t(fd)] & ~mask;
    epoll_event ev{};
    ev.events = bits(left);
    ev.data.fd = fd;
    // A closed fd has already left the interest list (its last reference went away); the
    // caller removes it first, so EPOLL_CTL_DEL here always names a live fd.
    epoll_ctl_(epfd_, left ? EPOLL_CTL_MOD : EPOLL_CTL_DEL, fd, &ev);
    mask_[std::size_t(fd)] = left;
  }
  int wait(int timeout_ms, std::vector<MuxEvent>& fired) override {
    fired.clear();
    long n = epoll_wait_(epfd_, events_.data(), int(events_.size()), timeout_ms);
    if (n < 0) return -errno;
    for (long i = 0; i < n; i++) {
      const epoll_event& e = events_[std::size_t(i)];
      int m = 0;
      if (e.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) m |= kReadable;
      if (e.events & EPOLLOUT) m |= kWritable;
      fired.push_back({e.data.fd, m});
    }
    return int(n);
  }
  const char* name() const override { return et_ ? "epoll-et" : "epoll"; }
  bool edge_triggered() const override { return et_; }

 private:
  std::uint32_t bits(int mask) const {
    return ((mask & kReadable) ? EPOLLIN : 0u) | ((mask & kWritable) ? EPOLLOUT : 0u) |
           (et_ ? std::uint32_t(EPOLLET) : 0u);
  }
  int epfd_;                              // the epoll instance (struct eventpoll)
  bool et_;                               // EPOLLET on every registration
  std::vector<int> mask_;                 // interest by fd, to choose ADD / MOD / DEL
  std::vector<epoll_event> events_;       // epoll_wait's output array (maxevents long)
};

std::uint32_t set_bits(int flags) {
  return ((flags & kReadable) ? EPOLLIN : 0u) | ((flags & kWritable) ? EPOLLOUT : 0u) |
         ((flags & kEdge) ? std::uint32_t(EPOLLET) : 0u) | ((flags & kOneShot) ? std::uint32_t(EPOLLONESHOT) : 0u) |
         ((flags & kExclusive) ? std::uint32_t(EPOLLEXCLUSIVE) : 0u);
}

class Set final : public EpollSet {
 public:
  explicit Set(int epfd) : epfd_(epfd) {}
  ~Set() override { ::close(epfd_); }
  int add(int fd, int flags) override { return ctl(EPOLL_CTL_ADD, fd, flags); }
  int modify(int fd, int flags) override { return ctl(EPOLL_CTL_MOD, fd, flags); }
  int del(int fd) override { return ctl(EPOLL_CTL_DEL, fd, 0); }
  int wait(int timeout_ms, std::vector<MuxEvent>& fired, int maxevents) override {
    thread_local std::vector<epoll_event> evs;  // each thread its own output array
    evs.resize(std::size_t(maxevents < 1 ? 1 : maxevents));
    fired.clear();
    long n = epoll_wait_(epfd_, evs.data(), int(evs.size()), timeout_ms);
    if (n < 0) return -errno;
    for (long i = 0; i < n; i++) {
      const epoll_event& e = evs[std::size_t(i)];
      int m = 0;
      if (e.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) m |= kReadable;
      if (e.events & EPOLLOUT) m |= kWritable;
      fired.push_back({e.data.fd, m});
    }
    return int(n);
  }

 private:
  int ctl(int op, int fd, int flags) {
    epoll_event ev{};
    ev.events = set_bits(flags);
    ev.data.fd = fd;
    return epoll_ctl_(epfd_, op, fd, &ev) < 0 ? -errno : 0;
  }
  int epfd_;
};

}  // namespace

std::unique_ptr<EpollSet> epoll_set_create(std::string& error) {
  long epfd = epoll_create1_(EPOLL_CLOEXEC);
  if (epfd < 0) {
    error = std::string("epoll_create1: ") + strerror(errno);
    return nullptr;
  }
  return std::make_unique<Set>(int(epfd));
}

std::unique_ptr<Mux> mux_epoll_create(bool edge_triggered, int maxevents, std::string& error) {
  long epfd = epoll_create1_(EPOLL_CLOEXEC);
  if (epfd < 0) {
    error = std::string("epoll_create1: ") + strerror(errno);
    return nullptr;
  }
  return std::make_unique<EpollMux>(int(epfd), edge_triggered, maxevents < 1 ? 64 : maxevents);
}

}  // namespace eps::live
