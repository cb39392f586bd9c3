// WorldState: everything a view draws, at one point of a trace. It is rebuilt from trace
// events alone (apply), so a saved trace plays back without the model, and Replay can jump
// to any event index by starting from the nearest snapshot.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/accounting.h"
#include "sim/metrics.h"
#include "sim/rbtree.h"
#include "sim/trace.h"

namespace eps {

struct WsWait {                       // one wait-queue entry
  WaitKind kind;
  std::uint32_t who;                  // task id, or for EpCallback the epoll instance (eid)
  bool exclusive = false;
  bool operator==(const WsWait&) const = default;
};

struct WsTask {
  std::uint16_t id = 0;
  TaskKind kind = TaskKind::ServerMain;
  std::string name;
  TaskState state = TaskState::Runnable;
  int cpu = 0;
  Sys in_sys = Sys::None;             // the syscall it is in, if any
  std::uint32_t sys_fd = kNone;       // that syscall's fd argument
  int last_result = 0;                // the last syscall's return value
  Sys last_sys = Sys::None;
  int line = -1;                      // program line it is on
  bool server() const { return kind == TaskKind::ServerMain || kind == TaskKind::ServerWorker; }
  bool operator==(const WsTask&) const = default;
};

struct WsCpu {
  std::uint16_t curr = kNoTask;       // the task on this CPU (kNoTask: idle)
  CpuMode mode = CpuMode::Idle;
  std::uint16_t mode_task = kNoTask;  // whose time the current mode is
  bool hardirq = false, softirq = false;
  int softirq_packets = 0;            // packets handled in the current net_rx_action run
  bool operator==(const WsCpu&) const = default;
};

struct WsSocket {
  std::uint32_t sid = kNone;
  std::uint32_t conn = kNone;         // the connection (kNone: a listening socket)
  std::uint32_t listener = kNone;     // the listener it arrived on
  std::int32_t fd = -1;               // the fd that refers to it (-1: none yet)
  bool established = false, accepted = false, closed = false;
  std::uint32_t rxq = 0;              // sk_receive_queue length
  std::vector<WsWait> wq;
  std::uint64_t received = 0;         // segments queued on it so far
  std::vector<std::uint32_t> accept_queue;  // a listener's: connections not yet accepted (sids)
  bool listening() const { return conn == kNone && sid != kNone; }
  bool operator==(const WsSocket&) const = default;
};

struct WsFile {                       // one slot of the fd table
  bool used = false;
  FileKind kind = FileKind::Socket;
  std::uint32_t id = kNone;           // sid or eid
  bool operator==(const WsFile&) const = default;
};

struct WsEpoll {
  std::uint32_t eid = kNone;
  std::int32_t fd = -1;               // its epfd
  std::uint16_t owner = kNoTask;      // the task that created it
  RbTree rbr;                         // rebuilt with the same algorithm, so the same shape
  std::vector<std::uint32_t> watched; // fds in the tree, in insertion order
  std::vector<std::uint32_t> rdllist; // fds in list order
  std::vector<WsWait> wq;             // ep->wq
};

struct WirePacket {                   // a packet on the wire between a client and the NIC
  std::uint32_t flow = 0, conn = 0, req = 0;
  SimTime sent = 0;
  bool reply = false;                 // false: request to the server; true: reply to the client
  bool handshake = false;             // a connect()'s last ACK
  bool operator==(const WirePacket&) const = default;
};

struct WorldState {
  SimTime t = 0;                      // time of the last applied event
  std::size_t index = 0;              // events applied: the state is "just before event index"
  std::vector<WsCpu> cpus;
  std::vector<WsTask> tasks;
  std::vector<WsSocket> sockets;      // by sid: connections first, then listeners
  std::vector<WsFile> files;          // the server's fd table, by fd
  std::vector<WsEpoll> eps;           // epoll instances, by eid
  std::uint32_t ring = 0;             // NIC RX ring occupancy
  bool napi_scheduled = false;
  std::vector<WirePacket> wire;
  Accounting acct;                    // counters, CPU time and switches as of this point

  const Counters& counters() const { return acct.k; }
  // The socket an fd refers to now, or nullptr.
  const WsSocket* socket_fd(std::uint32_t fd) const;
  // A connection's socket (nullptr before it exists).
  const WsSocket* socket_conn(std::uint32_t conn) const;
  // The epoll instance an fd refers to now, or nullptr.
  const WsEpoll* epoll_fd(std::uint32_t fd) const;
  std::size_t approx_bytes() const;
};

// The state before any event of `trace` (CPUs sized, nothing else yet).
WorldState initial_world(const Trace& trace);
// Applies one event. Events must be applied in trace order.
void apply(WorldState& w, const Trace& trace, const TraceEvent& e);
// Metrics as of this state (CPU time counted up to `at`, default: the state's time).
Metrics metrics_of(const WorldState& w, const Trace& trace, std::optional<SimTime> at = {});

// Random access over a trace: state at any event index, through periodic snapshots.
class Replay {
 public:
  // snapshot_every = 0 chooses an interval that keeps all snapshots under ~256 MiB.
  explicit Replay(std::shared_ptr<const Trace> trace, std::size_t snapshot_every = 0);
  std::size_t size() const { return trace_->events.size(); }
  const Trace& trace() const { return *trace_; }
  std::shared_ptr<const Trace> trace_ptr() const { return trace_; }
  // The state after applying events [0, index); index is clamped to [0, size()].
  WorldState at(std::size_t index) const;
  // Moves `w` to `index`: forward by applying events when that is shorter, else from the
  // nearest snapshot at or before index. Backward is as cheap as forward.
  void seek(WorldState& w, std::size_t index) const;
  // The first event index whose time is >= t (size() if none).
  std::size_t index_at_time(SimTime t) const;
  std::size_t snapshot_every() const { return every_; }
  std::size_t snapshots() const { return snaps_.size(); }

 private:
  std::shared_ptr<const Trace> trace_;
  std::size_t every_ = 4096;
  std::vector<WorldState> snaps_;     // snaps_[k] = state at index k * every_
};

}  // namespace eps
