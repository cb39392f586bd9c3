// The run loop and the cast: building the machine from a scenario, dispatching scheduled
// happenings in (time, sequence) order to the component they belong to, and turning the
// accounting into metrics at the end.
#include "sim/simulation.h"

#include <algorithm>
#include <cassert>

namespace eps {

namespace {
// A neighbour that never sleeps. (A coroutine's parameters live in its frame; a lambda's
// captures would not outlive the call that made it.)
Co<void> cpu_hog(Scheduler& sched, Task& t) {
  for (;;) co_await sched.burn(t, CpuMode::User, 1'000'000);
}
}  // namespace

Simulation::Simulation(Scenario sc, RunOptions opt)
    : sc_(std::move(sc)),
      opt_(std::move(opt)),
      k_(sc_, opt_.record_trace),
      sched_(k_),
      wait_(k_, sched_),
      files_(k_),
      socks_(k_, wait_),
      clients_(k_, *this),
      net_(k_, sched_, socks_, clients_),
      epoll_(k_, sched_, wait_, files_, socks_),
      select_(k_, sched_, wait_, files_, socks_) {
  wait_.set_epoll(&epoll_);
  const StrategyInfo& info = strategy_info(sc_.strategy);
  const int nconn = sc_.total_connections();
  if (info.waits == WaitsWith::Recvfrom && nconn + 1 + 64 * 64 > kMaxTasks)
    throw ScenarioError(sc_.path, 0, "clients",
                        "the " + std::string(info.name) + " strategy needs a thread per connection; the model "
                        "supports at most " + std::to_string(kMaxTasks - 1 - 64 * 64) +
                        " connections with it, got " + std::to_string(nconn));
  const int listeners = info.reuseport ? sc_.server_threads() : 1;
  Trace& tr = k_.trace;
  tr.scenario_title = sc_.title;
  tr.strategy = sc_.strategy;
  tr.seed = sc_.seed;
  tr.cpus = sc_.cpus;
  tr.connections = nconn;
  tr.listeners = listeners;
  tr.program = info.listing(sc_).text();
  if (opt_.record_trace) tr.events.reserve(1 << 16);

  // Before the run: the listening sockets (listen_socket(port) in the listings), fds from 3,
  // and the connections made before the run, waiting in their listener's accept queue.
  // Clients may send at once: data waits in the socket until it is read.
  socks_.create(nconn, listeners);
  for (int i = 0; i < listeners; i++) {
    Socket& l = socks_.at(socks_.listener_sid(i));
    l.nonblock = info.listen_nonblock;
    listen_fds_.push_back(files_.install(File{FileKind::Socket, l.sid}, 0, kNoTask));
  }
  clients_.create();
  for (const Client& cl : clients_.all()) {
    if (cl.connect_at >= 0) continue;
    const std::uint32_t l = listeners > 1 ? socks_.reuseport_select(cl.conn, sc_.seed) : socks_.listener_sid(0);
    socks_.establish(cl.conn, l, kNone, 0, false);
  }

  // The cast: the server's main thread on CPU 0; neighbours spread from CPU 1 on.
  ProgramFn main_prog = opt_.program_override ? opt_.program_override : ProgramFn(info.program);
  // The threaded strategies' main thread is their first worker: named so beside workers 1..N-1.
  sched_.new_task(TaskKind::ServerMain, strategy_info(sc_.strategy).threads ? "P (worker 0)" : "P (server)", 0, 0,
                  [&](Task& t) { return main_prog(*this, t); });
  for (const BackgroundGroup& bg : sc_.background) {
    for (int i = 0; i < bg.count; i++) {
      int cpu = int(sched_.tasks.size()) % sc_.cpus;
      std::string name = bg.count == 1 ? bg.name : bg.name + std::to_string(i + 1);
      sched_.new_task(TaskKind::Background, name, cpu, 0, [this](Task& t) { return cpu_hog(sched_, t); });
    }
  }

  // ksoftirqd/0 sleeps until net_rx_action hands work over to it (kernel/softirq.c).
  Task& ksoftirqd = sched_.new_task(TaskKind::Ksoftirqd, "ksoftirqd/0", 0, 0,
                                    [this](Task& t) { return net_.ksoftirqd_main(t); });
  ksoftirqd.pinned = true;
  {
    Cpu& c0 = sched_.cpus[0];
    c0.rq.erase(std::find(c0.rq.begin(), c0.rq.end(), &ksoftirqd));
    sched_.set_task_state(ksoftirqd, TaskState::Sleeping);
  }
  net_.set_ksoftirqd(&ksoftirqd);

  clients_.start();
  k_.q.push(0, kStart);
  k_.q.push(sc_.send_end_ns() + sc_.drain_ms * 1'000'000, kStop, 0, 0, EventQueue::kFar);
}

// Each task's Co destroys its program's frame, and with it the frames it was awaiting.
Simulation::~Simulation() = default;

void Simulation::dispatch(const QEvent& e) {
  switch (e.kind) {
    case kActDone: sched_.on_act_done(int(e.a), e.b); break;
    case kIrqDone: net_.on_irq_done(int(e.a), e.b); break;
    case kSliceEnd: sched_.on_slice_end(int(e.a), e.b); break;
    case kClientSend: clients_.on_send(e.a); break;
    case kPacketArrive:
      net_.nic_receive(Skb{e.a, std::uint32_t(e.b >> 32), std::uint32_t(e.b),
                           std::uint32_t(clients_.all()[e.a].group->request_bytes)});
      break;
    case kReplyArrive: clients_.on_reply(e.a, std::uint32_t(e.b >> 32), std::uint32_t(e.b)); break;
    case kStart:
      sched_.start();
      maybe_finish();
      break;
    case kSendEnd: maybe_finish(); break;
    case kStop: finish(now()); break;
    case kConnect: clients_.on_connect(e.a); break;
    case kAckArrive: net_.nic_receive(Skb{e.a, 0, std::uint32_t(e.b), 0, true}); break;
  }
}

void Simulation::maybe_finish() {
  if (!finished_ && clients_.idle() && now() >= clients_.min_end()) finish(now());
}

void Simulation::finish(SimTime at) {
  if (finished_) return;
  finished_ = true;
  end_ = at;
  k_.acct.close_all(at);
  clients_.fail_outstanding();  // every request ends as completed or failed
  k_.trace.end_ns = end_;
}

bool Simulation::run_until(SimTime t) {
  k_.horizon = t;
  while (!finished_ && !k_.q.empty() && k_.q.next_time() <= t) dispatch(k_.q.pop());
  k_.horizon = INT64_MAX;
  if (!finished_ && k_.q.empty()) finish(now());  // nothing can happen any more
  return !finished_;
}

void Simulation::run() {
  while (!finished_ && !k_.q.empty()) dispatch(k_.q.pop());
  if (!finished_) finish(now());
}

Metrics Simulation::metrics() const {
  RunInfo run{sc_.title, sc_.strategy, sc_.seed, k_.emitted, finished_ ? end_ : now(), {}};
  for (const auto& t : sched_.tasks) run.task_names.push_back(t->name);
  return make_metrics(run, k_.acct);
}

}  // namespace eps
