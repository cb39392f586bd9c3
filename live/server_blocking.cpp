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
//
// What the model leaves out: at the fd limit accept4 fails (EMFILE) and the loop waits for a
// connection to close; a thread runs a client's requests only while its replies have room
// (limits.h), and one whose client takes (almost) nothing for output_timeout_ns hangs up.
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "live/server.h"

namespace eps::live {

namespace {

// Sends every unsent reply on a blocking socket. False if the client is gone, has taken
// (almost) none of them for output_timeout_ns, or we must stop. A send that waits longer than
// kSendWaitNs for room (SO_SNDTIMEO, set on the listening socket) comes back short, or with
// EAGAIN, so the wait is looked at.
bool send_all(Server& s, int fd, ConnBuffers& io) {
  while (!io.unsent().empty()) {
    const std::size_t want = io.unsent().size();
    ssize_t w = sys::sendto(fd, io.unsent().data(), want);
    if (w > 0) io.sent(std::size_t(w));
    if (w == ssize_t(want)) continue;
    if (s.stopping()) return false;
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno != EAGAIN) return false;  // EPIPE, ECONNRESET
    const std::int64_t now = sys::mono_ns();  // short: the socket's buffer is full
    io.socket_full(now);
    if (io.stalled_ns(now) >= s.options().limits.output_timeout_ns) {
      s.on_slow_closed();
      return false;
    }
  }
  return true;
}

void serve_connection(Server& s, sys::ThreadLog&, long arg) {
  const int fd = int(arg);
  char buf[16 * 1024];
  std::int64_t state = 0;
  ConnBuffers io(s.protocol(), s.totals());  // requests not run yet, replies not sent yet
  for (;;) {
    ssize_t r = sys::recvfrom(fd, buf, sizeof buf);  // sleeps until the client sends
    if (r > 0) {
      bool ok = io.handle(state, buf, std::size_t(r)), sent;
      // Requests that waited for their replies' room run once the earlier replies are out.
      while ((sent = send_all(s, fd, io)) && ok && io.waiting()) ok = io.handle(state, nullptr, 0);
      if (!sent || !ok) {
        if (io.over_limit()) s.on_limit_closed();
        break;
      }
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
      const int err = errno;
      switch (accept_failure(err)) {
        case AcceptFailure::Retry: continue;
        case AcceptFailure::OutOfFds:  // the client waits in the backlog meanwhile
          s.on_accept_paused(err);
          s.wait_for_close(kAcceptRetryNs);
          continue;
        case AcceptFailure::Fatal: break;
      }
      s.set_error(std::string("accept4: ") + strerror(err));
      break;
    }
    s.on_accepted();
    s.reap_workers();  // join the threads of clients that have left
    int e;
    while ((e = s.spawn_worker("worker fd " + std::to_string(fd), serve_connection, fd)) == EINTR) {
    }
    if (e) {  // no thread for it (EAGAIN: out of threads): this client cannot be served
      refuse_client(s, fd, "max number of clients reached: no thread for this connection");
      s.on_refused();
    }
  }
}

}  // namespace eps::live
