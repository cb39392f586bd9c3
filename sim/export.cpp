#include "sim/export.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "sim/world.h"

namespace eps {

namespace {

constexpr int kPidCpus = 1, kPidTasks = 2, kPidKernel = 3;

std::string esc(std::string_view s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') { o += '\\'; o += c; }
    else if (static_cast<unsigned char>(c) < 0x20) { char b[8]; std::snprintf(b, sizeof b, "\\u%04x", c); o += b; }
    else o += c;
  }
  return o;
}

class Writer {
 public:
  explicit Writer(std::ostream& o) : o_(o) { o_ << "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n"; }
  ~Writer() { o_ << "\n]}\n"; }
  void raw(const std::string& s) {
    if (!first_) o_ << ",\n";
    first_ = false;
    o_ << s;
  }
  static std::string us(SimTime ns) {
    char b[40];
    std::snprintf(b, sizeof b, "%.3f", double(ns) / 1000.0);
    return b;
  }
  void slice(int pid, int tid, std::string_view name, SimTime start, SimTime end, std::string_view cat) {
    if (end <= start) return;
    raw("{\"ph\":\"X\",\"pid\":" + std::to_string(pid) + ",\"tid\":" + std::to_string(tid) + ",\"name\":\"" +
        esc(name) + "\",\"cat\":\"" + std::string(cat) + "\",\"ts\":" + us(start) + ",\"dur\":" + us(end - start) + "}");
  }
  void counter(std::string_view name, SimTime t, std::uint64_t v) {
    raw("{\"ph\":\"C\",\"pid\":" + std::to_string(kPidKernel) + ",\"name\":\"" + esc(name) + "\",\"ts\":" + us(t) +
        ",\"args\":{\"value\":" + std::to_string(v) + "}}");
  }
  void flow(char ph, std::uint32_t id, int pid, int tid, SimTime t) {
    std::string s = "{\"ph\":\"" + std::string(1, ph) + "\",\"id\":" + std::to_string(id) +
                    ",\"name\":\"packet\",\"cat\":\"packet\",\"pid\":" + std::to_string(pid) +
                    ",\"tid\":" + std::to_string(tid) + ",\"ts\":" + us(t);
    if (ph == 'f') s += ",\"bp\":\"e\"";
    raw(s + "}");
  }
  void instant(int pid, int tid, std::string_view name, SimTime t) {
    raw("{\"ph\":\"i\",\"s\":\"t\",\"pid\":" + std::to_string(pid) + ",\"tid\":" + std::to_string(tid) +
        ",\"name\":\"" + esc(name) + "\",\"ts\":" + us(t) + "}");
  }
  void name(int pid, int tid, std::string_view n) {
    if (tid < 0)
      raw("{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":" + std::to_string(pid) + ",\"args\":{\"name\":\"" + esc(n) + "\"}}");
    else
      raw("{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":" + std::to_string(pid) + ",\"tid\":" + std::to_string(tid) +
          ",\"args\":{\"name\":\"" + esc(n) + "\"}}");
  }

 private:
  std::ostream& o_;
  bool first_ = true;
};

}  // namespace

void write_chrome_trace(const Trace& tr, std::ostream& out) {
  Writer w(out);
  w.name(kPidCpus, -1, "CPUs");
  w.name(kPidTasks, -1, "tasks (" + std::string(strategy_name(tr.strategy)) + ")");
  w.name(kPidKernel, -1, "kernel counters");
  for (int c = 0; c < tr.cpus; c++) w.name(kPidCpus, c, "CPU " + std::to_string(c));

  struct Open { SimTime since = 0; CpuMode mode = CpuMode::Idle; std::uint16_t task = kNoTask; };
  std::vector<Open> cpu(std::size_t(tr.cpus));
  struct TaskOpen { SimTime sys_since = -1; Sys sys = Sys::None; SimTime sleep_since = -1; };
  std::vector<TaskOpen> tasks;
  WorldState ws = initial_world(tr);
  std::size_t last_rdl = 0, last_ring = 0;
  std::vector<std::size_t> last_rq(std::size_t(tr.cpus), 0);

  std::vector<std::size_t> rq(std::size_t(tr.cpus), 0);  // runnable tasks per CPU
  for (const TraceEvent& e : tr.events) {
    bool was_runnable = false;
    int old_cpu = 0;
    if (e.kind == Ev::TaskState && e.actor < ws.tasks.size()) {
      was_runnable = ws.tasks[e.actor].state == TaskState::Runnable;
      old_cpu = ws.tasks[e.actor].cpu;
    }
    if (e.kind == Ev::TaskCreate) rq[std::min<std::size_t>(e.obj, rq.size() - 1)]++;
    apply(ws, tr, e);
    if (e.kind == Ev::TaskState && e.actor < ws.tasks.size()) {
      if (was_runnable) rq[std::size_t(old_cpu)]--;
      if (ws.tasks[e.actor].state == TaskState::Runnable) rq[std::size_t(ws.tasks[e.actor].cpu)]++;
    }
    switch (e.kind) {
      case Ev::TaskCreate:
        if (tasks.size() <= e.actor) tasks.resize(e.actor + 1u);
        w.name(kPidTasks, e.actor, e.b < tr.strings.size() ? tr.strings[e.b] : "task");
        break;
      case Ev::CpuMode: {
        Open& o = cpu[e.cpu];
        if (o.mode != CpuMode::Idle) {
          std::string n(cpu_mode_name(o.mode));
          if (o.task != kNoTask && o.task < ws.tasks.size()) n += " " + ws.tasks[o.task].name;
          w.slice(kPidCpus, e.cpu, n, o.since, e.t, cpu_mode_name(o.mode));
        }
        o = Open{e.t, CpuMode(e.a), e.actor};
        break;
      }
      case Ev::SyscallEnter:
        if (e.actor < tasks.size()) tasks[e.actor].sys_since = e.t, tasks[e.actor].sys = Sys(e.a);
        break;
      case Ev::SyscallExit:
        if (e.actor < tasks.size() && tasks[e.actor].sys_since >= 0) {
          std::string n(sys_name(Sys(e.a)));
          n += " = " + std::to_string(std::int32_t(e.b));
          w.slice(kPidTasks, e.actor, n, tasks[e.actor].sys_since, e.t, "syscall");
          tasks[e.actor].sys_since = -1;
        }
        break;
      case Ev::TaskState:
        if (e.actor < tasks.size()) {
          TaskOpen& t = tasks[e.actor];
          if (TaskState(e.a) == TaskState::Sleeping) t.sleep_since = e.t;
          else if (t.sleep_since >= 0) { w.slice(kPidTasks, e.actor, "sleeping", t.sleep_since, e.t, "sleep"); t.sleep_since = -1; }
        }
        break;
      case Ev::NicRx:
        w.flow('s', e.flow, kPidCpus, 0, e.t);
        break;
      case Ev::NapiRx:
      case Ev::SkbQueue:
        w.flow('t', e.flow, kPidCpus, e.cpu, e.t);
        break;
      case Ev::TryToWakeUp:
        w.instant(kPidCpus, e.cpu, "try_to_wake_up " + (e.actor < ws.tasks.size() ? ws.tasks[e.actor].name : ""), e.t);
        break;
      case Ev::SkbDequeue:
        w.flow('f', e.flow, kPidTasks, e.actor, e.t);
        break;
      case Ev::NicDrop:
        w.instant(kPidCpus, 0, "NIC drop", e.t);
        break;
      default:
        break;
    }
    std::size_t rdl = 0;  // every epoll instance's ready list, together
    for (const WsEpoll& ep : ws.eps) rdl += ep.rdllist.size();
    if (rdl != last_rdl) { last_rdl = rdl; w.counter("rdllist length", e.t, last_rdl); }
    if (ws.ring != last_ring) { last_ring = ws.ring; w.counter("RX ring", e.t, last_ring); }
    if (e.kind == Ev::TaskState || e.kind == Ev::TaskCreate) {
      for (int c = 0; c < tr.cpus; c++) {
        if (rq[std::size_t(c)] != last_rq[std::size_t(c)]) {
          last_rq[std::size_t(c)] = rq[std::size_t(c)];
          w.counter("runqueue CPU " + std::to_string(c), e.t, rq[std::size_t(c)]);
        }
      }
    }
  }
  // Close what is still open at the end of the run.
  for (int c = 0; c < tr.cpus; c++) {
    const Open& o = cpu[std::size_t(c)];
    if (o.mode != CpuMode::Idle) w.slice(kPidCpus, c, cpu_mode_name(o.mode), o.since, tr.end_ns, cpu_mode_name(o.mode));
  }
}

}  // namespace eps
