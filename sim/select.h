// select(2) and poll(2) (fs/select.c: do_select, do_sys_poll): every call copies its fd set
// in, calls ->poll on every fd in every pass, registers on every fd's wait queue on the first
// pass (__pollwait), sleeps if none is ready, rescans everything after a wake-up, removes
// every registration (poll_freewait) and copies the result out. O(watched) per call.
#pragma once

#include "sim/co.h"
#include "sim/core.h"
#include "sim/eventpoll.h"
#include "sim/fdtable.h"
#include "sim/sched.h"
#include "sim/sock.h"
#include "sim/wait.h"

namespace eps {

class SelectPoll {
 public:
  SelectPoll(Core& k, Scheduler& sched, WaitQueues& wait, FdTable& files, Sockets& socks)
      : k_(k), sched_(sched), wait_(wait), files_(files), socks_(socks) {}

  Co<int> select(Task& t, const Fds& fds, Fds& ready);
  Co<int> poll(Task& t, const Fds& fds, Fds& ready);

 private:
  struct Call {  // what differs between do_select and do_sys_poll
    Sys sys;
    std::uint64_t copy_in_bytes, copy_out_bytes;
  };
  Co<int> poll_loop(Task& t, Call call, const Fds& fds, Fds& ready);
  int pass(Task& t, const Fds& fds, Fds& ready, PollTable* pt, bool register_entries);

  Core& k_;
  Scheduler& sched_;
  WaitQueues& wait_;
  FdTable& files_;
  Sockets& socks_;
};

}  // namespace eps
