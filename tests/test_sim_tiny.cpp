// Hand-derived exact timelines: one connection, one request, one CPU, default costs
// (docs/kernel.md §4: syscall 100 ns split 50/50, context switch 2 us, wake-up 2 us,
// hard IRQ 1 us, softirq 1 us per packet, poll 300 ns per fd, epoll_wait 200 ns + 50 ns per
// item, epoll_ctl 500 ns, accept 1 us, clone 20 us, copy 100 ns per KiB, transmit 1 us,
// wire 10 us each way, work 20 us). The client sends at t = 0; the packet reaches the NIC at
// 10 us; the IRQ and softirq take it to the socket at 12 us.
#include <catch2/catch.hpp>

#include "sim_fixtures.h"

using namespace eps;
using namespace eps::test;

namespace {

struct Run {
  Metrics m;
  Trace t;
};

Run run(Strategy s) {
  Simulation sim(one_request(s));
  sim.run();
  return Run{sim.metrics(), sim.take_trace()};
}

}  // namespace

// epoll, step by step (ns):
//      0  start: context switch to P                                      -> 2000
//   2000  epoll_create1 100                                               -> 2100
//   2100  accept4 50 + 1000 + 50                                          -> 3200 (fd 5)
//   3200  epoll_ctl ADD 50 + 500 + 50 (socket empty: not on rdllist)      -> 3800
//   3800  epoll_wait 50 + 200, rdllist empty: sleep on ep->wq             -> 4050
//   4050  switch P -> idle                                                -> 6050
//  10000  NIC: RX ring, hard IRQ                                          -> 11000
//  11000  softirq: the packet                                             -> 12000
//  12000  tcp_data_ready -> ep_poll_callback -> rdllist -> wake P (need_resched in softirq)
//  12000  irq exit: switch idle -> P                                      -> 14000
//  14000  ep_send_events: 1 item, 50 + copy 12 B (1 ns); exit 50          -> 14101 (n = 1)
//  14101  recvfrom 50 + copy 64 B (6 ns) + 50                             -> 14207
//  14207  work 20000                                                      -> 34207
//  34207  sendto 50 + 1000 + 6 + 50 (the reply leaves at 35263)           -> 35313
//  35313  epoll_wait 50 + 200; the LT item is re-polled: empty, dropped (50 ns); sleep -> 35613
//  35613  switch P -> idle                                                -> 37613
//  45263  the reply reaches the client: latency 45263 ns; the run ends.
// CPU: user 20000; softirq 2000; P's system = 3663 in syscalls + 4 switches x 2000 = 11663;
// idle = 45263 - 20000 - 11663 - 2000 = 11600.
TEST_CASE("tiny: epoll, one request, exact timeline", "[sim][tiny]") {
  Run r = run(Strategy::Epoll);
  REQUIRE(r.m.requests_completed == 1);
  REQUIRE(r.m.duration_ns == 45263);
  REQUIRE(r.m.latency_max_us == 45);
  REQUIRE(r.m.cpu_user_ns == 20000);
  REQUIRE(r.m.cpu_system_ns == 11663);
  REQUIRE(r.m.cpu_softirq_ns == 2000);
  REQUIRE(r.m.cpu_idle_ns == 11600);
  REQUIRE(r.m.syscalls == std::map<std::string, std::uint64_t>{
      {"accept4", 1}, {"epoll_create1", 1}, {"epoll_ctl", 1}, {"epoll_wait", 2}, {"recvfrom", 1}, {"sendto", 1}});
  REQUIRE(r.m.fds_scanned == 2);  // the ready item, then the LT re-check of it
  REQUIRE(r.m.eagain == 0);
  REQUIRE(r.m.ctx_voluntary == 2);
  REQUIRE(r.m.ctx_involuntary == 0);
  REQUIRE(r.m.wakeups == 1);
  REQUIRE(r.m.softirq_net_rx == 1);
  REQUIRE(r.m.softirq_packets == 1);

  // The path of the packet, in the kernel's order (docs/kernel.md §1).
  auto path = kinds(r.t, {Ev::NicRx, Ev::HardIrq, Ev::NapiSchedule, Ev::Softirq, Ev::NapiRx, Ev::SkbQueue,
                          Ev::RdllistAdd, Ev::TryToWakeUp, Ev::ContextSwitch, Ev::RdllistRemove,
                          Ev::SkbDequeue});
  std::vector<Ev> want = {
      Ev::ContextSwitch,                                   // start: P on the CPU
      Ev::ContextSwitch,                                   // P sleeps in epoll_wait
      Ev::NicRx, Ev::HardIrq, Ev::NapiSchedule, Ev::HardIrq, Ev::Softirq, Ev::NapiRx, Ev::SkbQueue,
      Ev::RdllistAdd,                                      // ep_poll_callback
      Ev::TryToWakeUp,                                     // wakes the exclusive waiter
      Ev::Softirq,                                         // softirq exit, then irq exit:
      Ev::ContextSwitch,                                   // idle -> P
      Ev::RdllistRemove, Ev::RdllistAdd,                   // ep_send_events: LT re-queue
      Ev::SkbDequeue,                                      // recvfrom
      Ev::RdllistRemove,                                   // next epoll_wait: stale, dropped
      Ev::ContextSwitch,                                   // P sleeps again
  };
  REQUIRE(path == want);
  const TraceEvent* wake = first(r.t, Ev::TryToWakeUp);
  REQUIRE(wake->t == 12000);
  const TraceEvent* ret = nullptr;
  for (const TraceEvent& e : r.t.events)
    if (e.kind == Ev::SyscallExit && Sys(e.a) == Sys::EpollWait) { ret = &e; break; }
  REQUIRE(ret->t == 14101);
  REQUIRE(std::int32_t(ret->b) == 1);
  // The flow id ties the packet to its wake-up and to the read that took it.
  REQUIRE(wake->flow == first(r.t, Ev::NicRx)->flow);
  REQUIRE(first(r.t, Ev::SkbDequeue)->flow == wake->flow);
}

// epoll-et: as epoll up to the reply (35313), then the program drains to EAGAIN
// (recvfrom 100 ns -> 35413), and epoll_wait finds rdllist empty: ET does not re-queue.
TEST_CASE("tiny: epoll-et, one request: drains to EAGAIN, no re-check", "[sim][tiny]") {
  Run r = run(Strategy::EpollEt);
  REQUIRE(r.m.duration_ns == 45263);
  REQUIRE(r.m.syscalls.at("recvfrom") == 2);
  REQUIRE(r.m.eagain == 1);
  REQUIRE(r.m.fds_scanned == 1);
  REQUIRE(of_kind(r.t, Ev::RdllistAdd).size() == 1);  // only ep_poll_callback's
  // The second epoll_wait sleeps at 35413 + 250.
  auto sw = of_kind(r.t, Ev::ContextSwitch);
  REQUIRE(sw.back().t == 35663);
}

// blocking (thread per connection), fds from 4:
//      0  switch to main                                                  -> 2000
//   2000  accept4 1100                                                    -> 3100 (fd 4)
//   3100  clone: enter 50, body 20000, interrupted 10000..12000 by the IRQ and softirq
//         (the packet goes to the socket; nobody waits yet)               -> 25150
//  25150  clone exit 50; the worker is runnable                           -> 25200
//  25200  accept4 again: enter 50, nobody left: main sleeps               -> 25250
//  25250  switch main -> worker                                           -> 27250
//  27250  recvfrom finds the request: 50 + 6 + 50                         -> 27356
//  27356  work 20000; sendto 1106 (reply leaves at 48412)                 -> 48462
//  48462  recvfrom: queue empty, sk_wait_data: sleep                      -> 48512
//  58412  the reply arrives: latency 58412 ns.
TEST_CASE("tiny: blocking, one request: a thread per connection", "[sim][tiny]") {
  Run r = run(Strategy::Blocking);
  REQUIRE(r.m.duration_ns == 58412);
  REQUIRE(r.m.latency_max_us == 58);
  REQUIRE(r.m.syscalls == std::map<std::string, std::uint64_t>{
      {"accept4", 2}, {"clone", 1}, {"recvfrom", 2}, {"sendto", 1}});
  REQUIRE(r.m.ctx_voluntary == 2);  // main in accept4, the worker in recvfrom
  REQUIRE(r.m.wakeups == 0);        // the data was there before the worker asked
  std::vector<TraceEvent> workers;
  for (const TraceEvent& e : of_kind(r.t, Ev::TaskCreate))
    if (TaskKind(e.a) == TaskKind::ServerWorker) workers.push_back(e);
  REQUIRE(workers.size() == 1);
  REQUIRE(workers[0].t == 25150);
  REQUIRE(r.t.strings[workers[0].b] == "worker fd 4");
  // The worker slept on the socket's wait queue (socket 0: the first connection) with a plain
  // wake entry; the main thread sleeps on the listener's (socket 1) as an exclusive waiter.
  bool waited = false, accept_waits = false;
  for (const TraceEvent& e : r.t.events) {
    if (e.kind != Ev::WaitAdd || wait_kind_of(e.a) != WaitKind::TaskWake) continue;
    if (e.obj == 0 && !(e.a & kWaitExclusive)) waited = true;
    if (e.obj == 1 && (e.a & kWaitExclusive) && (e.a & kWaitAtTail)) accept_waits = true;
  }
  REQUIRE(accept_waits);
  // fds follow alloc_fd: 0-2 stdio, 3 the listening socket, 4 the connection.
  std::vector<std::uint32_t> fds;
  for (const TraceEvent& e : of_kind(r.t, Ev::FdInstall)) fds.push_back(e.obj);
  REQUIRE(fds == std::vector<std::uint32_t>{3, 4});
  REQUIRE(waited);
}

// select (fds from 4): fd_set copies are 3 x 8 bytes (2 ns each way).
//   3100  select: enter 50, copy-in 2, pass over 1 fd 300, none ready:
//         __pollwait on fd 4's queue; sleep                               -> 3452
//  12000  pollwake: triggered, wake P; switch                             -> 14000
//  14000  rescan 300 (no new registration), 1 ready; poll_freewait; copy-out 2; exit 50 -> 14352
//  14352  recvfrom 106, work 20000, sendto 1106 (reply leaves at 45514)   -> 35564
//  35564  select again: 352, sleep.                    the reply arrives at 45514.
// system: 1100 + 352 + 352 + 106 + 1106 + 352 = 3368, + 4 switches = 11368.
TEST_CASE("tiny: select, one request: scan, register, sleep, rescan", "[sim][tiny]") {
  Run r = run(Strategy::Select);
  REQUIRE(r.m.duration_ns == 45514);
  REQUIRE(r.m.cpu_system_ns == 11368);
  REQUIRE(r.m.fds_scanned == 3);
  REQUIRE(r.m.syscalls.at("select") == 2);
  REQUIRE(r.m.ctx_voluntary == 2);
  REQUIRE(r.m.wakeups == 1);
  // Registered on the first pass, removed by poll_freewait after the call, registered again.
  auto adds = of_kind(r.t, Ev::WaitAdd);
  auto removes = of_kind(r.t, Ev::WaitRemove);
  REQUIRE(adds.size() == 2);
  REQUIRE(removes.size() == 1);
  REQUIRE(wait_kind_of(adds[0].a) == WaitKind::PollWake);
  REQUIRE(adds[0].t == 3452);
  REQUIRE(removes[0].t == 14300);
}

// poll: the same, but a pollfd array of 8 bytes copies in 0 ns (8 x 100 / 1024 rounds down):
// every step after the first pass is 2 ns earlier than select's; the reply leaves at 35512.
TEST_CASE("tiny: poll, one request", "[sim][tiny]") {
  Run r = run(Strategy::Poll);
  REQUIRE(r.m.duration_ns == 45512);
  REQUIRE(r.m.cpu_system_ns == 11362);
  REQUIRE(r.m.fds_scanned == 3);
}

// busy-poll: recvfrom returns EAGAIN every 100 ns from 3100. The call that ends at 10000
// is caught by the IRQ with nothing left to do and returns at 12000: 69 EAGAINs. The 70th call
// reads the request (12000 -> 12106); work, sendto: the reply leaves at 33162 and the
// program spins again from 33212: 99 more EAGAINs, the 100th call is in progress at 43162
// when the reply arrives. 170 recvfrom, 168 EAGAIN, never a sleep.
TEST_CASE("tiny: busy-poll, one request: EAGAIN every 100 ns", "[sim][tiny]") {
  Run r = run(Strategy::BusyPoll);
  REQUIRE(r.m.duration_ns == 43162);
  REQUIRE(r.m.syscalls.at("recvfrom") == 170);
  REQUIRE(r.m.eagain == 168);
  REQUIRE(r.m.ctx_voluntary == 0);
  REQUIRE(r.m.cpu_idle_ns == 0);
  REQUIRE(r.m.wakeups == 0);
}

TEST_CASE("tiny: every request ends completed or failed", "[sim][tiny]") {
  for (Strategy s : all_strategies()) {
    Run r = run(s);
    INFO(strategy_name(s));
    REQUIRE(r.m.requests_sent == r.m.requests_completed + r.m.requests_failed);
    // CPU time is conserved: every nanosecond of every CPU is accounted once.
    REQUIRE(r.m.cpu_user_ns + r.m.cpu_system_ns + r.m.cpu_softirq_ns + r.m.cpu_idle_ns + r.m.cpu_background_ns ==
            r.m.duration_ns);
  }
}
