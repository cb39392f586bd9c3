// The receive path, from the wire to a socket (drivers, net/core/dev.c, kernel/softirq.c): the
// NIC's RX ring, its IRQ on CPU 0, NAPI, the NET_RX softirq (net_rx_action) and ksoftirqd/0,
// and the protocol's delivery of each packet to its socket (tcp_v4_rcv). docs/kernel.md §1
// walks the same path step by step.
#pragma once

#include <cstdint>
#include <deque>

#include "sim/co.h"
#include "sim/core.h"
#include "sim/sched.h"
#include "sim/sock.h"

namespace eps {

class Clients;

class NetRx {
 public:
  NetRx(Core& k, Scheduler& sched, Sockets& socks, Clients& clients)
      : k_(k), sched_(sched), socks_(socks), clients_(clients) {}

  // A frame arrives from the wire: DMA into the RX ring, and the IRQ unless NAPI polls already.
  void nic_receive(const Skb& skb);
  // The queue's kIrqDone: the hard IRQ handler, or one packet of the softirq, is done.
  void on_irq_done(int cpu, std::uint64_t gen);
  // run_ksoftirqd: the program of ksoftirqd/0 (created by Simulation).
  Co<void> ksoftirqd_main(Task& t);
  void set_ksoftirqd(Task* t) { ksoftirqd_ = t; }

  const std::deque<Skb>& ring() const { return ring_; }
  bool napi_scheduled() const { return napi_scheduled_; }

 private:
  void interrupt_enter(Cpu& c);
  void softirq_start(Cpu& c);
  void softirq_next_packet(Cpu& c);
  void deliver(Cpu& c, const Skb& skb, std::uint16_t actor = kNoTask);  // netif_receive_skb .. tcp_v4_rcv

  Core& k_;
  Scheduler& sched_;
  Sockets& socks_;
  Clients& clients_;
  Task* ksoftirqd_ = nullptr;
  std::deque<Skb> ring_;          // NIC RX ring
  bool napi_scheduled_ = false;   // NAPI on poll_list; device IRQ masked
  // Per CPU (only CPU 0 takes the NIC's IRQ): the current net_rx_action run.
  int done_in_run_ = 0;           // packets this run
  int restarts_ = 0;              // __do_softirq restarts
  SimTime since_ = 0;             // when this __do_softirq invocation began
  Skb skb_;                       // the packet net_rx_action is working on
};

}  // namespace eps
