#include "sim/clients.h"

#include <algorithm>

#include "sim/simulation.h"

namespace eps {

void Clients::create() {
  std::uint32_t conn = 0;
  for (const ClientGroup& g : k_.sc.clients) {
    for (int i = 0; i < g.connections; i++, conn++) {
      Client cl;
      cl.conn = conn;
      cl.group = &g;
      if (g.connects_during_run()) cl.connect_at = g.connect_at_ms * 1'000'000 + SimTime(i) * g.connect_gap_us * 1000;
      if (g.mode == ClientMode::Open) cl.arrivals = std::make_unique<ArrivalStream>(k_.sc.seed, conn, g.rate_per_s);
      clients_.push_back(std::move(cl));
    }
  }
}

// The first sends (from start_ms on). Open loop: Poisson. Closed loop: connection i starts i
// microseconds after the start. A client that connects during the run calls connect() at its
// time; the handshake's last ACK reaches the server three wire latencies later (SYN, SYN-ACK,
// ACK), and the client may send once its connect() has returned, two latencies after the call.
void Clients::start() {
  const SimTime start = k_.sc.send_start_ns(), send_end = k_.sc.send_end_ns();
  for (Client& cl : clients_) {
    if (cl.connect_at >= 0) k_.q.push(cl.connect_at, kConnect, cl.conn, 0, EventQueue::kFar);
    SimTime offset = cl.group->mode == ClientMode::Open ? cl.arrivals->next() : SimTime(cl.conn) * 1000;
    SimTime first = offset == ArrivalStream::kNever ? offset : start + offset;  // idle: never
    if (cl.connect_at >= 0 && first != ArrivalStream::kNever)
      first = std::max(first, cl.connect_at + 2 * k_.sc.costs.wire_latency_ns);
    bool sends = cl.group->mode == ClientMode::Open ? first < send_end
                                                    : (first < send_end || cl.group->requests > 0);
    if (sends) {
      sending_++;
      k_.q.push(first, kClientSend, cl.conn, 0, EventQueue::kFar);
    } else {
      cl.finished_sending = true;
    }
  }
  // A window of sending (open loop, or closed loop "until duration_ms") is measured whole:
  // throughput is requests over the window even if the last reply comes early. A closed
  // loop with a fixed number of requests ends when they are answered.
  for (const ClientGroup& g : k_.sc.clients)
    if (g.mode == ClientMode::Open || g.requests == 0) min_end_ = send_end;
  if (min_end_ > 0) k_.q.push(min_end_, kSendEnd, 0, 0, EventQueue::kFar);
}

void Clients::on_connect(std::uint32_t conn) {
  const std::uint32_t flow = next_flow_++;
  k_.emit(Ev::ClientConnect, 0, kNoTask, conn, 0, 0, flow);
  k_.q.push(k_.now() + 3 * k_.sc.costs.wire_latency_ns, kAckArrive, conn, flow);
}

void Clients::on_send(std::uint32_t conn) {
  Client& cl = clients_[conn];
  if (cl.finished_sending) return;  // its connection was reset: it sends no more
  std::uint32_t req = cl.sent++;
  std::uint32_t flow = next_flow_++;
  cl.send_t.push_back(k_.now());
  cl.state.push_back(kOutstanding);
  outstanding_++;
  k_.emit(Ev::ClientSend, 0, kNoTask, cl.conn, req, 0, flow);
  k_.q.push(k_.now() + k_.sc.costs.wire_latency_ns, kPacketArrive, cl.conn, (std::uint64_t(req) << 32) | flow);
  const ClientGroup& g = *cl.group;
  if (g.mode == ClientMode::Open) {
    SimTime offset = cl.arrivals->next();  // since start_ms
    if (offset != ArrivalStream::kNever && k_.sc.send_start_ns() + offset < k_.sc.send_end_ns()) {
      // Requests due before the connection was made wait for it (they leave together).
      SimTime t = std::max(k_.now(), k_.sc.send_start_ns() + offset);
      k_.q.push(t, kClientSend, cl.conn, 0, EventQueue::kFar);
    } else {
      stop_sending(cl);
    }
  }
}

void Clients::on_reply(std::uint32_t conn, std::uint32_t req, std::uint32_t flow) {
  Client& cl = clients_[conn];
  if (cl.state[req] != kOutstanding) return;  // already counted (cannot happen: one reply per request)
  cl.state[req] = kDone;
  outstanding_--;
  SimTime lat = k_.now() - cl.send_t[req];
  std::uint32_t lat_us = std::uint32_t(std::min<SimTime>(lat / 1000, 0xffffffffLL));
  k_.emit(Ev::ReplyRecv, 0, kNoTask, conn, req, lat_us, flow);
  const ClientGroup& g = *cl.group;
  if (g.mode == ClientMode::Closed && !cl.finished_sending) {
    SimTime next = k_.now() + g.think_us * 1000;
    bool more = g.requests > 0 ? cl.sent < std::uint32_t(g.requests) : next < k_.sc.send_end_ns();
    if (more) k_.q.push(next, kClientSend, conn, 0, EventQueue::kFar);
    else stop_sending(cl);
  }
  sim_.maybe_finish();
}

void Clients::dropped(const Skb& skb) {
  if (!skb.syn) clients_[skb.conn].state[skb.req] = kDropped;
}

void Clients::refused(const Skb& skb, int cpu) {
  Client& cl = clients_[skb.conn];
  if (cl.state[skb.req] != kOutstanding) return;
  fail(cl, skb.req, FailReason::Refused, cpu, kNoTask, skb.flow);
  stop_sending(cl);
  sim_.maybe_finish();
}

void Clients::reset(std::uint32_t conn, const std::vector<Skb>& queued, int cpu, std::uint16_t actor) {
  Client& cl = clients_[conn];
  bool any = false;
  for (const Skb& skb : queued) {
    if (cl.state[skb.req] != kOutstanding) continue;
    fail(cl, skb.req, FailReason::Refused, cpu, actor, skb.flow);
    any = true;
  }
  // A client that got a reset sends no more. One that has sent nothing yet learns of the
  // close from its first request.
  if (any) stop_sending(cl);
}

void Clients::fail_outstanding() {
  for (Client& cl : clients_) {
    for (std::uint32_t r = 0; r < cl.sent; r++) {
      if (cl.state[r] == kOutstanding || cl.state[r] == kDropped)
        fail(cl, r, cl.state[r] == kDropped ? FailReason::NicDrop : FailReason::Unanswered, 0, kNoTask, kNone);
    }
  }
}

void Clients::fail(Client& cl, std::uint32_t req, FailReason why, int cpu, std::uint16_t actor, std::uint32_t flow) {
  cl.state[req] = kFailed;
  outstanding_--;
  k_.emit(Ev::RequestFailed, cpu, actor, cl.conn, req, std::uint32_t(why), flow);
}

void Clients::stop_sending(Client& cl) {
  if (cl.finished_sending) return;
  cl.finished_sending = true;
  sending_--;
}

}  // namespace eps
