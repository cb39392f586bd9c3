// The run loop and the cast: building the machine from a scenario, dispatching scheduled
// happenings in (time, sequence) order, and turning counters into metrics at the end.
#include "sim/simulation.h"

#include <algorithm>
#include <cassert>

#include "sim/arrivals.h"

namespace eps {

Simulation::Simulation(Scenario sc, RunOptions opt) : sc_(std::move(sc)), opt_(std::move(opt)) {
  const int nconn = sc_.total_connections();
  if (sc_.strategy == Strategy::Blocking && nconn + 1 + 64 * 64 > kMaxTasks)
    throw ScenarioError(sc_.path, 0, "clients",
                        "the blocking strategy needs a thread per connection; the model "
                        "supports at most " + std::to_string(kMaxTasks - 1 - 64 * 64) +
                        " connections with it, got " + std::to_string(nconn));
  trace_.scenario_title = sc_.title;
  trace_.strategy = std::string(strategy_name(sc_.strategy));
  trace_.seed = sc_.seed;
  trace_.cpus = sc_.cpus;
  trace_.connections = nconn;
  trace_.program = program_listing(sc_.strategy, sc_.et_read_once);
  if (opt_.record_trace) trace_.events.reserve(1 << 16);

  cpus_.resize(std::size_t(sc_.cpus));
  for (int i = 0; i < sc_.cpus; i++) cpus_[std::size_t(i)].id = i;

  // fds: 0-2 stdio, 3 the listening socket; the epoll programs create their epoll instance
  // before accepting, so it gets 4 and connections follow it.
  listen_ = std::make_unique<Socket>();
  listen_->fd = 3;
  listen_->wq.owner_fd = 3;
  listen_->open = true;
  bool has_epfd = sc_.strategy == Strategy::Epoll || sc_.strategy == Strategy::EpollEt;
  next_fd_ = 4;
  first_conn_fd_ = has_epfd ? 5 : 4;

  // The connections finished their handshakes before the run: their sockets exist, waiting
  // in the accept queue. Clients may send at once; data waits in the socket until read.
  std::uint32_t conn = 0;
  for (const ClientGroup& g : sc_.clients) {
    for (int i = 0; i < g.connections; i++, conn++) {
      auto s = std::make_unique<Socket>();
      s->conn = conn;
      s->fd = first_conn_fd_ + conn;
      s->wq.owner_fd = s->fd;
      emit(Ev::SocketCreate, 0, kNoTask, s->fd, conn);
      socks_.push_back(std::move(s));
      Client cl;
      cl.conn = conn;
      cl.group = &g;
      if (g.mode == ClientMode::Open)
        cl.arrivals = std::make_unique<ArrivalStream>(sc_.seed, conn, g.rate_per_s);
      clients_.push_back(std::move(cl));
    }
  }

  // The cast: the server's main thread on CPU 0; neighbours spread from CPU 1 on.
  ProgramFn main_prog = opt_.program_override ? opt_.program_override
                                              : server_program(sc_.strategy, sc_.et_read_once);
  new_task(TaskKind::ServerMain, "P (server)", 0, main_prog, 0);
  for (const BackgroundGroup& bg : sc_.background) {
    for (int i = 0; i < bg.count; i++) {
      int cpu = int(tasks_.size()) % sc_.cpus;
      std::string name = bg.count == 1 ? bg.name : bg.name + std::to_string(i + 1);
      new_task(TaskKind::Background, name, cpu, [](Simulation& s, Task& t) -> Co<void> {
        for (;;) co_await s.burn(t, CpuMode::User, 1'000'000);  // a CPU hog never sleeps
      }, 0);
    }
  }

  // ksoftirqd/0 sleeps until net_rx_action hands work over to it (kernel/softirq.c).
  ksoftirqd_ = &new_task(TaskKind::Ksoftirqd, "ksoftirqd/0", 0, [](Simulation& s, Task& t) {
    return s.ksoftirqd_main(t);
  }, 0);
  ksoftirqd_->pinned = true;
  {
    Cpu& c0 = cpus_[0];
    c0.rq.erase(std::find(c0.rq.begin(), c0.rq.end(), ksoftirqd_));
    set_task_state(*ksoftirqd_, TaskState::Sleeping);
  }

  // First sends (from start_ms on). Open loop: Poisson. Closed loop: connection i starts i
  // microseconds after the start.
  const SimTime start = sc_.send_start_ns(), send_end = sc_.send_end_ns();
  for (Client& cl : clients_) {
    SimTime offset = cl.group->mode == ClientMode::Open ? cl.arrivals->next() : SimTime(cl.conn) * 1000;
    SimTime first = offset == ArrivalStream::kNever ? offset : start + offset;  // idle: never
    bool sends = cl.group->mode == ClientMode::Open ? first < send_end
                                                    : (first < send_end || cl.group->requests > 0);
    if (sends) {
      clients_sending_++;
      q_.push(first, kClientSend, cl.conn, 0, EventQueue::kFar);
    } else {
      cl.finished_sending = true;
    }
  }
  // A window of sending (open loop, or closed loop "until duration_ms") is measured whole:
  // throughput is requests over the window even if the last reply comes early. A closed
  // loop with a fixed number of requests ends when they are answered.
  for (const ClientGroup& g : sc_.clients)
    if (g.mode == ClientMode::Open || g.requests == 0) min_end_ = send_end;
  if (min_end_ > 0) q_.push(min_end_, kSendEnd, 0, 0, EventQueue::kFar);
  q_.push(0, kStart);
  q_.push(send_end + sc_.drain_ms * 1'000'000, kStop, 0, 0, EventQueue::kFar);
}

// Each task's Co destroys its program's frame, and with it the frames it was awaiting.
Simulation::~Simulation() = default;

std::uint32_t Simulation::add_string(const std::string& s) {
  trace_.strings.push_back(s);
  return std::uint32_t(trace_.strings.size() - 1);
}

void Simulation::dispatch(const QEvent& e) {
  switch (e.kind) {
    case kActDone: {
      Cpu& c = cpus_[e.a];
      if (e.b == c.act_gen && c.irq == Cpu::Irq::None) on_act_done(c);
      break;
    }
    case kIrqDone: {
      Cpu& c = cpus_[e.a];
      if (e.b == c.irq_gen) on_irq_done(c);
      break;
    }
    case kSliceEnd: {
      Cpu& c = cpus_[e.a];
      if (e.b == c.slice_gen) on_slice_end(c);
      break;
    }
    case kClientSend:
      client_send(clients_[e.a]);
      break;
    case kPacketArrive: {
      Skb skb{e.a, std::uint32_t(e.b >> 32), std::uint32_t(e.b),
              std::uint32_t(clients_[e.a].group->request_bytes)};
      nic_receive(skb);
      break;
    }
    case kReplyArrive:
      client_reply(e.a, std::uint32_t(e.b >> 32), std::uint32_t(e.b));
      break;
    case kStart:
      for (Cpu& c : cpus_) if (!c.rq.empty() && !c.curr && c.act == Cpu::Act::None) schedule(c, false);
      maybe_finish();
      break;
    case kSendEnd:
      maybe_finish();
      break;
    case kStop:
      finish(now());
      break;
  }
}

void Simulation::maybe_finish() {
  if (!finished_ && clients_sending_ == 0 && outstanding_ == 0 && now() >= min_end_) finish(now());
}

void Simulation::finish(SimTime at) {
  if (finished_) return;
  finished_ = true;
  end_ = at;
  for (Cpu& c : cpus_) account(c);
  // Every request ends as completed or failed: what is still outstanding failed now.
  for (Client& cl : clients_) {
    for (std::uint32_t r = 0; r < cl.sent; r++) {
      if (cl.state[r] == 0 || cl.state[r] == 2) {
        FailReason why = cl.state[r] == 2 ? FailReason::NicDrop : FailReason::Unanswered;
        st_.fail(why);
        emit(Ev::RequestFailed, 0, kNoTask, cl.conn, r, std::uint32_t(why));
        cl.state[r] = 3;
        outstanding_--;
      }
    }
  }
  trace_.end_ns = end_;
}

bool Simulation::run_until(SimTime t) {
  horizon_ = t;
  while (!finished_ && !q_.empty() && q_.next_time() <= t) dispatch(q_.pop());
  horizon_ = INT64_MAX;
  if (!finished_ && q_.empty()) finish(now());  // nothing can happen any more
  return !finished_;
}

void Simulation::run() {
  while (!finished_ && !q_.empty()) dispatch(q_.pop());
  if (!finished_) finish(now());
}

Metrics Simulation::metrics() const {
  CpuSplit split;
  for (const auto& t : tasks_) split.add_task(*t);
  for (const Cpu& c : cpus_) split.add_cpu(c);
  RunInfo run{sc_.title, std::string(strategy_name(sc_.strategy)), sc_.seed, trace_count_,
              finished_ ? end_ : now()};
  return make_metrics(run, st_, split);
}

}  // namespace eps
