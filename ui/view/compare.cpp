#include "ui/view/compare.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "ui/view/format.h"

namespace eps::view {

namespace {

std::uint64_t sys_count(const Metrics& m, const char* name) {
  auto it = m.syscalls.find(name);
  return it == m.syscalls.end() ? 0 : it->second;
}

std::uint64_t wait_calls(const Metrics& m) {
  return sys_count(m, "select") + sys_count(m, "poll") + sys_count(m, "epoll_wait");
}

bool scans_all(Strategy s) { return strategy_info(s).waits == WaitsWith::Scan; }
bool is_epoll(Strategy s) { return strategy_info(s).waits == WaitsWith::Epoll; }
std::string name(const Metrics& m) { return std::string(strategy_name(m.strategy)); }

struct Fact {
  double ratio = 0;
  std::string text;
};

double ratio(double x, double y) { return std::max(x, y) / std::max(1.0, std::min(x, y)); }

std::uint64_t failed_for(const Metrics& m, const char* reason) {
  auto it = m.failed_by_reason.find(reason);
  return it == m.failed_by_reason.end() ? 0 : it->second;
}

// Correctness first: a run that failed requests, or is leaving them unanswered, is not cheaper
// for it. Empty when both have served alike so far.
std::string correctness(const Metrics& a, const Metrics& b) {
  const auto pending = [](const Metrics& m) {
    return m.requests_sent - std::min(m.requests_sent, m.requests_completed + m.requests_failed);
  };
  if (a.requests_failed != b.requests_failed) {
    const bool a_more = a.requests_failed > b.requests_failed;
    const Metrics& hi = a_more ? a : b;
    const Metrics& lo = a_more ? b : a;
    std::string t = name(hi) + " failed " + group_digits(hi.requests_failed) + " of " +
                    group_digits(hi.requests_sent) + " requests, " + name(lo) + " " +
                    group_digits(lo.requests_failed) + ": ";
    if (failed_for(hi, "refused") > failed_for(lo, "refused") && hi.strategy == Strategy::Select)
      t += "select refuses the connections whose fd is 1024 or more, which glibc's fd_set (FD_SETSIZE) "
           "cannot hold.";
    else if (failed_for(hi, "unanswered") > failed_for(lo, "unanswered") && strategy_info(hi.strategy).edge_triggered)
      t += "with EPOLLET a request left in the socket's queue is reported again only on the next edge, "
           "so one read per event strands it.";
    else if (failed_for(hi, "dropped at NIC") > failed_for(lo, "dropped at NIC"))
      t += "the RX ring was full and the NIC dropped packets.";
    else
      t += "see the failed requests in the counters.";
    return t;
  }
  const std::uint64_t pa = pending(a), pb = pending(b);
  const std::uint64_t gap = pa > pb ? pa - pb : pb - pa;
  const std::uint64_t sent = std::max(a.requests_sent, b.requests_sent);
  if (gap >= 3 && double(gap) >= 0.05 * double(sent)) {
    const Metrics& hi = pa > pb ? a : b;
    const Metrics& lo = pa > pb ? b : a;
    std::string t = name(hi) + " has answered " + group_digits(hi.requests_completed) + " of " +
                    group_digits(hi.requests_sent) + " requests sent so far, " + name(lo) + " " +
                    group_digits(lo.requests_completed) + " of " + group_digits(lo.requests_sent);
    t += strategy_info(hi.strategy).edge_triggered
             ? ": with EPOLLET a request left in the socket's queue waits for the next edge."
             : ".";
    return t;
  }
  return "";
}

}  // namespace

std::string explain_difference(const Metrics& a, const Metrics& b) {
  const std::string sa = name(a);
  const std::string sb = name(b);
  if (a.requests_sent == 0 && b.requests_sent == 0 && a.syscalls_total() == 0 && b.syscalls_total() == 0)
    return "Nothing has happened yet in either run: press play.";
  std::vector<Fact> facts;

  // fds examined per wait call: the O(watched) vs O(ready) story.
  if (a.fds_scanned + b.fds_scanned > 0) {
    const double per_a = double(a.fds_scanned) / double(std::max<std::uint64_t>(1, wait_calls(a)));
    const double per_b = double(b.fds_scanned) / double(std::max<std::uint64_t>(1, wait_calls(b)));
    const bool a_more = a.fds_scanned >= b.fds_scanned;
    const Metrics& hi = a_more ? a : b;
    const Metrics& lo = a_more ? b : a;
    char buf[400];
    std::snprintf(buf, sizeof buf, "%s examined %s fds (%.0f per call), %s only %s (%.0f per call)",
                  name(hi).c_str(), group_digits(hi.fds_scanned).c_str(), a_more ? per_a : per_b,
                  name(lo).c_str(), group_digits(lo.fds_scanned).c_str(), a_more ? per_b : per_a);
    std::string why;
    if (scans_all(hi.strategy) && is_epoll(lo.strategy))
      why = ": " + name(hi) + " calls ->poll on every watched fd on every call, while epoll_wait "
            "only reads the ready list that ep_poll_callback filled.";
    else
      why = ".";
    facts.push_back({ratio(double(a.fds_scanned), double(b.fds_scanned)), buf + why});
  }
  if (a.eagain + b.eagain > 0) {
    const bool a_more = a.eagain >= b.eagain;
    const Metrics& hi = a_more ? a : b;
    const Metrics& lo = a_more ? b : a;
    std::string t = name(hi) + " got " + group_digits(hi.eagain) + " EAGAINs, " + name(lo) +
                    " " + group_digits(lo.eagain) + ": ";
    t += strategy_info(hi.strategy).waits == WaitsWith::Nothing
             ? "busy polling asks every non-blocking socket again and again and never sleeps, "
               "burning CPU its neighbours could use."
             : "each EAGAIN is a syscall that found nothing to read.";
    facts.push_back({ratio(double(a.eagain), double(b.eagain)), t});
  }
  {
    const double ca = double(a.ctx_voluntary + a.ctx_involuntary), cb = double(b.ctx_voluntary + b.ctx_involuntary);
    if (ca + cb > 0) {
      const bool a_more = ca >= cb;
      const Metrics& hi = a_more ? a : b;
      const Metrics& lo = a_more ? b : a;
      std::string t = name(hi) + " made " + group_digits(std::uint64_t(a_more ? ca : cb)) +
                      " context switches, " + name(lo) + " " +
                      group_digits(std::uint64_t(a_more ? cb : ca)) + ": ";
      t += strategy_info(hi.strategy).waits == WaitsWith::Recvfrom
               ? "with a thread per connection, every request costs a sleep in sk_wait_data and a "
                 "try_to_wake_up."
               : "each sleep and wake-up is a trip through __schedule.";
      facts.push_back({ratio(ca, cb) * 0.9, t});
    }
  }
  // Wake-ups for nothing: the thundering herd's signature, and why this strategy has one.
  if (a.wasted_wakeups + b.wasted_wakeups > 0) {
    const bool a_more = a.wasted_wakeups >= b.wasted_wakeups;
    const Metrics& hi = a_more ? a : b;
    const Metrics& lo = a_more ? b : a;
    std::string t = name(hi) + " woke its threads " + group_digits(hi.wakeups) + " times, " +
                    group_digits(hi.wasted_wakeups) + " for nothing; " + name(lo) + " " +
                    group_digits(lo.wakeups) + ", " + group_digits(lo.wasted_wakeups) + " for nothing: ";
    const StrategyInfo& i = strategy_info(hi.strategy);
    if (i.threads && !i.reuseport && hi.strategy != Strategy::EpollShared)
      t += "every epoll instance watching the listener has its own ep_poll_callback on its wait queue, "
           "so each new connection wakes a worker in every instance; one accept4 takes it, the others find it "
           "gone and sleep again.";
    else if (hi.strategy == Strategy::EpollShared)
      t += "the level-triggered listener stays on rdllist after ep_send_events, so ep_done_scan wakes the "
           "next worker, which finds the connection already taken.";
    else
      t += "a woken thread found its work already done by another.";
    facts.push_back({ratio(double(a.wasted_wakeups), double(b.wasted_wakeups)) * 1.2, t});
  }
  {
    const double ka = double(a.cpu_system_ns), kb = double(b.cpu_system_ns);
    if (ka + kb > 0) {
      const bool a_more = ka >= kb;
      std::string t = (a_more ? sa : sb) + " spent " + format_duration(SimTime(a_more ? ka : kb)) +
                      " in the kernel, " + (a_more ? sb : sa) + " " +
                      format_duration(SimTime(a_more ? kb : ka)) + " for the same requests.";
      facts.push_back({ratio(ka, kb) * 0.8, t});
    }
  }
  std::string out;
  if (std::string c = correctness(a, b); !c.empty()) {
    // Correctness leads; the largest other difference follows.
    out = c;
    if (!facts.empty()) {
      const auto best = std::max_element(facts.begin(), facts.end(),
                                         [](const Fact& x, const Fact& y) { return x.ratio < y.ratio; });
      if (best->ratio >= 1.05) out += " " + best->text;
    }
  } else if (facts.empty()) {
    out = sa + " and " + sb + " have done the same so far.";
  } else {
    const auto best = std::max_element(facts.begin(), facts.end(),
                                       [](const Fact& x, const Fact& y) { return x.ratio < y.ratio; });
    out = best->ratio < 1.05 ? sa + " and " + sb + " cost about the same so far." : best->text;
  }
  if (a.requests_completed > 0 && b.requests_completed > 0) {
    char buf[200];
    std::snprintf(buf, sizeof buf, " Latency p99: %s %lld µs, %s %lld µs.", sa.c_str(),
                  (long long)a.latency_p99_us, sb.c_str(), (long long)b.latency_p99_us);
    out += buf;
  }
  return out;
}

}  // namespace eps::view
