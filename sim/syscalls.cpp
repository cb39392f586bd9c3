// The socket system calls the server programs make (net/socket.c, net/ipv4/tcp.c,
// net/ipv4/inet_connection_sock.c), each as the kernel runs it in the calling task's context.
// Every step that costs time is a co_await; state changes are traced. select/poll and epoll
// have their own files (select.cpp, eventpoll.cpp).
#include <algorithm>
#include <cassert>

#include "sim/simulation.h"

namespace eps {

// accept4 -> inet_csk_accept: take the connection at the head of the listener's accept queue
// and install an fd for it (alloc_fd: the lowest free). An empty queue: EAGAIN on a
// non-blocking listener; else inet_csk_wait_for_connect sleeps on the listener's wait queue
// as an exclusive waiter (prepare_to_wait_exclusive: one sleeper is woken per connection).
Co<int> Simulation::sys_accept4(Task& t, int lfd) {
  co_await sched_.syscall_enter(t, Sys::Accept4, std::uint32_t(lfd));
  int result;
  const File* f = files_.get(lfd);
  Socket* l = f && f->kind == FileKind::Socket ? &socks_.at(f->id) : nullptr;
  if (!l || !l->listening()) {
    result = -kEINVAL;
  } else {
    for (;;) {
      if (!l->accept_queue.empty()) {
        // do_accept: get_unused_fd_flags reserves the fd, inet_csk_accept takes the oldest
        // connection off the queue (reqsk_queue_remove), then sock_alloc_file and fd_install
        // (net/socket.c, net/ipv4/inet_connection_sock.c). The trace shows the fd and the
        // emptier queue together, when the queue changes, and the rest costs accept_ns: a
        // thread woken meanwhile finds the queue as the picture shows it.
        Socket& s = socks_.at(l->accept_queue.front());
        l->accept_queue.pop_front();
        s.accepted = s.open = true;
        result = files_.install(File{FileKind::Socket, s.sid}, t.cpu, t.id);
        co_await sched_.burn(t, CpuMode::System, sc_.costs.accept_ns);
        break;
      }
      if (l->nonblock) {
        result = -kEAGAIN;
        break;
      }
      wait_.add(l->wq, WaitEntry{WaitKind::TaskWake, true, &t}, WaitAt::Tail, t.cpu);
      co_await sched_.block(t);
    }
  }
  co_await sched_.syscall_exit(t, Sys::Accept4, std::uint32_t(lfd), result);
  co_return result;
}

// clone (pthread_create): a new thread of the server, runnable on this CPU.
Co<int> Simulation::sys_clone(Task& t, std::string name, ProgramFn fn) {
  co_await sched_.syscall_enter(t, Sys::Clone, kNone);
  co_await sched_.burn(t, CpuMode::System, sc_.costs.clone_ns);
  // wake_up_new_task: the idlest CPU; a new task starts one slice behind there (CFS's
  // START_DEBIT), so on the parent's own CPU the parent keeps running.
  const int cpu = sched_.fork_cpu(t.cpu);
  Cpu& c = sched_.cpus[std::size_t(cpu)];
  Task& child = sched_.new_task(TaskKind::ServerWorker, std::move(name), cpu,
                                c.min_vruntime + sc_.effective_slice_ns(),
                                [&](Task& w) { return fn(*this, w); });
  int tid = child.id;
  co_await sched_.syscall_exit(t, Sys::Clone, kNone, tid);
  co_return tid;
}

// close: the select program refuses an fd it cannot put in an fd_set. The number is free
// again at once (alloc_fd hands out the lowest free number next).
Co<int> Simulation::sys_close(Task& t, int fd) {
  co_await sched_.syscall_enter(t, Sys::Close, std::uint32_t(fd));
  const File* f = files_.get(fd);
  Socket* s = f && f->kind == FileKind::Socket ? &socks_.at(f->id) : nullptr;
  int result = -kEBADF;
  if (s && s->open && !s->listening()) {
    s->open = false;
    s->refused = true;
    files_.close(fd, t.cpu, t.id, 1);
    // What already waits in its queue is answered with a reset.
    clients_.reset(s->conn, std::vector<Skb>(s->rxq.begin(), s->rxq.end()), t.cpu, t.id);
    s->rxq.clear();
    result = 0;
  }
  co_await sched_.syscall_exit(t, Sys::Close, std::uint32_t(fd), result);
  maybe_finish();
  co_return result;
}

// recvfrom -> tcp_recvmsg: take one request off sk_receive_queue. Empty queue: EAGAIN for a
// non-blocking socket, else sk_wait_data puts the task on the socket's wait queue and sleeps.
Co<Simulation::Recv> Simulation::sys_recvfrom(Task& t, int fd, bool nonblock) {
  co_await sched_.syscall_enter(t, Sys::Recvfrom, std::uint32_t(fd));
  Recv r;
  const File* f = files_.get(fd);
  Socket* s = f && f->kind == FileKind::Socket ? &socks_.at(f->id) : nullptr;
  if (!s || !s->open || s->listening()) {
    r.result = -kEBADF;
  } else {
    for (;;) {
      if (!s->rxq.empty()) {
        r.skb = s->rxq.front();
        s->rxq.pop_front();
        k_.emit(Ev::SkbDequeue, t.cpu, t.id, s->sid, std::uint32_t(s->rxq.size()), 0, r.skb.flow);
        co_await sched_.burn(t, CpuMode::System, copy_cost(sc_, r.skb.bytes));  // skb_copy_datagram_msg
        r.result = int(r.skb.bytes);
        break;
      }
      if (nonblock) {
        r.result = -kEAGAIN;
        break;
      }
      wait_.add(s->wq, WaitEntry{WaitKind::TaskWake, false, &t}, WaitAt::Head, t.cpu);  // sk_wait_data
      co_await sched_.block(t);
    }
  }
  co_await sched_.syscall_exit(t, Sys::Recvfrom, std::uint32_t(fd), r.result);
  co_return r;
}

// sendto -> tcp_sendmsg: copy the reply in and transmit it; it reaches the client after the
// wire's latency. (The transmit path costs time, but no TX interrupt is modelled.)
Co<int> Simulation::sys_sendto(Task& t, int fd, const Skb& request) {
  co_await sched_.syscall_enter(t, Sys::Sendto, std::uint32_t(fd));
  co_await sched_.burn(t, CpuMode::System, sc_.costs.tx_packet_ns + copy_cost(sc_, std::uint64_t(sc_.reply_bytes)));
  k_.q.push(now() + sc_.costs.wire_latency_ns, kReplyArrive, request.conn,
            (std::uint64_t(request.req) << 32) | request.flow);
  k_.emit(Ev::ReplySend, t.cpu, t.id, request.conn, request.req, 0, request.flow);
  co_await sched_.syscall_exit(t, Sys::Sendto, std::uint32_t(fd), sc_.reply_bytes);
  co_return sc_.reply_bytes;
}

Co<void> Simulation::user_work(Task& t, const Skb& request) {
  SimTime ns = sc_.work_us * 1000;
  k_.emit(Ev::UserWork, t.cpu, t.id, kNone, request.conn, std::uint32_t(ns), request.flow);
  co_await sched_.burn(t, CpuMode::User, ns);
}

}  // namespace eps
