// `calibrate`: the model's costs measured on this machine. The figures depend on the machine,
// so the tests check what must hold anywhere: every cost measured or said why not, each in a
// range no real machine leaves, the relations between them, and that the file it writes is
// a costs file the model takes.
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "live/calibrate.h"
#include "sim/simulation.h"

using namespace eps;

TEST_CASE("calibrate: every cost, in order, within what real machines do", "[live][calibrate]") {
  live::Calibration c = live::calibrate(/*quick=*/true);
  INFO(live::calibration_toml(c));
  const std::vector<std::string_view> keys = cost_keys();
  std::size_t at = 0;  // lines come in the [costs] order, each key once
  for (const live::CalibrationLine& l : c.lines) {
    while (at < keys.size() && keys[at] != l.key) at++;
    REQUIRE(at < keys.size());
    CHECK(*cost_field(c.costs, l.key) == l.value);  // the Costs carry what the lines say
    CHECK(!l.how.empty());
  }
  const Costs& k = c.costs;
  CHECK(k.syscall_ns >= 10);
  CHECK(k.syscall_ns <= 20'000);
  CHECK(k.context_switch_ns > 0);
  CHECK(k.context_switch_ns <= 200'000);
  CHECK(k.poll_fd_ns > 0);
  CHECK(k.poll_fd_ns <= 20'000);
  CHECK(k.epoll_event_ns <= 20'000);
  CHECK(k.epoll_ctl_ns <= 100'000);
  CHECK(k.accept_ns <= 1'000'000);
  CHECK(k.clone_ns > k.syscall_ns);        // a thread is more than one trip into the kernel
  CHECK(k.tx_packet_ns > 0);
  CHECK(k.tx_packet_ns == k.softirq_packet_ns);  // measured together on loopback, halved
  CHECK(k.wire_latency_ns == 0);           // loopback
  CHECK(k.irq_ns == Costs{}.irq_ns);       // not measurable on loopback: kept
  // The point of the lesson, measured: a poll over 1,000 fds costs far more than an
  // epoll_wait that returns one event.
  CHECK(1000 * k.poll_fd_ns > k.epoll_wait_ns + k.epoll_event_ns);
}

TEST_CASE("calibrate: the file it writes is a costs file the model takes", "[live][calibrate]") {
  live::Calibration c = live::calibrate(true);
  const std::string text = live::calibration_toml(c);
  CHECK(text.find("[costs]") != std::string::npos);
  Costs back = parse_costs(text, "calibrated.toml");
  for (std::string_view key : cost_keys()) CHECK(*cost_field(back, key) == *cost_field(c.costs, key));
}

TEST_CASE("cli calibrate: writes the file, and run takes it", "[live][calibrate]") {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("eps-calibrate-" + std::to_string(getpid()) + ".toml")).string();
  std::string cmd = std::string(EPS_CLI_PATH) + " calibrate --quick --out " + path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[4096];
  std::string out;
  while (std::size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  INFO(out);
  REQUIRE(WEXITSTATUS(pclose(p)) == 0);
  CHECK(out.find("--costs " + path) != std::string::npos);  // says how to use it
  REQUIRE_NOTHROW(load_costs(path));
  std::string run = std::string(EPS_CLI_PATH) + " run scenarios/05-epoll.toml --costs " + path + " >/dev/null 2>&1";
  CHECK(WEXITSTATUS(std::system(run.c_str())) == 0);
  std::remove(path.c_str());
}
