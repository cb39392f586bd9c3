// The clients, across the wire from the server's NIC: who connects when, who sends what and
// when (open loop: Poisson arrivals; closed loop: the next request after the reply and a
// think time), and how every request ends: completed, or failed with a reason.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "sim/arrivals.h"
#include "sim/core.h"
#include "sim/sched.h"

namespace eps {

class Simulation;

struct Client {
  std::uint32_t conn = 0;
  const ClientGroup* group = nullptr;
  SimTime connect_at = -1;         // when it calls connect() (-1: before the run)
  std::uint32_t sent = 0;          // requests sent so far (= next request id)
  std::vector<SimTime> send_t;     // per request id
  std::vector<std::uint8_t> state; // per request: kOutstanding, kDone, kDropped, kFailed
  bool finished_sending = false;
  std::unique_ptr<ArrivalStream> arrivals;
};

class Clients {
 public:
  enum : std::uint8_t { kOutstanding, kDone, kDropped, kFailed };

  Clients(Core& k, Simulation& sim) : k_(k), sim_(sim) {}

  // Builds the clients of every group; start() schedules their connects and first sends.
  void create();
  void start();
  // Queue events: a client connects, sends, or gets a reply.
  void on_connect(std::uint32_t conn);
  void on_send(std::uint32_t conn);
  void on_reply(std::uint32_t conn, std::uint32_t req, std::uint32_t flow);
  // What the server side did to a request.
  void dropped(const Skb& skb);                 // the NIC's ring was full
  void refused(const Skb& skb, int cpu);        // it reached a socket the server closed
  // The server closed a connection with requests queued on it: each is answered with a reset.
  void reset(std::uint32_t conn, const std::vector<Skb>& queued, int cpu, std::uint16_t actor);
  // The run ends: what is still outstanding failed (dropped at the NIC, or unanswered).
  void fail_outstanding();

  bool idle() const { return sending_ == 0 && outstanding_ == 0; }
  SimTime min_end() const { return min_end_; }
  const std::vector<Client>& all() const { return clients_; }
  std::size_t size() const { return clients_.size(); }

 private:
  void fail(Client& cl, std::uint32_t req, FailReason why, int cpu, std::uint16_t actor, std::uint32_t flow);
  void stop_sending(Client& cl);

  Core& k_;
  Simulation& sim_;
  std::vector<Client> clients_;
  std::uint64_t outstanding_ = 0;
  int sending_ = 0;
  SimTime min_end_ = 0;             // open-loop clients: the run lasts the whole sending window
  std::uint32_t next_flow_ = 0;
};

}  // namespace eps
