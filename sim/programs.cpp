// The server programs, one per strategy, and THE strategy table (kStrategies, at the end).
// Each program reads like the real server loop it models and marks the line of its listing
// it is on, by label, so a view can light it. Connections made before the run wait in the
// accept queue; accept4 hands them out (and sleeps, or says EAGAIN, when there are none).
#include <stdexcept>

#include "sim/simulation.h"

namespace eps {

int Listing::at(std::string_view label) const {
  for (std::size_t i = 0; i < lines.size(); i++)
    if (lines[i].label == label) return int(i);
  throw std::logic_error("listing has no line labelled `" + std::string(label) + "`");
}

std::vector<std::string> Listing::text() const {
  std::vector<std::string> out;
  for (const Line& l : lines) out.push_back(l.text);
  return out;
}

namespace {

// The four lines every event loop's body has: read one request, EAGAIN, handle it, reply.
struct Body {
  int recv, eagain, handle, send;
  static Body of(const Listing& L) { return {L.at("recv"), L.at("eagain"), L.at("handle"), L.at("send")}; }
};

// Read one request, handle it, reply. Returns false when recvfrom said EAGAIN.
Co<bool> serve_one(Simulation& s, Task& t, int fd, Body b) {
  s.line(t, b.recv);
  Simulation::Recv r = co_await s.sys_recvfrom(t, fd, /*nonblock=*/true);
  if (r.result < 0) {
    s.line(t, b.eagain);
    co_return false;
  }
  s.line(t, b.handle);
  co_await s.user_work(t, r.skb);
  s.line(t, b.send);
  co_await s.sys_sendto(t, fd, r.skb);
  co_return true;
}

// ---- blocking: a thread per connection -------------------------------------------------------

const Listing kBlocking{{
    {"listen", "int lfd = listen_socket(port);"},
    {"", "for (;;) {"},
    {"accept", "  int fd = accept4(lfd, NULL, NULL, 0);"},
    {"clone", "  pthread_create(&tid, NULL, serve, (void *)fd);  /* clone() */"},
    {"", "}"},
    {"", "void *serve(int fd) {                 /* one thread per connection */"},
    {"", "  for (;;) {"},
    {"recv", "    ssize_t n = recvfrom(fd, buf, sizeof buf, 0, NULL, NULL);  /* sleeps in sk_wait_data */"},
    {"handle", "    handle(buf, n);                   /* work_us of user CPU */"},
    {"send", "    sendto(fd, reply, len, 0, NULL, 0);"},
    {"", "  }"},
    {"", "}"},
}};

// Each worker sleeps in recvfrom until its socket has data.
Co<void> blocking_worker(Simulation& s, Task& t, int fd) {
  const Listing& L = kBlocking;
  const int recv = L.at("recv"), handle = L.at("handle"), send = L.at("send");
  for (;;) {
    s.line(t, recv);
    Simulation::Recv r = co_await s.sys_recvfrom(t, fd, /*nonblock=*/false);
    if (r.result <= 0) co_return;
    s.line(t, handle);
    co_await s.user_work(t, r.skb);
    s.line(t, send);
    co_await s.sys_sendto(t, fd, r.skb);
  }
}

Co<void> blocking_main(Simulation& s, Task& t) {
  const Listing& L = kBlocking;
  const int accept = L.at("accept"), clone = L.at("clone");
  s.line(t, L.at("listen"));
  for (;;) {
    s.line(t, accept);
    const int fd = co_await s.sys_accept4(t, s.listen_fd());  // sleeps until a client connects
    if (fd < 0) co_return;
    s.line(t, clone);
    co_await s.sys_clone(t, "worker fd " + std::to_string(fd),
                         [fd](Simulation& sim, Task& w) { return blocking_worker(sim, w, fd); });
  }
}

// ---- busy-poll: non-blocking sockets, asked again and again ----------------------------------

const Listing kBusyPoll{{
    {"", "for (i = 0; i < nconns; i++)"},
    {"accept", "  fds[i] = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);"},
    {"", "for (;;) {                            /* never sleeps */"},
    {"", "  for (i = 0; i < nconns; i++) {"},
    {"recv", "    ssize_t n = recvfrom(fds[i], buf, sizeof buf, 0, NULL, NULL);"},
    {"eagain", "    if (n < 0 && errno == EAGAIN) continue;  /* nothing yet: next fd */"},
    {"handle", "    handle(buf, n);                   /* work_us of user CPU */"},
    {"send", "    sendto(fds[i], reply, len, 0, NULL, 0);"},
    {"", "  }"},
    {"", "}"},
}};

Co<void> busy_poll_main(Simulation& s, Task& t) {
  const Listing& L = kBusyPoll;
  const int accept = L.at("accept");
  const Body body = Body::of(L);
  Fds fds;
  for (int i = 0; i < s.connections(); i++) {
    s.line(t, accept);
    fds.push_back(co_await s.sys_accept4(t, s.listen_fd()));
  }
  for (;;) {
    for (int fd : fds) co_await serve_one(s, t, fd, body);
  }
}

// ---- select and poll: every fd, every call ---------------------------------------------------

const Listing kSelect{{
    {"", "for (i = 0; i < nconns; i++) {"},
    {"accept", "  int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);"},
    {"refuse", "  if (fd >= FD_SETSIZE) { close(fd); continue; }  /* FD_SET past 1024 is undefined */"},
    {"keep", "  fds[n++] = fd;"},
    {"", "}"},
    {"", "for (;;) {"},
    {"fd_set", "  FD_ZERO(&rfds); for (i = 0; i < n; i++) FD_SET(fds[i], &rfds);"},
    {"wait", "  int ready = select(maxfd + 1, &rfds, NULL, NULL, NULL);  /* scans every fd */"},
    {"", "  for (i = 0; i < n; i++) {"},
    {"", "    if (!FD_ISSET(fds[i], &rfds)) continue;"},
    {"recv", "    ssize_t r = recvfrom(fds[i], buf, sizeof buf, 0, NULL, NULL);"},
    {"eagain", "    if (r < 0 && errno == EAGAIN) continue;"},
    {"handle", "    handle(buf, r);                   /* work_us of user CPU */"},
    {"send", "    sendto(fds[i], reply, len, 0, NULL, 0);"},
    {"", "  }"},
    {"", "}"},
}};

const Listing kPoll{{
    {"", "for (i = 0; i < nconns; i++) {"},
    {"accept", "  pfds[i].fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);"},
    {"keep", "  pfds[i].events = POLLIN;"},
    {"", "}"},
    {"", "for (;;) {"},
    {"wait", "  int ready = poll(pfds, nconns, -1);  /* scans every fd */"},
    {"", "  for (i = 0; i < nconns; i++) {"},
    {"", "    if (!(pfds[i].revents & POLLIN)) continue;"},
    {"recv", "    ssize_t r = recvfrom(pfds[i].fd, buf, sizeof buf, 0, NULL, NULL);"},
    {"eagain", "    if (r < 0 && errno == EAGAIN) continue;"},
    {"handle", "    handle(buf, r);                   /* work_us of user CPU */"},
    {"send", "    sendto(pfds[i].fd, reply, len, 0, NULL, 0);"},
    {"", "  }"},
    {"", "}"},
}};

// select and poll: the same loop; select must refuse fds it cannot put in an fd_set.
Co<void> select_poll_main(Simulation& s, Task& t, bool is_select) {
  const Listing& L = is_select ? kSelect : kPoll;
  const int accept = L.at("accept"), keep = L.at("keep"), wait = L.at("wait");
  const int refuse = is_select ? L.at("refuse") : -1, fd_set = is_select ? L.at("fd_set") : -1;
  const Body body = Body::of(L);
  Fds fds;
  for (int i = 0; i < s.connections(); i++) {
    s.line(t, accept);
    int fd = co_await s.sys_accept4(t, s.listen_fd());
    if (is_select && fd >= FD_SETSIZE_) {
      s.line(t, refuse);
      co_await s.sys_close(t, fd);
      continue;
    }
    s.line(t, keep);
    fds.push_back(fd);
  }
  Fds ready;
  for (;;) {
    if (is_select) s.line(t, fd_set);
    s.line(t, wait);
    int n = is_select ? co_await s.sys_select(t, fds, ready) : co_await s.sys_poll(t, fds, ready);
    if (n < 0) co_return;
    for (int fd : ready) co_await serve_one(s, t, fd, body);
  }
}

Co<void> select_main(Simulation& s, Task& t) { return select_poll_main(s, t, true); }
Co<void> poll_main(Simulation& s, Task& t) { return select_poll_main(s, t, false); }

// ---- epoll, one thread ---------------------------------------------------------------------

const Listing kEpoll{{
    {"create", "int ep = epoll_create1(0);"},
    {"", "for (i = 0; i < nconns; i++) {"},
    {"accept", "  int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);"},
    {"", "  struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };"},
    {"add", "  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);"},
    {"", "}"},
    {"", "for (;;) {"},
    {"wait", "  int n = epoll_wait(ep, events, MAXEVENTS, -1);  /* only the ready ones */"},
    {"", "  for (i = 0; i < n; i++) {"},
    {"event", "    int fd = events[i].data.fd;"},
    {"recv", "    ssize_t r = recvfrom(fd, buf, sizeof buf, 0, NULL, NULL);"},
    {"eagain", "    if (r < 0 && errno == EAGAIN) continue;"},
    {"handle", "    handle(buf, r);                   /* work_us of user CPU */"},
    {"send", "    sendto(fd, reply, len, 0, NULL, 0);"},
    {"", "  }"},
    {"", "}"},
}};

const Listing kEpollEt{{
    {"create", "int ep = epoll_create1(0);"},
    {"", "for (i = 0; i < nconns; i++) {"},
    {"accept", "  int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);"},
    {"", "  struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.fd = fd };"},
    {"add", "  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);"},
    {"", "}"},
    {"", "for (;;) {"},
    {"wait", "  int n = epoll_wait(ep, events, MAXEVENTS, -1);"},
    {"", "  for (i = 0; i < n; i++) {"},
    {"event", "    int fd = events[i].data.fd;"},
    {"", "    for (;;) {                        /* edge-triggered: drain to EAGAIN */"},
    {"recv", "      ssize_t r = recvfrom(fd, buf, sizeof buf, 0, NULL, NULL);"},
    {"eagain", "      if (r < 0 && errno == EAGAIN) break;"},
    {"handle", "      handle(buf, r);                 /* work_us of user CPU */"},
    {"send", "      sendto(fd, reply, len, 0, NULL, 0);"},
    {"", "    }"},
    {"", "  }"},
    {"", "}"},
}};

const Listing kEpollEtReadOnce{{
    {"create", "int ep = epoll_create1(0);"},
    {"", "for (i = 0; i < nconns; i++) {"},
    {"accept", "  int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);"},
    {"", "  struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.fd = fd };"},
    {"add", "  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);"},
    {"", "}"},
    {"", "for (;;) {"},
    {"wait", "  int n = epoll_wait(ep, events, MAXEVENTS, -1);"},
    {"", "  for (i = 0; i < n; i++) {"},
    {"event", "    int fd = events[i].data.fd;"},
    {"", "    /* BUG: reads once. With EPOLLET, what is left in the queue */"},
    {"recv", "    ssize_t r = recvfrom(fd, buf, sizeof buf, 0, NULL, NULL);"},
    {"eagain", "    if (r < 0 && errno == EAGAIN) continue;  /* waits for the NEXT edge */"},
    {"handle", "    handle(buf, r);                   /* work_us of user CPU */"},
    {"send", "    sendto(fd, reply, len, 0, NULL, 0);"},
    {"", "  }"},
    {"", "}"},
}};

// One thread, one epoll instance: accept everyone, register each, then serve what is ready.
Co<void> epoll_loop(Simulation& s, Task& t, const Listing& L, bool et, bool read_once) {
  const int accept = L.at("accept"), add = L.at("add"), wait = L.at("wait"), event = L.at("event");
  const Body body = Body::of(L);
  s.line(t, L.at("create"));
  const int ep = co_await s.sys_epoll_create1(t);
  for (int i = 0; i < s.connections(); i++) {
    s.line(t, accept);
    int fd = co_await s.sys_accept4(t, s.listen_fd());
    s.line(t, add);
    co_await s.sys_epoll_ctl(t, ep, EPOLL_CTL_ADD, fd, et ? (EPOLLIN | EPOLLET) : EPOLLIN);
  }
  Fds ready;
  const int maxevents = s.scenario().kernel.maxevents;
  for (;;) {
    s.line(t, wait);
    int n = co_await s.sys_epoll_wait(t, ep, ready, maxevents);
    if (n < 0) co_return;
    for (int fd : ready) {  // events[] of this call
      s.line(t, event);
      if (!et || read_once) {
        co_await serve_one(s, t, fd, body);  // read_once: the bug, what else waits stays there
      } else {
        // Edge-triggered: the next wake-up only comes with new data, so drain to EAGAIN.
        while (co_await serve_one(s, t, fd, body)) {
        }
      }
    }
  }
}

Co<void> epoll_main(Simulation& s, Task& t) { return epoll_loop(s, t, kEpoll, false, false); }
Co<void> epoll_et_main(Simulation& s, Task& t) {
  const bool once = s.scenario().et_read_once;
  return epoll_loop(s, t, once ? kEpollEtReadOnce : kEpollEt, true, once);
}

// ---- many threads: epoll-shared, epoll-per-thread, reuseport ---------------------------------
//
// N workers (server.threads, default one per CPU); the main thread makes N - 1 and becomes the
// first itself. The listening socket is non-blocking and watched by epoll, so connections
// that arrive during the run are accepted as they come; each worker serves what its epoll_wait
// returns. The three differ in who shares what:
//   epoll-shared      one epoll instance, every worker asleep on its ep->wq
//   epoll-per-thread  an instance per worker, every instance watching the one listener
//   reuseport         an instance and a listening socket (SO_REUSEPORT) per worker

enum class Share { OneEpoll, EpollPerThread, Reuseport };

// The registrations' event masks, by epoll_flags: EPOLLET and EPOLLONESHOT apply to every
// registration (the listener's too); EPOLLEXCLUSIVE to the listener's only (exclusive
// wake-ups are for a file watched by several instances).
std::uint32_t conn_mask(std::uint32_t flags) { return EPOLLIN | (flags & (EPOLLET | EPOLLONESHOT)); }
std::uint32_t listener_mask(std::uint32_t flags) { return conn_mask(flags) | (flags & EPOLLEXCLUSIVE); }

std::string mask_text(std::uint32_t m) {
  std::string e = "EPOLLIN";
  if (m & EPOLLET) e += " | EPOLLET";
  if (m & EPOLLONESHOT) e += " | EPOLLONESHOT";
  if (m & EPOLLEXCLUSIVE) e += " | EPOLLEXCLUSIVE";
  return e;
}

Listing workers_listing(Share share, std::uint32_t flags) {
  Listing L;
  auto add = [&](std::string label, std::string text) { L.lines.push_back({std::move(label), std::move(text)}); };
  const bool et = flags & EPOLLET, oneshot = flags & EPOLLONESHOT;
  const std::string lfd = share == Share::Reuseport ? "lfd[me]" : "lfd";
  const std::string lev = "{ .events = " + mask_text(listener_mask(flags)) + ", .data.fd = " + lfd + " }";
  const std::string cev = "{ .events = " + mask_text(conn_mask(flags)) + ", .data.fd = c }";
  if (share == Share::Reuseport) {
    add("", "for (i = 0; i < nthreads; i++)             /* SO_REUSEPORT: a listening socket */");
    add("listen", "  lfd[i] = listen_socket_reuseport(port); /* per worker, O_NONBLOCK */");
  } else {
    add("listen", "int lfd = listen_socket(port);            /* O_NONBLOCK, shared by every worker */");
  }
  if (share == Share::OneEpoll) {
    add("create", "int ep = epoll_create1(0);                /* ONE instance for every worker */");
    add("", "struct epoll_event lev = " + lev + ";");
    add("add_listener", "epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);");
  }
  add("", "for (i = 1; i < nthreads; i++)");
  add("clone", "  pthread_create(&tid[i], NULL, worker, (void *)i);  /* clone() */");
  add("", "worker((void *)0);                        /* the main thread is worker 0 */");
  add("", "void *worker(void *arg) {");
  if (share != Share::OneEpoll) {
    add("", "  int me = (int)arg;");
    add("create", "  int ep = epoll_create1(0);              /* an instance per worker */");
    add("", "  struct epoll_event lev = " + lev + ";");
    add("add_listener", share == Share::EpollPerThread
                            ? "  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev); /* every instance watches lfd */"
                            : "  epoll_ctl(ep, EPOLL_CTL_ADD, lfd[me], &lev);");
  }
  add("", "  for (;;) {");
  add("wait", share == Share::OneEpoll ? "    int n = epoll_wait(ep, events, MAXEVENTS, -1);  /* all asleep on one ep->wq */"
                                       : "    int n = epoll_wait(ep, events, MAXEVENTS, -1);");
  add("", "    for (i = 0; i < n; i++) {");
  add("event", "      int fd = events[i].data.fd;");
  add("", "      if (fd == " + lfd + ") {");
  if (et) add("", "        for (;;) {                          /* EPOLLET: accept until EAGAIN */");
  const std::string in = et ? "  " : "";
  add("accept", in + "        int c = accept4(" + lfd + ", NULL, NULL, SOCK_NONBLOCK);");
  add("accept_eagain", in + (et ? "        if (c < 0) break;                 /* EAGAIN: none left */"
                                : "        if (c < 0) continue;              /* EAGAIN: another worker took it */"));
  add("", in + "        struct epoll_event ev = " + cev + ";");
  add("add", in + "        epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);");
  if (et) add("", "        }");
  if (oneshot) add("rearm_listener", "        epoll_ctl(ep, EPOLL_CTL_MOD, " + lfd + ", &lev);  /* EPOLLONESHOT: re-arm */");
  add("", "        continue;");
  add("", "      }");
  if (et) add("", "      for (;;) {                            /* edge-triggered: drain to EAGAIN */");
  add("recv", in + "      ssize_t r = recvfrom(fd, buf, sizeof buf, 0, NULL, NULL);");
  add("eagain", in + (et ? "      if (r < 0 && errno == EAGAIN) break;"
                         : "      if (r < 0 && errno == EAGAIN) continue;  /* nothing: another worker read it */"));
  add("handle", in + "      handle(buf, r);                     /* work_us of user CPU */");
  add("send", in + "      sendto(fd, reply, len, 0, NULL, 0);");
  if (et) add("", "      }");
  if (oneshot) {
    add("", "      struct epoll_event ev = { .events = " + mask_text(conn_mask(flags)) + ", .data.fd = fd };");
    add("rearm", "      epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);  /* EPOLLONESHOT: re-arm */");
  }
  add("", "    }");
  add("", "  }");
  add("", "}");
  return L;
}

Co<void> worker(Simulation& s, Task& t, Share share, int me, int shared_ep);

// The main thread: (epoll-shared: the instance and the listener's registration,) N - 1
// workers, then worker 0 itself.
Co<void> workers_main(Simulation& s, Task& t, Share share) {
  const std::uint32_t flags = s.scenario().epoll_flags;
  const Listing L = workers_listing(share, flags);
  int ep = -1;
  s.line(t, L.at("listen"));
  if (share == Share::OneEpoll) {
    s.line(t, L.at("create"));
    ep = co_await s.sys_epoll_create1(t);
    s.line(t, L.at("add_listener"));
    co_await s.sys_epoll_ctl(t, ep, EPOLL_CTL_ADD, s.listen_fd(), listener_mask(flags));
  }
  const int clone = L.at("clone");
  for (int i = 1; i < s.scenario().server_threads(); i++) {
    s.line(t, clone);
    co_await s.sys_clone(t, "worker " + std::to_string(i),
                         [share, i, ep](Simulation& sim, Task& w) { return worker(sim, w, share, i, ep); });
  }
  co_await worker(s, t, share, 0, ep);
}

Co<void> worker(Simulation& s, Task& t, Share share, int me, int ep) {
  const std::uint32_t flags = s.scenario().epoll_flags;
  const bool et = flags & EPOLLET, oneshot = flags & EPOLLONESHOT;
  const Listing L = workers_listing(share, flags);
  const int wait = L.at("wait"), event = L.at("event"), accept = L.at("accept"), accept_eagain = L.at("accept_eagain"),
            add = L.at("add");
  const int rearm = oneshot ? L.at("rearm") : -1, rearm_listener = oneshot ? L.at("rearm_listener") : -1;
  const Body body = Body::of(L);
  const int lfd = s.listen_fd(share == Share::Reuseport ? me : 0);
  if (share != Share::OneEpoll) {
    s.line(t, L.at("create"));
    ep = co_await s.sys_epoll_create1(t);
    s.line(t, L.at("add_listener"));
    co_await s.sys_epoll_ctl(t, ep, EPOLL_CTL_ADD, lfd, listener_mask(flags));
  }
  Fds ready;
  const int maxevents = s.scenario().kernel.maxevents;
  for (;;) {
    s.line(t, wait);
    int n = co_await s.sys_epoll_wait(t, ep, ready, maxevents);
    if (n < 0) co_return;
    for (int fd : ready) {  // events[] of this call
      s.line(t, event);
      if (fd == lfd) {
        do {
          s.line(t, accept);
          const int c = co_await s.sys_accept4(t, lfd);
          if (c < 0) {
            s.line(t, accept_eagain);
            break;
          }
          s.line(t, add);
          co_await s.sys_epoll_ctl(t, ep, EPOLL_CTL_ADD, c, conn_mask(flags));
        } while (et);
        if (oneshot) {
          s.line(t, rearm_listener);
          co_await s.sys_epoll_ctl(t, ep, EPOLL_CTL_MOD, lfd, listener_mask(flags));
        }
        continue;
      }
      if (et) {
        while (co_await serve_one(s, t, fd, body)) {
        }
      } else {
        co_await serve_one(s, t, fd, body);
      }
      if (oneshot) {
        s.line(t, rearm);
        co_await s.sys_epoll_ctl(t, ep, EPOLL_CTL_MOD, fd, conn_mask(flags));
      }
    }
  }
}

Co<void> epoll_shared_main(Simulation& s, Task& t) { return workers_main(s, t, Share::OneEpoll); }
Co<void> epoll_per_thread_main(Simulation& s, Task& t) { return workers_main(s, t, Share::EpollPerThread); }
Co<void> reuseport_main(Simulation& s, Task& t) { return workers_main(s, t, Share::Reuseport); }

// ---- the listings, as a function of the scenario ---------------------------------------------

Listing fixed(const Listing& L) { return L; }
Listing blocking_listing(const Scenario&) { return fixed(kBlocking); }
Listing busy_listing(const Scenario&) { return fixed(kBusyPoll); }
Listing select_listing(const Scenario&) { return fixed(kSelect); }
Listing poll_listing(const Scenario&) { return fixed(kPoll); }
Listing epoll_listing(const Scenario&) { return fixed(kEpoll); }
Listing epoll_et_listing(const Scenario& sc) { return fixed(sc.et_read_once ? kEpollEtReadOnce : kEpollEt); }
Listing shared_listing(const Scenario& sc) { return workers_listing(Share::OneEpoll, sc.epoll_flags); }
Listing per_thread_listing(const Scenario& sc) { return workers_listing(Share::EpollPerThread, sc.epoll_flags); }
Listing reuseport_listing(const Scenario& sc) { return workers_listing(Share::Reuseport, sc.epoll_flags); }

// THE strategy table. Its order is the enum's (checked below) and the column order of compare.
constexpr StrategyInfo kStrategies[] = {
    {Strategy::Blocking, "blocking", "a thread per connection, each asleep in recvfrom", WaitsWith::Recvfrom,
     false, false, false, false,
     "No epoll here: each thread sleeps in recvfrom on its own socket's wait queue (sk_wait_data).",
     blocking_listing, blocking_main, LiveServer::ThreadPerConnection},
    {Strategy::BusyPoll, "busy-poll", "one thread asks every non-blocking socket, again and again", WaitsWith::Nothing,
     false, false, false, false,
     "No epoll, no sleeping: the loop asks every non-blocking socket again and again, and gets EAGAIN.",
     busy_listing, busy_poll_main, LiveServer::EventLoop},
    {Strategy::Select, "select", "one thread; select() scans every fd on every call", WaitsWith::Scan,
     false, false, false, false,
     "No epoll here: every select call registers on every fd's wait queue (__pollwait), calls ->poll on each, "
     "and undoes it all before returning.",
     select_listing, select_main, LiveServer::EventLoop},
    {Strategy::Poll, "poll", "one thread; poll() scans every fd on every call", WaitsWith::Scan,
     false, false, false, false,
     "No epoll here: every poll call registers on every fd's wait queue (__pollwait), calls ->poll on each, "
     "and undoes it all before returning.",
     poll_listing, poll_main, LiveServer::EventLoop},
    {Strategy::Epoll, "epoll", "one thread; epoll_wait returns only the ready fds (level-triggered)",
     WaitsWith::Epoll, false, false, false, false, "", epoll_listing, epoll_main, LiveServer::EventLoop},
    {Strategy::EpollEt, "epoll-et", "one thread; edge-triggered epoll, each fd drained to EAGAIN",
     WaitsWith::Epoll, false, true, false, false, "", epoll_et_listing, epoll_et_main, LiveServer::EventLoop},
    {Strategy::EpollShared, "epoll-shared", "N threads asleep on ONE epoll instance", WaitsWith::Epoll,
     true, false, false, true, "", shared_listing, epoll_shared_main, LiveServer::Workers},
    {Strategy::EpollPerThread, "epoll-per-thread",
     "N threads, an epoll instance each, all watching one listening socket", WaitsWith::Epoll, true, false,
     false, true, "", per_thread_listing, epoll_per_thread_main, LiveServer::Workers},
    {Strategy::Reuseport, "reuseport",
     "N threads, each with its own epoll instance and SO_REUSEPORT listening socket", WaitsWith::Epoll, true,
     false, true, true, "", reuseport_listing, reuseport_main, LiveServer::Workers},
};

constexpr std::size_t kStrategyCount = sizeof kStrategies / sizeof kStrategies[0];

// Checked when this file compiles, not at run time: one row per value, in the enum's order.
constexpr bool table_in_enum_order() {
  for (std::size_t i = 0; i < kStrategyCount; i++)
    if (kStrategies[i].id != Strategy(i)) return false;
  return true;
}
static_assert(kStrategyCount == kStrategyValues, "kStrategies needs exactly one row per Strategy value");
static_assert(table_in_enum_order(), "kStrategies' rows must follow the Strategy enum's order");

}  // namespace

const StrategyInfo& strategy_info(Strategy s) {
  const auto i = std::size_t(s);
  if (i >= kStrategyCount || kStrategies[i].id != s) throw std::logic_error("strategy table out of order");
  return kStrategies[i];
}

const std::vector<Strategy>& all_strategies() {
  static const std::vector<Strategy> all = [] {
    std::vector<Strategy> v;
    for (const StrategyInfo& i : kStrategies) v.push_back(i.id);
    return v;
  }();
  return all;
}

std::string_view strategy_name(Strategy s) {
  const auto i = std::size_t(s);
  return i < kStrategyCount ? kStrategies[i].name : std::string_view("unknown");
}

std::optional<Strategy> parse_strategy(std::string_view name) {
  for (const StrategyInfo& i : kStrategies)
    if (i.name == name) return i.id;
  return std::nullopt;
}

std::string strategy_names(std::string_view sep) {
  std::string out;
  for (const StrategyInfo& i : kStrategies) {
    if (!out.empty()) out += sep;
    out += i.name;
  }
  return out;
}

}  // namespace eps
