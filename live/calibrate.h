// `calibrate`: the model's costs (docs/kernel.md §4), measured on this machine, so that the model
// predicts this machine and not the development VM. Each cost is a small timed loop of real
// syscalls; the result is a [costs] table that `run`, `compare` and `versus` take with
// --costs FILE.
//
//   cost                 measured as (median of 5 batches, per operation)
//   syscall_ns           getppid(2)
//   context_switch_ns    ping-pong over two pipes between two threads on one CPU: per leg,
//                        less one pipe write + read made without switching
//   wakeup_ns            the same ping-pong across two CPUs: per leg, less the same-CPU leg
//                        (what waking a task on an idle CPU adds)
//   poll_fd_ns           poll(2) over N idle TCP sockets with only the last one readable (one
//                        pass, a wait-queue entry per fd, then poll_freewait): slope in N
//   epoll_wait_ns        epoll_wait(0) with nothing ready, less a syscall
//   epoll_event_ns       epoll_wait(0) with 64 ready (level-triggered), less the empty call,
//                        per event
//   epoll_ctl_ns         EPOLL_CTL_ADD + EPOLL_CTL_DEL, per call, less a syscall
//   accept_ns            accept4(2) of connections waiting in the backlog, less a syscall
//   clone_ns             pthread_create(3) of a thread that exits at once
//   copy_per_kib_ns      a pipe write + read of 32 KiB against 1 byte, per KiB copied
//   tx_packet_ns,        sendto(2) of 64 bytes on a loopback TCP connection, less a syscall:
//   softirq_packet_ns    on loopback the receive softirq runs inside the sender's call, so the
//                        two are measured together and split in half
//   irq_ns               loopback has no hard IRQ: kept
//   wire_latency_ns      0: loopback has no wire (what `live` runs on)
#pragma once

#include <string>
#include <vector>

#include "sim/scenario.h"

namespace eps::live {

struct CalibrationLine {
  std::string key;      // "syscall_ns"
  std::int64_t value;   // ns
  std::string how;      // what was timed, for the file's comment
};

struct Calibration {
  Costs costs;                          // the defaults, with every measured cost replaced
  std::vector<CalibrationLine> lines;   // in kCostFields order, one per cost
  std::vector<std::string> notes;       // what could not be measured here, and why
};

// quick: fewer repetitions (for tests); the figures are noisier but of the same kind.
Calibration calibrate(bool quick = false);

// The costs file: a header saying where and when, then [costs] with a comment per line.
std::string calibration_toml(const Calibration& c);

}  // namespace eps::live
