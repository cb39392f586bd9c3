// --kernel-trace with perf (see kernel_trace.h).
#include "live/kernel_trace.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

namespace eps::live {

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Waits up to `ms` for a child; true if it has exited.
bool wait_child(pid_t pid, int ms, int* status) {
  for (int i = 0; i < ms; i++) {
    if (waitpid(pid, status, WNOHANG) == pid) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

long long to_ll(const std::string& s, long long fallback = -1) {
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  return end && end != s.c_str() ? v : fallback;
}

}  // namespace

std::vector<PerfEvent> parse_perf_script(const std::string& text) {
  std::vector<PerfEvent> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    // "<comm> <tid> [<cpu>] <sec>.<frac>: <event>: <trace text>"; comm may hold spaces, so
    // find the "[cpu]" first and read outwards from it.
    std::size_t lb = line.find(" [");
    while (lb != std::string::npos) {
      std::size_t rb = line.find(']', lb);
      if (rb != std::string::npos && all_digits(std::string_view(line).substr(lb + 2, rb - lb - 2))) break;
      lb = line.find(" [", lb + 1);
    }
    if (lb == std::string::npos) continue;
    std::size_t rb = line.find(']', lb);
    PerfEvent e;
    e.cpu = int(to_ll(line.substr(lb + 2, rb - lb - 2)));
    std::string head = line.substr(0, lb);
    std::size_t sp = head.find_last_of(' ');
    if (sp == std::string::npos) continue;
    std::string tid = head.substr(sp + 1);
    if (!all_digits(tid)) continue;
    e.tid = int(to_ll(tid));
    std::size_t cstart = head.find_first_not_of(' ');
    e.comm = cstart < sp ? head.substr(cstart, sp - cstart) : "";
    while (!e.comm.empty() && e.comm.back() == ' ') e.comm.pop_back();
    std::istringstream rest(line.substr(rb + 1));
    std::string time, event;
    rest >> time >> event;
    if (time.size() < 3 || time.back() != ':' || event.empty() || event.back() != ':') continue;
    time.pop_back();
    event.pop_back();
    std::size_t dot = time.find('.');
    if (dot == std::string::npos) continue;
    std::string frac = time.substr(dot + 1);
    if (!all_digits(time.substr(0, dot)) || !all_digits(frac) || frac.size() > 9) continue;
    frac.resize(9, '0');
    e.t_ns = to_ll(time.substr(0, dot)) * 1'000'000'000 + to_ll(frac);
    e.event = event;
    std::string tok, prev;
    while (rest >> tok) {
      if (std::size_t eq = tok.find('='); eq != std::string::npos && eq > 0) {
        e.fields[tok.substr(0, eq)] = tok.substr(eq + 1);
      } else if (prev == "work" || prev == "budget") {  // napi_poll: "... work 3 budget 64"
        e.fields[prev] = tok;
      }
      prev = tok;
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<TraceEvent> kernel_events(const std::vector<PerfEvent>& evs,
                                      const std::map<int, std::uint16_t>& actor_of_tid,
                                      std::int64_t t0_ns, std::uint64_t* server_wakeups) {
  std::vector<TraceEvent> out;
  auto actor = [&](const std::string& pid) -> std::uint16_t {
    auto it = actor_of_tid.find(int(to_ll(pid)));
    return it == actor_of_tid.end() ? kNoTask : it->second;
  };
  auto field = [](const PerfEvent& e, const char* k) {
    auto it = e.fields.find(k);
    return it == e.fields.end() ? std::string() : it->second;
  };
  for (const PerfEvent& p : evs) {
    TraceEvent e;
    e.t = p.t_ns - t0_ns;
    if (e.t < 0) continue;  // before the server started
    e.cpu = std::uint8_t(std::clamp(p.cpu, 0, 255));
    if (p.event == "sched:sched_switch") {
      std::uint16_t prev = actor(field(p, "prev_pid")), next = actor(field(p, "next_pid"));
      if (prev == kNoTask && next == kNoTask) continue;
      e.kind = Ev::ContextSwitch;
      e.actor = next;
      e.a = prev;
      std::string st = field(p, "prev_state");
      // Preempted while runnable: involuntary; asleep: voluntary; exiting (X, Z): neither.
      e.b = (st == "R" || st == "R+") ? kSwitchInvoluntary
            : (st.rfind('X', 0) == 0 || st.rfind('Z', 0) == 0) ? kSwitchUncounted
                                                              : kSwitchVoluntary;
    } else if (p.event == "sched:sched_wakeup") {
      std::uint16_t who = actor(field(p, "pid"));
      if (who == kNoTask) continue;
      e.kind = Ev::TryToWakeUp;
      e.actor = who;
      long long target = to_ll(field(p, "target_cpu"), p.cpu);
      e.cpu = std::uint8_t(std::clamp<long long>(target, 0, 255));
      if (server_wakeups) ++*server_wakeups;
    } else if (p.event == "irq:softirq_entry" || p.event == "irq:softirq_exit") {
      if (field(p, "vec") != "3") continue;  // NET_RX only
      e.kind = Ev::Softirq;
      e.a = p.event == "irq:softirq_entry" ? 1 : 0;
    } else if (p.event == "napi:napi_poll") {
      e.kind = Ev::NapiRx;
      e.a = std::uint32_t(std::max(0LL, to_ll(field(p, "work"), 0)));
      e.b = std::uint32_t(std::max(0LL, to_ll(field(p, "budget"), 0)));
    } else {
      continue;
    }
    out.push_back(e);
  }
  return out;
}

KernelTrace::~KernelTrace() {
  stop();
  if (!dir_.empty()) {
    unlink((dir_ + "/perf.data").c_str());
    unlink((dir_ + "/perf.data.old").c_str());
    unlink((dir_ + "/perf.log").c_str());
    rmdir(dir_.c_str());
  }
}

std::string KernelTrace::start() {
  if (access("/usr/bin/perf", X_OK) != 0 && system("command -v perf >/dev/null 2>&1") != 0)
    return "perf is not installed (Debian: apt-get install linux-perf); going on without it";
  char tmpl[] = "/tmp/epollscope-perf-XXXXXX";
  if (!mkdtemp(tmpl)) return "cannot make a temporary directory; going on without it";
  dir_ = tmpl;
  const std::string data = dir_ + "/perf.data", log = dir_ + "/perf.log";
  pid_t pid = fork();
  if (pid < 0) return "fork failed; going on without it";
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execlp("perf", "perf", "record", "-q", "-k", "CLOCK_MONOTONIC", "-a", "-o", data.c_str(),
           "-e", "sched:sched_switch", "-e", "sched:sched_wakeup", "-e", "irq:softirq_entry",
           "-e", "irq:softirq_exit", "-e", "napi:napi_poll", static_cast<char*>(nullptr));
    _exit(127);
  }
  // perf needs a moment to open its events; if it fails, it fails within that moment.
  for (int i = 0; i < 100; i++) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      std::string why = slurp(log);
      while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
      if (why.size() > 300) why = why.substr(0, 300) + "...";
      return "perf could not record (" + (why.empty() ? std::string("exit ") + std::to_string(WEXITSTATUS(status)) : why) +
             "); tracepoints need root or kernel.perf_event_paranoid <= 1. Going on without it";
    }
    struct stat sb {};
    if (i >= 20 && ::stat(data.c_str(), &sb) == 0 && sb.st_size > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = pid;
  return "";
}

void KernelTrace::stop() {
  if (pid_ <= 0 || stopped_) return;
  stopped_ = true;
  kill(pid_, SIGINT);
  int status = 0;
  if (!wait_child(pid_, 5000, &status)) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
  }
}

KernelTraceSummary KernelTrace::merge_into(Trace& tr, std::int64_t t0_ns,
                                           const std::map<int, std::uint16_t>& actor_of_tid) {
  KernelTraceSummary s;
  if (pid_ <= 0) return s;
  stop();
  std::string cmd = "perf script -i '" + dir_ + "/perf.data' -F comm,tid,cpu,time,event,trace 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return s.error = "cannot run perf script", s;
  std::string text;
  char buf[65536];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
  pclose(p);
  std::vector<TraceEvent> ke = kernel_events(parse_perf_script(text), actor_of_tid, t0_ns, &s.server_wakeups);
  s.events = ke.size();
  tr.events.insert(tr.events.end(), ke.begin(), ke.end());
  // The cast (TaskCreate at t = 0) stays first; everything else by time.
  std::stable_sort(tr.events.begin(), tr.events.end(), [](const TraceEvent& a, const TraceEvent& b) {
    bool ca = a.kind == Ev::TaskCreate, cb = b.kind == Ev::TaskCreate;
    if (ca != cb) return ca;
    return a.t < b.t;
  });
  s.ok = true;
  return s;
}

}  // namespace eps::live
