// From the wire to a waiting task: the NIC, the hard IRQ, NET_RX softirq, the socket's
// receive queue and wait queue, ep_poll_callback; and the clients on the other side.
// docs/kernel.md §1 walks the same path step by step, and §7 says where the model departs
// from it; the kernel function each piece mirrors is named where it happens.
#include <cassert>

#include "sim/arrivals.h"
#include "sim/simulation.h"

namespace eps {

// ---- interrupts -------------------------------------------------------------------------

// The device raises its IRQ on CPU 0: whatever runs there in task context stops for now.
void Simulation::interrupt_enter(Cpu& c) {
  assert(c.irq == Cpu::Irq::None);
  if (c.act != Cpu::Act::None) {
    c.act_left = c.act_end - now();
    c.act_gen++;  // its scheduled end is void; it is rescheduled at irq exit
    if (c.act == Cpu::Act::Run) c.curr->vruntime += now() - c.run_start;
  }
  c.saved_mode = c.mode;
  c.saved_owner = c.mode_task;
  c.irq = Cpu::Irq::Hard;
  set_mode(c, CpuMode::HardIrq, nullptr);
  emit(Ev::HardIrq, c.id, kNoTask, kNone, 1);
  q_.push(now() + sc_.costs.irq_ns, kIrqDone, std::uint32_t(c.id), ++c.irq_gen);
}

// irq_exit, after the softirq: back to task context, switching first if a wake-up asked to.
void Simulation::interrupt_exit(Cpu& c) {
  c.irq = Cpu::Irq::None;
  if (c.act == Cpu::Act::None) {
    // The idle task was interrupted (task context is never "between" activities otherwise).
    set_mode(c, CpuMode::Idle, nullptr);
    if (c.need_resched || !c.rq.empty()) schedule(c, false);
    return;
  }
  if (c.act == Cpu::Act::Run && c.need_resched) {
    c.curr->seg_remaining = c.act_left;
    c.act = Cpu::Act::None;
    schedule(c, true);
    return;
  }
  set_mode(c, c.saved_mode, c.saved_owner);
  if (c.act == Cpu::Act::Run) c.run_start = now();
  c.act_end = now() + c.act_left;
  q_.push(c.act_end, kActDone, std::uint32_t(c.id), ++c.act_gen);
}

void Simulation::on_irq_done(Cpu& c) {
  if (c.irq == Cpu::Irq::Hard) {
    // The driver's handler: mask the device IRQ, napi_schedule (poll_list, raise NET_RX).
    napi_scheduled_ = true;
    emit(Ev::NapiSchedule, c.id, kNoTask, kNone);
    emit(Ev::HardIrq, c.id, kNoTask, kNone, 0);
    // irq_exit -> invoke_softirq: pending softirqs run right here.
    c.softirq_restarts = 0;
    c.softirq_since = now();
    softirq_start(c);
  } else if (c.irq == Cpu::Irq::Soft) {
    net_rx_deliver(c, c.softirq_skb);
    c.softirq_done_in_run++;
    softirq_next_packet(c);
  }
}

// handle_softirqs -> net_rx_action: one run, counted in /proc/softirqs.
void Simulation::softirq_start(Cpu& c) {
  c.irq = Cpu::Irq::Soft;
  set_mode(c, CpuMode::Softirq, nullptr);
  st_.net_rx++;
  c.softirq_done_in_run = 0;
  emit(Ev::Softirq, c.id, kNoTask, kNone, 1, 0);
  softirq_next_packet(c);
}

// The NAPI poll loop: take packets off the RX ring until it is empty or the budget is spent.
void Simulation::softirq_next_packet(Cpu& c) {
  if (ring_.empty()) {
    // napi_complete_done: off the poll_list, device IRQ unmasked again.
    napi_scheduled_ = false;
    emit(Ev::Softirq, c.id, kNoTask, kNone, 0, std::uint32_t(c.softirq_done_in_run));
    interrupt_exit(c);
    return;
  }
  if (c.softirq_done_in_run >= sc_.kernel.netdev_budget) {
    // Budget spent: time_squeeze++, NET_RX raised again. handle_softirqs restarts it, at
    // most 10 times and for 2 ms (MAX_SOFTIRQ_RESTART, MAX_SOFTIRQ_TIME); after that it
    // wakes ksoftirqd and returns: the rest is done by a thread the scheduler can weigh
    // against the others. NAPI stays scheduled, so the device IRQ stays masked meanwhile.
    st_.time_squeeze++;
    emit(Ev::TimeSqueeze, c.id, kNoTask, kNone);
    emit(Ev::Softirq, c.id, kNoTask, kNone, 0, std::uint32_t(c.softirq_done_in_run));
    if (++c.softirq_restarts < 10 && now() - c.softirq_since < 2'000'000) {
      softirq_start(c);
    } else {
      try_to_wake_up(*ksoftirqd_);
      interrupt_exit(c);
    }
    return;
  }
  c.softirq_skb = ring_.front();
  ring_.pop_front();
  st_.softirq_packets++;
  emit(Ev::NapiRx, c.id, kNoTask, c.softirq_skb.conn, std::uint32_t(ring_.size()), 0, c.softirq_skb.flow);
  q_.push(now() + sc_.costs.softirq_packet_ns, kIrqDone, std::uint32_t(c.id), ++c.irq_gen);
}

// netif_receive_skb -> ip_rcv -> tcp_v4_rcv -> tcp_rcv_established: onto sk_receive_queue.
// (The process never holds the socket lock across a sleep here, so the backlog path is not
// taken in the model.)
void Simulation::net_rx_deliver(Cpu& c, const Skb& skb) {
  Socket& s = *socks_[skb.conn];
  if (s.refused) {
    // The server closed this connection: the kernel answers with a reset.
    Client& cl = clients_[skb.conn];
    if (cl.state[skb.req] == 0) {
      cl.state[skb.req] = 3;
      outstanding_--;
      st_.fail(FailReason::Refused);
      emit(Ev::RequestFailed, c.id, kNoTask, skb.conn, skb.req, std::uint32_t(FailReason::Refused), skb.flow);
      if (!cl.finished_sending) { cl.finished_sending = true; clients_sending_--; }
      maybe_finish();
    }
    return;
  }
  s.rxq.push_back(skb);
  emit(Ev::SkbQueue, c.id, kNoTask, s.fd, std::uint32_t(s.rxq.size()), std::uint32_t(ring_.size()), skb.flow);
  sk_data_ready(s, skb.flow);
}

// sock_def_readable: wake whoever waits on the socket, with EPOLLIN.
void Simulation::sk_data_ready(Socket& s, std::uint32_t flow) {
  if (!s.wq.entries.empty()) wake_up(s.wq, 1, flow);
}

// __wake_up_common: call each entry's wake function; stop after nr_exclusive exclusive
// entries have really woken someone. Non-exclusive entries are all called.
int Simulation::wake_up(WaitQueue& wq, int nr_exclusive, std::uint32_t flow) {
  int woken = 0;
  // Entries remove themselves as we go: walk a copy. ep_poll_callback wakes ep->wq from
  // inside a socket's walk, so walks nest (two deep); each depth reuses its own buffer.
  assert(wake_depth_ < 2);
  std::vector<WaitEntry>& entries = wake_scratch_[wake_depth_++];
  entries.assign(wq.entries.begin(), wq.entries.end());
  struct Leave { int& d; ~Leave() { d--; } } leave{wake_depth_};
  for (const WaitEntry& e : entries) {
    std::uint32_t who = e.kind == WaitKind::EpCallback ? e.epi->fd : e.task->id;
    emit(Ev::WaitWake, cpus_[0].id, e.task ? e.task->id : kNoTask, wq.owner_fd, std::uint32_t(e.kind), who, flow);
    bool ret = false;
    switch (e.kind) {
      case WaitKind::TaskWake:  // autoremove_wake_function: off the queue if it woke
        ret = try_to_wake_up(*e.task, flow);
        if (ret) wait_remove(wq, e.kind, e.task);
        break;
      case WaitKind::PollWake:  // pollwake: mark triggered so the poller rescans
        e.pt->triggered = true;
        ret = try_to_wake_up(*e.task, flow);
        break;
      case WaitKind::EpCallback:
        ep_poll_callback(*e.epi, flow);
        break;
      case WaitKind::EpWait:    // ep_autoremove_wake_function (6.1): always off the queue
        ret = try_to_wake_up(*e.task, flow);
        wait_remove(wq, e.kind, e.task);
        break;
    }
    if (ret) woken++;
    if (ret && e.exclusive && --nr_exclusive == 0) break;
  }
  return woken;
}

// ep_poll_callback (fs/eventpoll.c): the socket is readable. Link the epitem on rdllist if it
// is not there yet, and wake one task sleeping in epoll_wait on this epoll instance.
void Simulation::ep_poll_callback(EpItem& epi, std::uint32_t flow) {
  if (!(epi.events & EPOLLIN)) return;  // disarmed by EPOLLONESHOT until EPOLL_CTL_MOD
  EventPoll& ep = *epi.ep;
  if (!epi.on_rdllist) rdllist_add(ep, epi, flow);
  if (!ep.wq.entries.empty()) wake_up(ep.wq, 1, flow);
}

void Simulation::rdllist_add(EventPoll& ep, EpItem& epi, std::uint32_t flow) {
  epi.on_rdllist = true;
  ep.rdllist.push_back(&epi);
  emit(Ev::RdllistAdd, 0, kNoTask, ep.epfd, epi.fd, std::uint32_t(ep.rdllist.size()), flow);
}

void Simulation::wait_add(WaitQueue& wq, WaitEntry e) {
  wq.entries.push_back(e);
  std::uint32_t who = e.kind == WaitKind::EpCallback ? e.epi->fd : e.task->id;
  emit(Ev::WaitAdd, e.task ? e.task->cpu : 0, e.task ? e.task->id : kNoTask, wq.owner_fd,
       std::uint32_t(e.kind), who);
}

void Simulation::wait_remove(WaitQueue& wq, WaitKind kind, const void* who) {
  for (auto it = wq.entries.begin(); it != wq.entries.end(); ++it) {
    const void* w = kind == WaitKind::EpCallback ? static_cast<const void*>(it->epi)
                                                 : static_cast<const void*>(it->task);
    if (it->kind != kind || w != who) continue;
    std::uint32_t id = kind == WaitKind::EpCallback ? it->epi->fd : it->task->id;
    emit(Ev::WaitRemove, 0, it->task ? it->task->id : kNoTask, wq.owner_fd, std::uint32_t(kind), id);
    wq.entries.erase(it);
    return;
  }
}

// run_ksoftirqd: the same net_rx_action, in a kernel thread's context, until the ring is
// empty (napi_complete_done); then it sleeps until handed work again.
Co<void> Simulation::ksoftirqd_main(Task& t) {
  for (;;) {
    while (napi_scheduled_) {
      st_.net_rx++;
      emit(Ev::Softirq, t.cpu, t.id, kNone, 1, 0);
      int done = 0;
      while (!ring_.empty() && done < sc_.kernel.netdev_budget) {
        Skb skb = ring_.front();
        ring_.pop_front();
        st_.softirq_packets++;
        emit(Ev::NapiRx, t.cpu, t.id, skb.conn, std::uint32_t(ring_.size()), 0, skb.flow);
        co_await burn(t, CpuMode::Softirq, sc_.costs.softirq_packet_ns);
        net_rx_deliver(cpus_[std::size_t(t.cpu)], skb);
        done++;
      }
      if (ring_.empty()) {
        napi_scheduled_ = false;
      } else {
        st_.time_squeeze++;
        emit(Ev::TimeSqueeze, t.cpu, t.id, kNone);
      }
      emit(Ev::Softirq, t.cpu, t.id, kNone, 0, std::uint32_t(done));
    }
    co_await block(t);
  }
}

// ---- the NIC ------------------------------------------------------------------------------

// A frame arrives: DMA into the RX ring, and the IRQ unless NAPI is already polling.
void Simulation::nic_receive(const Skb& skb) {
  if (int(ring_.size()) >= sc_.kernel.rx_ring) {
    st_.nic_drops++;
    clients_[skb.conn].state[skb.req] = 2;
    emit(Ev::NicDrop, 0, kNoTask, skb.conn, std::uint32_t(ring_.size()), 0, skb.flow);
    return;
  }
  ring_.push_back(skb);
  emit(Ev::NicRx, 0, kNoTask, skb.conn, std::uint32_t(ring_.size()), skb.req, skb.flow);
  Cpu& c0 = cpus_[0];
  if (!napi_scheduled_ && c0.irq == Cpu::Irq::None) interrupt_enter(c0);
}

// ---- clients --------------------------------------------------------------------------------

void Simulation::client_send(Client& cl) {
  if (cl.finished_sending) return;  // its connection was reset: it sends no more
  std::uint32_t req = cl.sent++;
  std::uint32_t flow = next_flow_++;
  cl.send_t.push_back(now());
  cl.state.push_back(0);
  st_.sent++;
  outstanding_++;
  emit(Ev::ClientSend, 0, kNoTask, cl.conn, req, 0, flow);
  q_.push(now() + sc_.costs.wire_latency_ns, kPacketArrive, cl.conn,
          (std::uint64_t(req) << 32) | flow);
  const ClientGroup& g = *cl.group;
  if (g.mode == ClientMode::Open) {
    SimTime offset = cl.arrivals->next();  // since start_ms
    if (offset != ArrivalStream::kNever && sc_.send_start_ns() + offset < sc_.send_end_ns()) {
      SimTime t = sc_.send_start_ns() + offset;
      q_.push(t, kClientSend, cl.conn, 0, EventQueue::kFar);
    } else {
      cl.finished_sending = true;
      clients_sending_--;
    }
  }
}

void Simulation::client_reply(std::uint32_t conn, std::uint32_t req, std::uint32_t flow) {
  Client& cl = clients_[conn];
  if (cl.state[req] != 0) return;  // already counted (cannot happen: one reply per request)
  cl.state[req] = 1;
  outstanding_--;
  st_.completed++;
  SimTime lat = now() - cl.send_t[req];
  st_.latency.add(lat);
  std::uint32_t lat_us = std::uint32_t(std::min<SimTime>(lat / 1000, 0xffffffffLL));
  emit(Ev::ReplyRecv, 0, kNoTask, conn, req, lat_us, flow);
  const ClientGroup& g = *cl.group;
  if (g.mode == ClientMode::Closed && !cl.finished_sending) {
    SimTime next = now() + g.think_us * 1000;
    bool more = g.requests > 0 ? cl.sent < std::uint32_t(g.requests)
                               : next < sc_.send_end_ns();
    if (more) {
      q_.push(next, kClientSend, conn, 0, EventQueue::kFar);
    } else {
      cl.finished_sending = true;
      clients_sending_--;
    }
  }
  maybe_finish();
}

}  // namespace eps
