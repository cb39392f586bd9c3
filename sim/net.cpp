// From the wire to a socket: the NIC, the hard IRQ, the NET_RX softirq, tcp_v4_rcv's delivery
// to the socket's receive queue (or, for a handshake's last ACK, the listener's accept
// queue), and ksoftirqd when the softirq has run too long. docs/kernel.md §1 walks the same
// path step by step, and §7 says where the model departs from it; the kernel function each
// piece mirrors is named where it happens.
#include "sim/net.h"

#include <cassert>

#include "sim/clients.h"

namespace eps {

// ---- the NIC -------------------------------------------------------------------------------

// A frame arrives: DMA into the RX ring, and the IRQ unless NAPI is already polling.
void NetRx::nic_receive(const Skb& skb) {
  if (int(ring_.size()) >= k_.sc.kernel.rx_ring) {
    clients_.dropped(skb);
    k_.emit(Ev::NicDrop, 0, kNoTask, skb.conn, std::uint32_t(ring_.size()), 0, skb.flow);
    return;
  }
  ring_.push_back(skb);
  k_.emit(Ev::NicRx, 0, kNoTask, skb.conn, std::uint32_t(ring_.size()), skb.syn ? kNone : skb.req, skb.flow);
  Cpu& c0 = sched_.cpus[0];
  if (!napi_scheduled_ && c0.irq == Cpu::Irq::None) interrupt_enter(c0);
}

// ---- interrupts ----------------------------------------------------------------------------

// The device raises its IRQ on CPU 0: whatever runs there in task context stops for now.
void NetRx::interrupt_enter(Cpu& c) {
  sched_.irq_enter(c);
  c.irq = Cpu::Irq::Hard;
  sched_.set_mode(c, CpuMode::HardIrq, nullptr);
  k_.emit(Ev::HardIrq, c.id, kNoTask, kNone, 1);
  k_.q.push(k_.now() + k_.sc.costs.irq_ns, kIrqDone, std::uint32_t(c.id), ++c.irq_gen);
}

void NetRx::on_irq_done(int cpu, std::uint64_t gen) {
  Cpu& c = sched_.cpus[std::size_t(cpu)];
  if (gen != c.irq_gen) return;
  if (c.irq == Cpu::Irq::Hard) {
    // The driver's handler: mask the device IRQ, napi_schedule (poll_list, raise NET_RX).
    napi_scheduled_ = true;
    k_.emit(Ev::NapiSchedule, c.id, kNoTask, kNone);
    k_.emit(Ev::HardIrq, c.id, kNoTask, kNone, 0);
    // irq_exit -> invoke_softirq: pending softirqs run right here.
    restarts_ = 0;
    since_ = k_.now();
    softirq_start(c);
  } else if (c.irq == Cpu::Irq::Soft) {
    deliver(c, skb_);
    done_in_run_++;
    softirq_next_packet(c);
  }
}

// __do_softirq -> net_rx_action: one run, counted in /proc/softirqs.
void NetRx::softirq_start(Cpu& c) {
  c.irq = Cpu::Irq::Soft;
  sched_.set_mode(c, CpuMode::Softirq, nullptr);
  done_in_run_ = 0;
  k_.emit(Ev::Softirq, c.id, kNoTask, kNone, 1, 0);
  softirq_next_packet(c);
}

// The NAPI poll loop: take packets off the RX ring until it is empty or the budget is spent.
void NetRx::softirq_next_packet(Cpu& c) {
  if (ring_.empty()) {
    // napi_complete_done: off the poll_list, device IRQ unmasked again.
    napi_scheduled_ = false;
    k_.emit(Ev::Softirq, c.id, kNoTask, kNone, 0, std::uint32_t(done_in_run_));
    sched_.irq_exit(c);
    return;
  }
  if (done_in_run_ >= k_.sc.kernel.netdev_budget) {
    // Budget spent: time_squeeze++, NET_RX raised again. __do_softirq restarts it, at most
    // 10 times and for 2 ms (MAX_SOFTIRQ_RESTART, MAX_SOFTIRQ_TIME); after that it wakes
    // ksoftirqd and returns: the rest is done by a thread the scheduler can weigh against
    // the others. NAPI stays scheduled, so the device IRQ stays masked meanwhile.
    k_.emit(Ev::TimeSqueeze, c.id, kNoTask, kNone);
    k_.emit(Ev::Softirq, c.id, kNoTask, kNone, 0, std::uint32_t(done_in_run_));
    if (++restarts_ < 10 && k_.now() - since_ < 2'000'000) {
      softirq_start(c);
    } else {
      sched_.try_to_wake_up(*ksoftirqd_);
      sched_.irq_exit(c);
    }
    return;
  }
  skb_ = ring_.front();
  ring_.pop_front();
  k_.emit(Ev::NapiRx, c.id, kNoTask, skb_.conn, std::uint32_t(ring_.size()), 0, skb_.flow);
  k_.q.push(k_.now() + k_.sc.costs.softirq_packet_ns, kIrqDone, std::uint32_t(c.id), ++c.irq_gen);
}

// netif_receive_skb -> ip_rcv -> tcp_v4_rcv. A handshake's last ACK: tcp_check_req makes the
// child socket and queues it for accept (inet_csk_complete_hashdance). Data:
// tcp_rcv_established -> sk_receive_queue -> tcp_data_ready. (The process never holds the
// socket lock across a sleep here, so the backlog path is not taken in the model.)
void NetRx::deliver(Cpu& c, const Skb& skb, std::uint16_t actor) {
  Socket& s = socks_.at(skb.conn);
  if (skb.syn) {
    const std::uint32_t l = socks_.listeners() > 1 ? socks_.reuseport_select(skb.conn, k_.sc.seed)
                                                   : socks_.listener_sid(0);
    socks_.establish(skb.conn, l, skb.flow, c.id, true);
    return;
  }
  if (s.refused) {
    clients_.refused(skb, c.id);  // the server closed this connection: the kernel resets it
    return;
  }
  s.rxq.push_back(skb);
  k_.emit(Ev::SkbQueue, c.id, kNoTask, s.sid, std::uint32_t(s.rxq.size()), std::uint32_t(ring_.size()), skb.flow);
  socks_.sk_data_ready(s, skb.flow, c.id);
  (void)actor;
}

// run_ksoftirqd: the same net_rx_action, in a kernel thread's context, until the ring is
// empty (napi_complete_done); then it sleeps until handed work again.
Co<void> NetRx::ksoftirqd_main(Task& t) {
  for (;;) {
    while (napi_scheduled_) {
      k_.emit(Ev::Softirq, t.cpu, t.id, kNone, 1, 0);
      int done = 0;
      while (!ring_.empty() && done < k_.sc.kernel.netdev_budget) {
        Skb skb = ring_.front();
        ring_.pop_front();
        k_.emit(Ev::NapiRx, t.cpu, t.id, skb.conn, std::uint32_t(ring_.size()), 0, skb.flow);
        co_await sched_.burn(t, CpuMode::Softirq, k_.sc.costs.softirq_packet_ns);
        deliver(sched_.cpus[std::size_t(t.cpu)], skb);
        done++;
      }
      if (ring_.empty()) {
        napi_scheduled_ = false;
      } else {
        k_.emit(Ev::TimeSqueeze, t.cpu, t.id, kNone);
      }
      k_.emit(Ev::Softirq, t.cpu, t.id, kNone, 0, std::uint32_t(done));
    }
    co_await sched_.block(t);
  }
}

}  // namespace eps
