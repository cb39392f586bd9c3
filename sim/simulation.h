// The simulated machine: CPUs and the scheduler, the receive path (NIC, NAPI, NET_RX
// softirq), sockets and their wait queues, the fd table, any number of epoll instances,
// select/poll, the server program of one strategy and the clients across the wire. Each is
// a component with its own state, divided the way the kernel's files divide it; Simulation
// wires them, runs the event loop, and offers the programs their system calls.
//
// Rules of the model (what a student may rely on):
//  - Time is integer nanoseconds. Scheduled happenings run in (time, sequence) order, so two at
//    the same time run in the order they were scheduled. Time never runs backward (asserted).
//  - All randomness comes from the scenario's seed: same scenario + seed = same trace, byte for
//    byte.
//  - Code of a simulated thread runs only while that thread is current on a CPU in task
//    context. Anything that costs time is a co_await; the CPU may be interrupted during it (the
//    hard IRQ and the softirq run on top and push the rest of the work later).
//  - The NIC has one RX queue; its IRQ goes to CPU 0 (no RSS). Load balancing is the three
//    moments of sched.cpp (a new thread's CPU, a woken task's, newidle_balance), not periodic.
//  - The epoll model follows Linux 6.1's fs/eventpoll.c. ep_send_events runs as one step in
//    the model, so what 6.1 would park on ovflist during the scan lands on rdllist right
//    after it.
//  - Not modelled: TCP retransmission (a packet dropped at the NIC is a failed request), the
//    SYN and SYN-ACK of a handshake (only its last ACK crosses the NIC), the
//    netdev_budget_usecs time limit, SMP locking.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/clients.h"
#include "sim/co.h"
#include "sim/core.h"
#include "sim/eventpoll.h"
#include "sim/fdtable.h"
#include "sim/metrics.h"
#include "sim/net.h"
#include "sim/sched.h"
#include "sim/select.h"
#include "sim/sock.h"
#include "sim/strategy.h"
#include "sim/uapi.h"
#include "sim/wait.h"

namespace eps {

class Simulation;
using ProgramFn = std::function<Co<void>(Simulation&, Task&)>;

struct RunOptions {
  bool record_trace = true;        // false: metrics only (fast, little memory)
  ProgramFn program_override;      // tests: run this instead of the strategy's program
};

class Simulation {
 public:
  explicit Simulation(Scenario sc, RunOptions opt = {});
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  // Runs to the end (all requests answered after duration, or duration + drain).
  void run();
  // Runs until simulated time `t` (or the end); returns false once the run has ended.
  bool run_until(SimTime t);

  const Scenario& scenario() const { return sc_; }
  const Trace& trace() const { return k_.trace; }
  Trace take_trace() {
    k_.trace.events.shrink_to_fit();  // growth by doubling leaves up to half unused
    return std::move(k_.trace);
  }
  Metrics metrics() const;
  SimTime now() const { return k_.now(); }
  bool finished() const { return finished_; }
  std::uint64_t engine_events() const { return k_.q.popped(); }

  // Read-only access to the components, for tests and for checking replay against the model.
  const Scheduler& sched() const { return sched_; }
  const Sockets& sockets() const { return socks_; }
  const FdTable& files() const { return files_; }
  const Epoll& epoll() const { return epoll_; }
  const NetRx& net() const { return net_; }
  const Clients& clients() const { return clients_; }
  const Accounting& accounting() const { return k_.acct; }

  // ---- the system calls, as a program sees them ----
  struct Recv { int result = 0; Skb skb; };
  Co<int> sys_accept4(Task& t, int lfd);
  Co<int> sys_clone(Task& t, std::string name, ProgramFn fn);
  Co<int> sys_close(Task& t, int fd);
  Co<Recv> sys_recvfrom(Task& t, int fd, bool nonblock);
  Co<int> sys_sendto(Task& t, int fd, const Skb& request);
  Co<int> sys_select(Task& t, const Fds& fds, Fds& ready) { return select_.select(t, fds, ready); }
  Co<int> sys_poll(Task& t, const Fds& fds, Fds& ready) { return select_.poll(t, fds, ready); }
  Co<int> sys_epoll_create1(Task& t) { return epoll_.epoll_create1(t); }
  Co<int> sys_epoll_ctl(Task& t, int epfd, int op, int fd, std::uint32_t events) {
    return epoll_.epoll_ctl(t, epfd, op, fd, events);
  }
  Co<int> sys_epoll_wait(Task& t, int epfd, Fds& ready, int maxevents) {
    return epoll_.epoll_wait(t, epfd, ready, maxevents);
  }
  // User-mode work of a request (the server's own code).
  Co<void> user_work(Task& t, const Skb& request);
  // The program reached this line of its listing (the GUI lights it).
  void line(Task& t, int n) { k_.emit(Ev::ProgramLine, t.cpu, t.id, kNone, std::uint32_t(n)); }
  // The listening sockets, made before the run (listen_socket(port) in the listings): fd of
  // the k-th; with SO_REUSEPORT there is one per thread.
  int listen_fd(int k = 0) const { return listen_fds_[std::size_t(k)]; }
  int connections() const { return int(clients_.size()); }
  // The clients' side changed: end the run if everyone has sent and been answered.
  void maybe_finish();

 private:
  void dispatch(const QEvent& e);
  void finish(SimTime at);

  Scenario sc_;
  RunOptions opt_;
  Core k_;
  Scheduler sched_;
  WaitQueues wait_;
  FdTable files_;
  Sockets socks_;
  Clients clients_;
  NetRx net_;
  Epoll epoll_;
  SelectPoll select_;
  std::vector<int> listen_fds_;
  bool finished_ = false;
  SimTime end_ = 0;
};

}  // namespace eps
