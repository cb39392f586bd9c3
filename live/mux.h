// How a single-threaded server waits for its sockets: one mechanism per file, behind the
// same five calls (Redis's ae_*.c shape: create, add, del, poll, name).
//
//   mux_busy.cpp    busy-poll: no waiting at all, every watched fd is "maybe ready"
//   mux_select.cpp  select(2): rebuilds two fd_sets per call; refuses fd >= FD_SETSIZE
//   mux_poll.cpp    poll(2): a pollfd array, passed whole every call
//   mux_epoll.cpp   epoll(7), level- or edge-triggered; the only file with <sys/epoll.h>
//
// Interest is a mask of kReadable | kWritable per fd. add() adds bits, del() removes bits
// and forgets the fd when none are left (as aeApiAddEvent / aeApiDelEvent do), so the loop
// can ask for writability only while a reply is waiting for room.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sim/scenario.h"

namespace eps::live {

inline constexpr int kReadable = 1, kWritable = 2;
// EpollSet registrations only: EPOLLET, EPOLLONESHOT, EPOLLEXCLUSIVE.
inline constexpr int kEdge = 4, kOneShot = 8, kExclusive = 16;

struct MuxEvent {
  int fd;    // the fd that is (or, for busy-poll, may be) ready
  int mask;  // kReadable | kWritable; errors and hang-ups are reported as kReadable so that
             // the next recvfrom() sees them
};

class Mux {
 public:
  virtual ~Mux() = default;
  // 0, or -errno (select: -EINVAL for fd >= FD_SETSIZE: FD_SET past the set is undefined).
  virtual int add(int fd, int mask) = 0;
  virtual void del(int fd, int mask) = 0;
  // Waits up to timeout_ms (-1: no limit) and fills `fired`. Returns the number of events,
  // or -errno (-EINTR: a signal came; the caller decides whether to go on).
  virtual int wait(int timeout_ms, std::vector<MuxEvent>& fired) = 0;
  virtual const char* name() const = 0;
  // Edge-triggered: an event says "something new arrived", so the reader must drain to
  // EAGAIN or it will not hear about what is left.
  virtual bool edge_triggered() const { return false; }
};

// create: the mechanism of a strategy (not Blocking, which has none). On failure returns
// nullptr and sets `error`.
std::unique_ptr<Mux> mux_busy_create(std::string& error);
std::unique_ptr<Mux> mux_select_create(std::string& error);
std::unique_ptr<Mux> mux_poll_create(std::string& error);
std::unique_ptr<Mux> mux_epoll_create(bool edge_triggered, int maxevents, std::string& error);
std::unique_ptr<Mux> mux_create(Strategy s, int maxevents, std::string& error);

// One epoll instance used directly, for the servers whose threads share an instance or have
// one each (server_workers.cpp): wait() may run in several threads at once, each with its
// own output array, and registrations say their flags (kEdge, kOneShot, kExclusive) as the
// program in the listing does.
class EpollSet {
 public:
  virtual ~EpollSet() = default;
  virtual int add(int fd, int flags) = 0;     // EPOLL_CTL_ADD: 0 or -errno
  virtual int modify(int fd, int flags) = 0;  // EPOLL_CTL_MOD (re-arms an EPOLLONESHOT fd)
  virtual int del(int fd) = 0;                // EPOLL_CTL_DEL
  // Up to fired.capacity() events (at least 1); returns their number or -errno.
  virtual int wait(int timeout_ms, std::vector<MuxEvent>& fired, int maxevents) = 0;
};
std::unique_ptr<EpollSet> epoll_set_create(std::string& error);

}  // namespace eps::live
