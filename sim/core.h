// What every component of the model shares: the scenario, the clock (the event queue), and
// the trace with its accounting. Each component (scheduler, receive path, sockets, fd table,
// epoll, select/poll, clients) holds a Core& and owns its own state; Simulation wires them.
#pragma once

#include <cstdint>

#include "sim/accounting.h"
#include "sim/engine.h"
#include "sim/scenario.h"
#include "sim/trace.h"

namespace eps {

// What the event queue holds (QEvent::kind), and who handles it.
enum QKind : std::uint32_t {
  kActDone,       // sched: a CPU's activity (a burn, a switch, an idle exit) ends   a=cpu b=gen
  kIrqDone,       // net: the hard IRQ or one packet of the softirq is done          a=cpu b=gen
  kSliceEnd,      // sched: the scheduler tick that ends a slice                     a=cpu b=gen
  kClientSend,    // clients: a client sends its next request                        a=conn
  kPacketArrive,  // net: a request reaches the NIC                                  a=conn b=req<<32|flow
  kReplyArrive,   // clients: a reply reaches its client                             a=conn b=req<<32|flow
  kStart,         // the run begins: CPUs pick their first task
  kSendEnd,       // the sending window closes
  kStop,          // the drain is over: the run ends
  kConnect,       // clients: a client calls connect()                              a=conn
  kAckArrive,     // net: a handshake's last ACK reaches the NIC                     a=conn b=flow
};

struct Core {
  Core(const Scenario& scenario, bool record_trace)
      : sc(scenario), acct(scenario.cpus), record(record_trace) {}

  const Scenario& sc;
  EventQueue q;
  Trace trace;
  Accounting acct;
  bool record;                     // false: metrics only (fast, little memory)
  std::uint64_t emitted = 0;       // events emitted (also when not recorded)
  SimTime horizon = INT64_MAX;     // run_until's bound: fast burns never jump past it

  SimTime now() const { return q.now(); }

  // Every visible change goes through here: counted by the accounting, kept if recording.
  // (The fields go to the accounting one by one, not as a TraceEvent: with the kind known
  // here, only what that kind counts is computed at all.)
  [[gnu::always_inline]] void emit(Ev kind, int cpu, std::uint16_t actor, std::uint32_t obj,
                                   std::uint32_t a = 0, std::uint32_t b = 0, std::uint32_t flow = kNone) {
    if (record) keep(kind, cpu, actor, obj, a, b, flow);
    acct.count(kind, now(), std::uint8_t(cpu), actor, a, b);
    emitted++;
  }
  std::uint32_t add_string(const std::string& s) {
    trace.strings.push_back(s);
    return std::uint32_t(trace.strings.size() - 1);
  }

 private:
  [[gnu::noinline]] void keep(Ev kind, int cpu, std::uint16_t actor, std::uint32_t obj, std::uint32_t a,
                              std::uint32_t b, std::uint32_t flow) {
    trace.events.push_back(TraceEvent{now(), std::uint32_t(emitted), kind, std::uint8_t(cpu), actor, obj, a, b, flow});
  }
};

}  // namespace eps

namespace eps {
// copy_to_user / copy_from_user of `bytes`.
inline SimTime copy_cost(const Scenario& sc, std::uint64_t bytes) {
  return SimTime(bytes * std::uint64_t(sc.costs.copy_per_kib_ns) / 1024);
}
}  // namespace eps
