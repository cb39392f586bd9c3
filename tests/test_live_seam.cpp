// The syscall seam: failures injected on purpose (EINTR, EAGAIN, short writes) into every
// server's syscalls, and every request must still be answered. Also checks that the seam
// counts what it injects, and leaves threads without a log alone.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "live/live_run.h"
#include "live/sys.h"

using namespace eps;
using namespace eps::live;

namespace {

struct Injections {
  std::array<std::atomic<std::uint64_t>, sys::kSysCount> calls{}, eintr{}, eagain{}, short_io{};
};

// Picks calls by a hash of their number, not by n % k: a busy-poll loop makes the same
// number of calls per pass, and "every 5th" would then always hit the same connection.
bool pick(std::uint64_t n, std::uint64_t salt, int one_in) {
  std::uint64_t z = n * 0x9e3779b97f4a7c15ULL + salt;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z ^= z >> 27;
  return z % std::uint64_t(one_in) == 0;
}

// About one call in 3 of each kind: EINTR. Sendto: one in 4 EAGAIN, one in 2 at most 7
// bytes. Recvfrom and accept4: one in 5 EAGAIN, a spurious wake-up that a level-triggered
// loop must shrug off. Not for epoll-et, and not for the blocking server: an EAGAIN there
// says "empty" or "full", which the kernel never says while it is not so, and an
// edge-triggered loop rightly waits for the next edge after it.
sys::Injector make_injector(Strategy s, Injections& inj) {
  const bool spurious_ok = s != Strategy::EpollEt && s != Strategy::Blocking;
  return [spurious_ok, &inj](Sys call, int) -> sys::Fault {
    const std::size_t k = std::size_t(call);
    const std::uint64_t n = ++inj.calls[k];
    sys::Fault f;
    if (call == Sys::EpollCreate1 || call == Sys::EpollCtl) return f;  // setup: not retried
    if (pick(n, k, 3)) {
      inj.eintr[k]++;
      f.err = EINTR;
    } else if (call == Sys::Sendto && spurious_ok && pick(n, 100 + k, 4)) {
      inj.eagain[k]++;
      f.err = EAGAIN;
    } else if (call == Sys::Sendto && pick(n, 200 + k, 2)) {
      inj.short_io[k]++;
      f.max_bytes = 7;
    } else if ((call == Sys::Recvfrom || call == Sys::Accept4) && spurious_ok && pick(n, 300 + k, 5)) {
      inj.eagain[k]++;
      f.err = EAGAIN;
    }
    return f;
  };
}

}  // namespace

TEST_CASE("seam: injected EINTR, EAGAIN and short writes, every request still answered", "[live]") {
  for (Strategy s : all_strategies()) {
    INFO("strategy " << strategy_name(s));
    Scenario sc = load_scenario("tests/data/live/small.toml");
    sc.strategy = s;
    Injections inj;
    sys::set_injector(make_injector(s, inj));
    LiveResult r = run_live(sc);
    sys::set_injector(nullptr);
    const Metrics& m = r.metrics;
    INFO(to_json(m).dump());
    REQUIRE(m.requests_sent > 0);
    CHECK(m.requests_failed == 0);
    CHECK(m.requests_completed == m.requests_sent);
    std::uint64_t eintr = 0, eagain = 0;
    for (std::size_t k = 0; k < sys::kSysCount; k++) eintr += inj.eintr[k], eagain += inj.eagain[k];
    CHECK(eintr > 10);
    CHECK(inj.eintr[std::size_t(Sys::Recvfrom)] > 0);
    CHECK(inj.short_io[std::size_t(Sys::Sendto)] > 0);
    if (s != Strategy::Blocking && s != Strategy::EpollEt) CHECK(inj.eagain[std::size_t(Sys::Sendto)] > 0);
    // Injected EAGAINs are counted like real ones (the busy loop adds its own).
    CHECK(m.eagain + r.teardown_eagain >= eagain);
    // Each injected call is still a call: in the figures, or in the teardown after the drain.
    std::uint64_t injected_calls = 0, teardown = 0;
    for (std::size_t k = 1; k < sys::kSysCount; k++) injected_calls += inj.calls[k];
    for (const auto& [name, n] : r.teardown_syscalls) teardown += n;
    CHECK(m.syscalls_total() + teardown == injected_calls);
  }
}

TEST_CASE("seam: counts and traces only threads that attached a log", "[live]") {
  int sv[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  char c = 'x';
  REQUIRE(sys::sendto(sv[0], &c, 1) == 1);  // no log attached: a plain call, not counted
  sys::ThreadLog log;
  log.record = true;
  log.t0_ns = sys::mono_ns();
  sys::attach(&log);
  CHECK(sys::recvfrom(sv[1], &c, 1) == 1);
  sys::set_injector([](Sys call, int) {
    sys::Fault f;
    if (call == Sys::Recvfrom) f.err = EAGAIN;
    if (call == Sys::Close) f.err = EINTR;
    return f;
  });
  CHECK(sys::recvfrom(sv[1], &c, 1) == -1);  // injected: the real (blocking) call is not made
  CHECK(errno == EAGAIN);
  // close(2) with EINTR: Linux has released the fd anyway, and so does the seam.
  const int fd = sv[0];
  CHECK(sys::close(fd) == -1);
  CHECK(errno == EINTR);
  CHECK(fcntl(fd, F_GETFD) == -1);
  sys::set_injector(nullptr);
  sys::attach(nullptr);
  close(sv[1]);
  CHECK(log.total.calls[std::size_t(Sys::Sendto)] == 0);
  CHECK(log.total.calls[std::size_t(Sys::Recvfrom)] == 2);
  CHECK(log.total.calls[std::size_t(Sys::Close)] == 1);
  CHECK(log.total.eagain == 1);
  REQUIRE(log.events.size() == 6);
  CHECK(log.events[0].kind == Ev::SyscallEnter);
  CHECK(log.events[1].kind == Ev::SyscallExit);
  CHECK(log.events[1].b == 1u);
  CHECK(std::int32_t(log.events[3].b) == -EAGAIN);
  CHECK(log.events[3].obj == std::uint32_t(sv[1]));
  CHECK(std::int32_t(log.events[5].b) == -EINTR);
  CHECK(log.events[5].a == std::uint32_t(Sys::Close));
}
