// The load generator: the scenario's clients, replayed against a live server on loopback.
//
// Every connection of every client group is opened first (idle ones too). Then, from t0:
//  - open loop: each connection sends at the times of its ArrivalStream (sim/arrivals.h), the
//    same seeded Poisson schedule the model uses, until duration_ms;
//  - closed loop: connection i sends first at t0 + i us (as in the model), then again think_us
//    after each reply, `requests` times (0: until duration_ms).
// After duration_ms the run drains: it ends when every request has its reply, or at
// duration_ms + drain_ms, whichever comes first; what is still unanswered then fails.
//
// Latency is per request: from its scheduled send time to the arrival of the last byte of its
// reply (replies come back in order on a connection). Every request sent ends as completed or
// failed with a reason: "unanswered", "refused" (could not connect), "closed by server",
// "reset" (ECONNRESET), "send failed".
//
// Framing: see FrameProtocol (protocol.h). One thread runs all connections with epoll (not
// counted: only the server's syscalls are measured).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "sim/metrics.h"
#include "sim/scenario.h"

namespace eps::live {

struct LoadOptions {
  int port = 0;                        // the server, on 127.0.0.1
  int cpu = -1;                        // pin the load generator here (-1: do not pin)
  // Called after every connection is open; returns true once the server has accepted them
  // (polled for up to 10 s, then the run goes on anyway).
  std::function<bool()> server_ready;
  std::function<void()> on_connected;  // every connect() has returned (some may have failed)
  std::function<void(std::int64_t t0)> on_start;  // just before the first send (t0, monotonic ns)
  std::function<void()> on_drained;  // the drain is over; the connections are still open
};

struct LoadResult {
  std::uint64_t sent = 0, completed = 0, failed = 0;
  std::map<std::string, std::uint64_t> failed_by_reason;
  LatencyHistogram latency;
  std::int64_t t0_ns = 0, end_ns = 0;  // monotonic: first send, and the end of the drain
  int connected = 0;                   // connections that opened
  std::string setup_error;             // the first connect error, if any
};

// Runs the whole load on the calling thread. Never returns later than about
// t0 + duration_ms + drain_ms (plus connection setup, itself bounded).
LoadResult run_load(const Scenario& sc, const LoadOptions& opt);

}  // namespace eps::live
