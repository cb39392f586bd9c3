// blocking: a thread per connection, each asleep in recvfrom until its client sends.
// Model listing: kBlocking in sim/programs.cpp.
//
//   for (;;) {                                   main thread
//     fd = accept4(lfd, NULL, NULL, 0);          sleeps until a client connects
//     pthread_create(serve, fd);                 clone()
//   }
//   serve(fd): for (;;) {                        one per connection
//     n = recvfrom(fd, buf, ...);                sleeps in sk_wait_data
//     handle(buf, n);  sendto(fd, reply, ...);   a full send buffer blocks only this thread
//   }
//
// The costs the other strategies avoid are visible here: a clone per connection, and a sleep
// plus a wake-up (two context switches) per request.
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "live/server.h"

namespace eps::live {

namespace {

// Sends all of `data` on a blocking socket. False if the client is gone (or we must stop).
bool send_all(Server& s, int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    ssize_t w = sys::sendto(fd, data.data() + sent, data.size() - sent);
    if (w > 0) {
      sent += std::size_t(w);  // partial: a signal came in the middle, or a short write
      continue;
    }
    if (w < 0 && (errno == EINTR || errno == EAGAIN)) {
      if (s.stopping()) return false;
      continue;
    }
    return false;  // EPIPE, ECONNRESET
  }
  return true;
}

void serve_connection(Server& s, sys::ThreadLog&, long arg) {
  const int fd = int(arg);
  char buf[16 * 1024];
  std::int64_t state = 0;
  std::string in, out;
  for (;;) {
    ssize_t r = sys::recvfrom(fd, buf, sizeof buf);  // sleeps until the client sends
    if (r > 0) {
      in.append(buf, std::size_t(r));
      long used = s.protocol().handle(state, in, out);
      bool ok = send_all(s, fd, out);
      out.clear();
      if (used < 0 || !ok) break;
      in.erase(0, std::size_t(used));
      continue;
    }
    if (r == 0) break;  // the client closed
    if (errno == EINTR || errno == EAGAIN) {  // a signal (EAGAIN: only with a receive timeout)
      if (s.stopping()) break;
      continue;
    }
    break;  // ECONNRESET: the client is gone
  }
  sys::close(fd);
  s.on_closed();
}

}  // namespace

void run_blocking_server(Server& s, sys::ThreadLog&) {
  const int lfd = s.listen_fd();
  while (!s.stopping() && !s.accept_done()) {
    int fd = sys::accept4(lfd, SOCK_CLOEXEC);  // sleeps until a client connects
    if (fd < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED) continue;
      s.set_error(std::string("accept4: ") + strerror(errno));
      break;
    }
    s.on_accepted();
    s.reap_workers();  // join the threads of clients that have left
    int e;
    while ((e = s.spawn_worker("worker fd " + std::to_string(fd), serve_connection, fd)) == EINTR) {
    }
    if (e) {  // no thread for it (EAGAIN: out of threads): this client cannot be served
      sys::close(fd);
      s.on_refused();
    }
  }
}

}  // namespace eps::live
