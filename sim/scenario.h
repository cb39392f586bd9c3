// A lesson: what runs on the simulated machine, who talks to it, and what things cost.
// Parsed from TOML by load_scenario(); every field here has a documented default so a
// teacher's file only says what matters to the lesson. The schema is a public interface.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sim/strategy.h"

namespace eps {

using SimTime = std::int64_t;  // nanoseconds since the start of the run

enum class ClientMode : std::uint8_t { Open, Closed };

// Connections over all client groups of a scenario, at most (the loader refuses more).
inline constexpr int kMaxTotalConnections = 100'000;

struct ClientGroup {
  std::string name = "clients";
  int connections = 1;        // 1..100000
  ClientMode mode = ClientMode::Open;
  double rate_per_s = 100.0;  // open loop: Poisson arrivals per connection; 0 = idle
  int requests = 0;           // closed loop: per connection; 0 = until duration_ms
  std::int64_t think_us = 0;  // closed loop: pause between a reply and the next request
  int request_bytes = 64;     // one segment (skb) per request: 1..65536
  // When the connections are made. Absent (connect_at_ms < 0): before the run, so they wait
  // in the accept queue at t = 0. Otherwise connection i of the group connects at
  // connect_at_ms + i * connect_gap_us (its handshake's last ACK then crosses the wire), and
  // sends its first request once connected.
  std::int64_t connect_at_ms = -1;
  std::int64_t connect_gap_us = 0;
  bool connects_during_run() const { return connect_at_ms >= 0; }
};

struct BackgroundGroup {
  std::string name = "Q";
  int count = 1;              // CPU-bound neighbour tasks that never sleep
};

// Costs in nanoseconds (docs/kernel.md §4). Each is overridable under [costs].
struct Costs {
  SimTime syscall_ns = 100;          // entry + exit (half charged on each side)
  SimTime context_switch_ns = 2000;  // __schedule + context_switch
  SimTime wakeup_ns = 2000;          // idle CPU leaving its idle state for a woken task
  SimTime irq_ns = 1000;             // hard IRQ + napi_schedule
  SimTime softirq_packet_ns = 1000;  // net_rx_action per packet: ip_rcv .. tcp_data_ready
  SimTime poll_fd_ns = 300;          // select/poll: ->poll + __pollwait per fd per pass
  SimTime epoll_wait_ns = 200;       // ep_poll base, on top of the syscall
  SimTime epoll_event_ns = 50;       // ep_send_events per item examined
  SimTime epoll_ctl_ns = 500;        // ep_insert / ep_remove / ep_modify
  SimTime accept_ns = 1000;          // accept4 body: new file, fd install
  SimTime clone_ns = 20000;          // clone of one thread (blocking strategy)
  SimTime copy_per_kib_ns = 100;     // copy_to_user / copy_from_user, per KiB
  SimTime tx_packet_ns = 1000;       // sendto body: tcp_sendmsg + transmit
  SimTime wire_latency_ns = 10000;   // one way, client <-> NIC
};

// Kernel tunables the model uses ([kernel] table).
struct KernelParams {
  int netdev_budget = 300;           // net_rx_action: packets per softirq run
  int napi_weight = 64;              // per NAPI poll
  int rx_ring = 1024;                // NIC RX ring slots; a full ring drops
  SimTime sched_slice_ns = 0;        // 0 = Linux's default: 0.75 ms * (1 + log2(min(cpus, 8)))
  SimTime wakeup_granularity_ns = 0; // 0 = 1 ms * (1 + log2(min(cpus, 8)))
  int maxevents = 64;                // epoll_wait's maxevents in the epoll programs
};

struct Scenario {
  std::string path;                  // where it was loaded from ("" if built in code)
  std::string title;
  std::string description;
  std::uint64_t seed = 1;
  std::int64_t duration_ms = 100;    // clients send during [0, duration); then the run drains
  std::int64_t drain_ms = 100;       // at most this long after duration for replies
  std::int64_t start_ms = 0;         // clients start sending here (lets the server accept
                                     // every connection first); they send for duration_ms
  int cpus = 1;                      // 1..64
  Strategy strategy = Strategy::Epoll;
  std::int64_t work_us = 20;         // user-mode CPU per request
  int reply_bytes = 64;
  bool et_read_once = false;         // epoll-et only: the pitfall (read once, not to EAGAIN)
  int threads = 0;                   // worker threads of the threaded strategies (0: one per CPU)
  std::uint32_t epoll_flags = 0;     // threaded epoll strategies: EPOLLET / EPOLLONESHOT on the
                                     // connections, EPOLLEXCLUSIVE on the listening socket
  std::vector<ClientGroup> clients;
  std::vector<BackgroundGroup> background;
  Costs costs;
  KernelParams kernel;

  int total_connections() const;
  int server_threads() const { return threads > 0 ? threads : cpus; }
  SimTime send_start_ns() const { return start_ms * 1'000'000; }
  SimTime send_end_ns() const { return (start_ms + duration_ms) * 1'000'000; }
  SimTime effective_slice_ns() const;
  SimTime effective_wakeup_granularity_ns() const;
};

// A scenario that cannot be used. what() is the full one-line message:
// "scenarios/x.toml:12: server.work_us: expected an integer, got a string".
class ScenarioError : public std::runtime_error {
 public:
  ScenarioError(std::string file, int line, std::string key, std::string message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }  // 0 when there is no line (missing file, missing key)
  const std::string& key() const { return key_; }
  const std::string& message() const { return message_; }

 private:
  std::string file_, key_, message_;
  int line_;
};

// Throws ScenarioError for anything wrong: missing/unreadable/empty/binary file, TOML syntax
// error, unknown key, wrong type, out-of-range value, unknown strategy or mode, missing key.
Scenario load_scenario(const std::string& path);
Scenario parse_scenario(std::string_view toml_text, const std::string& source_name);

std::vector<std::string_view> cost_keys();             // the [costs] keys, in order
SimTime* cost_field(Costs& costs, std::string_view key);  // nullptr for an unknown key

// A costs file: one [costs] table (what `epollscope-cli calibrate` writes). Keys it gives
// replace those of `base`; the rest stay. Errors as for scenarios (file, line, key).
Costs load_costs(const std::string& path, const Costs& base = {});
Costs parse_costs(std::string_view toml_text, const std::string& source_name, const Costs& base = {});

}  // namespace eps
