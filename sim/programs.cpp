// The six server programs. Each reads like the real server loop it models, and marks the
// line of its listing it is on (line numbers match program_listing()), so a view can light it.
// Connections are already in the accept queue when the run starts; accept4 hands them out.
#include "sim/simulation.h"

namespace eps {

namespace {

using Fds = std::vector<std::uint32_t>;

// The body every event-loop program shares: read one request, handle it, reply. Its four
// lines sit at `line` (recvfrom), line + 1 (EAGAIN), line + 2 (handle), line + 3 (sendto) of
// each listing. Returns false when recvfrom said EAGAIN.
Co<bool> serve_one(Simulation& s, Task& t, std::uint32_t fd, int line) {
  s.line(t, line);
  Simulation::Recv r = co_await s.sys_recvfrom(t, fd, /*nonblock=*/true);
  if (r.result < 0) {
    s.line(t, line + 1);
    co_return false;
  }
  s.line(t, line + 2);
  co_await s.user_work(t, r.skb);
  s.line(t, line + 3);
  co_await s.sys_sendto(t, fd, r.skb);
  co_return true;
}

const std::vector<std::string> kBlocking = {
    "int lfd = listen_socket(port);",
    "for (;;) {",
    "  int fd = accept4(lfd, NULL, NULL, 0);",
    "  pthread_create(&tid, NULL, serve, (void *)fd);  /* clone() */",
    "}",
    "void *serve(int fd) {                 /* one thread per connection */",
    "  for (;;) {",
    "    ssize_t n = recvfrom(fd, buf, sizeof buf, 0, NULL, NULL);  /* sleeps in sk_wait_data */",
    "    handle(buf, n);                   /* work_us of user CPU */",
    "    sendto(fd, reply, len, 0, NULL, 0);",
    "  }",
    "}",
};

// Thread per connection: each worker sleeps in recvfrom until its socket has data.
Co<void> blocking_worker(Simulation& s, Task& t, std::uint32_t fd) {
  for (;;) {
    s.line(t, 7);
    Simulation::Recv r = co_await s.sys_recvfrom(t, fd, /*nonblock=*/false);
    if (r.result <= 0) co_return;
    s.line(t, 8);
    co_await s.user_work(t, r.skb);
    s.line(t, 9);
    co_await s.sys_sendto(t, fd, r.skb);
  }
}

Co<void> blocking_main(Simulation& s, Task& t) {
  s.line(t, 0);
  for (int i = 0; i < s.connections(); i++) {
    s.line(t, 2);
    int fd = co_await s.sys_accept4(t, std::uint32_t(i), false);
    s.line(t, 3);
    auto f = std::uint32_t(fd);
    co_await s.sys_clone(t, "worker fd " + std::to_string(fd),
                         [f](Simulation& sim, Task& w) { return blocking_worker(sim, w, f); });
  }
  s.line(t, 2);
  co_await s.sys_accept4(t, kNone, false);  // nobody else connects: sleeps here
}

const std::vector<std::string> kBusyPoll = {
    "for (i = 0; i < nconns; i++)",
    "  fds[i] = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);",
    "for (;;) {                            /* never sleeps */",
    "  for (i = 0; i < nconns; i++) {",
    "    ssize_t n = recvfrom(fds[i], buf, sizeof buf, 0, NULL, NULL);",
    "    if (n < 0 && errno == EAGAIN) continue;  /* nothing yet: next fd */",
    "    handle(buf, n);                   /* work_us of user CPU */",
    "    sendto(fds[i], reply, len, 0, NULL, 0);",
    "  }",
    "}",
};

Co<void> busy_poll_main(Simulation& s, Task& t) {
  Fds fds;
  for (int i = 0; i < s.connections(); i++) {
    s.line(t, 1);
    fds.push_back(std::uint32_t(co_await s.sys_accept4(t, std::uint32_t(i), true)));
  }
  for (;;) {
    for (std::uint32_t fd : fds) co_await serve_one(s, t, fd, 4);
  }
}

const std::vector<std::string> kSelect = {
    "for (i = 0; i < nconns; i++) {",
    "  int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);",
    "  if (fd >= FD_SETSIZE) { close(fd); continue; }  /* FD_SET past 1024 is undefined */",
    "  fds[n++] = fd;",
    "}",
    "for (;;) {",
    "  FD_ZERO(&rfds); for (i = 0; i < n; i++) FD_SET(fds[i], &rfds);",
    "  int ready = select(maxfd + 1, &rfds, NULL, NULL, NULL);  /* scans every fd */",
    "  for (i = 0; i < n; i++) {",
    "    if (!FD_ISSET(fds[i], &rfds)) continue;",
    "    ssize_t r = recvfrom(fds[i], buf, sizeof buf, 0, NULL, NULL);",
    "    if (r < 0 && errno == EAGAIN) continue;",
    "    handle(buf, r);                   /* work_us of user CPU */",
    "    sendto(fds[i], reply, len, 0, NULL, 0);",
    "  }",
    "}",
};

const std::vector<std::string> kPoll = {
    "for (i = 0; i < nconns; i++) {",
    "  pfds[i].fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);",
    "  pfds[i].events = POLLIN;",
    "}",
    "for (;;) {",
    "  int ready = poll(pfds, nconns, -1);  /* scans every fd */",
    "  for (i = 0; i < nconns; i++) {",
    "    if (!(pfds[i].revents & POLLIN)) continue;",
    "    ssize_t r = recvfrom(pfds[i].fd, buf, sizeof buf, 0, NULL, NULL);",
    "    if (r < 0 && errno == EAGAIN) continue;",
    "    handle(buf, r);                   /* work_us of user CPU */",
    "    sendto(pfds[i].fd, reply, len, 0, NULL, 0);",
    "  }",
    "}",
};

// select and poll: the same loop, with different line numbers and one fd limit.
Co<void> select_poll_main(Simulation& s, Task& t, bool is_select) {
  Fds fds;
  for (int i = 0; i < s.connections(); i++) {
    s.line(t, 1);
    int fd = co_await s.sys_accept4(t, std::uint32_t(i), true);
    if (is_select && fd >= FD_SETSIZE_) {
      s.line(t, 2);
      co_await s.sys_close(t, std::uint32_t(fd));
      continue;
    }
    s.line(t, is_select ? 3 : 2);
    fds.push_back(std::uint32_t(fd));
  }
  Fds ready;
  const int L = is_select ? 7 : 5;  // the select()/poll() line; the loop body follows it
  for (;;) {
    if (is_select) s.line(t, 6);
    s.line(t, L);
    int n = is_select ? co_await s.sys_select(t, fds, ready) : co_await s.sys_poll(t, fds, ready);
    if (n < 0) co_return;
    for (std::uint32_t fd : ready) co_await serve_one(s, t, fd, L + 3);
  }
}

const std::vector<std::string> kEpoll = {
    "int ep = epoll_create1(0);",
    "for (i = 0; i < nconns; i++) {",
    "  int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);",
    "  struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };",
    "  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);",
    "}",
    "for (;;) {",
    "  int n = epoll_wait(ep, events, MAXEVENTS, -1);  /* only the ready ones */",
    "  for (i = 0; i < n; i++) {",
    "    int fd = events[i].data.fd;",
    "    ssize_t r = recvfrom(fd, buf, sizeof buf, 0, NULL, NULL);",
    "    if (r < 0 && errno == EAGAIN) continue;",
    "    handle(buf, r);                   /* work_us of user CPU */",
    "    sendto(fd, reply, len, 0, NULL, 0);",
    "  }",
    "}",
};

const std::vector<std::string> kEpollEt = {
    "int ep = epoll_create1(0);",
    "for (i = 0; i < nconns; i++) {",
    "  int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);",
    "  struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.fd = fd };",
    "  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);",
    "}",
    "for (;;) {",
    "  int n = epoll_wait(ep, events, MAXEVENTS, -1);",
    "  for (i = 0; i < n; i++) {",
    "    int fd = events[i].data.fd;",
    "    for (;;) {                        /* edge-triggered: drain to EAGAIN */",
    "      ssize_t r = recvfrom(fd, buf, sizeof buf, 0, NULL, NULL);",
    "      if (r < 0 && errno == EAGAIN) break;",
    "      handle(buf, r);                 /* work_us of user CPU */",
    "      sendto(fd, reply, len, 0, NULL, 0);",
    "    }",
    "  }",
    "}",
};

const std::vector<std::string> kEpollEtReadOnce = {
    "int ep = epoll_create1(0);",
    "for (i = 0; i < nconns; i++) {",
    "  int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);",
    "  struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.fd = fd };",
    "  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);",
    "}",
    "for (;;) {",
    "  int n = epoll_wait(ep, events, MAXEVENTS, -1);",
    "  for (i = 0; i < n; i++) {",
    "    int fd = events[i].data.fd;",
    "    /* BUG: reads once. With EPOLLET, what is left in the queue */",
    "    ssize_t r = recvfrom(fd, buf, sizeof buf, 0, NULL, NULL);",
    "    if (r < 0 && errno == EAGAIN) continue;  /* waits for the NEXT edge */",
    "    handle(buf, r);                   /* work_us of user CPU */",
    "    sendto(fd, reply, len, 0, NULL, 0);",
    "  }",
    "}",
};

Co<void> epoll_main(Simulation& s, Task& t, bool et, bool read_once) {
  s.line(t, 0);
  int ep = co_await s.sys_epoll_create1(t);
  for (int i = 0; i < s.connections(); i++) {
    s.line(t, 2);
    int fd = co_await s.sys_accept4(t, std::uint32_t(i), true);
    s.line(t, 4);
    co_await s.sys_epoll_ctl(t, std::uint32_t(ep), EPOLL_CTL_ADD, std::uint32_t(fd),
                             et ? (EPOLLIN | EPOLLET) : EPOLLIN);
  }
  Fds ready;
  const int maxevents = s.scenario().kernel.maxevents;
  for (;;) {
    s.line(t, 7);
    int n = co_await s.sys_epoll_wait(t, std::uint32_t(ep), ready, maxevents);
    if (n < 0) co_return;
    for (std::uint32_t fd : ready) {  // events[] of this call
      s.line(t, 9);
      if (!et) {
        co_await serve_one(s, t, fd, 10);
      } else if (read_once) {
        co_await serve_one(s, t, fd, 11);  // the bug: what else waits stays there
      } else {
        // Edge-triggered: the next wake-up only comes with new data, so drain to EAGAIN.
        while (co_await serve_one(s, t, fd, 11)) {
        }
      }
    }
  }
}

}  // namespace

const std::vector<std::string>& program_listing(Strategy s, bool et_read_once) {
  switch (s) {
    case Strategy::Blocking: return kBlocking;
    case Strategy::BusyPoll: return kBusyPoll;
    case Strategy::Select: return kSelect;
    case Strategy::Poll: return kPoll;
    case Strategy::Epoll: return kEpoll;
    case Strategy::EpollEt: return et_read_once ? kEpollEtReadOnce : kEpollEt;
  }
  return kEpoll;
}

ProgramFn server_program(Strategy s, bool et_read_once) {
  switch (s) {
    case Strategy::Blocking: return [](Simulation& sim, Task& t) { return blocking_main(sim, t); };
    case Strategy::BusyPoll: return [](Simulation& sim, Task& t) { return busy_poll_main(sim, t); };
    case Strategy::Select: return [](Simulation& sim, Task& t) { return select_poll_main(sim, t, true); };
    case Strategy::Poll: return [](Simulation& sim, Task& t) { return select_poll_main(sim, t, false); };
    case Strategy::Epoll: return [](Simulation& sim, Task& t) { return epoll_main(sim, t, false, false); };
    case Strategy::EpollEt:
      return [et_read_once](Simulation& sim, Task& t) { return epoll_main(sim, t, true, et_read_once); };
  }
  return {};
}

}  // namespace eps
