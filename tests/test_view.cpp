// The GUI's view logic, headless: tree layout, timeline geometry, playback, narration, what
// the machine picture shows, the compare line, palettes, loading.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "sim/simulation.h"
#include "sim/trace_io.h"
#include "sim/world.h"
#include "ui/view/compare.h"
#include "ui/view/keys.h"
#include "ui/view/machine.h"
#include "ui/view/narration.h"
#include "ui/view/palette.h"
#include "ui/view/playback.h"
#include "ui/view/session.h"
#include "ui/view/timeline.h"
#include "ui/view/tree_layout.h"

using namespace eps;
using namespace eps::view;

namespace {

RbTree tree_of(int n) {
  RbTree t;
  for (int i = 0; i < n; i++) t.insert(RbKey{std::uint32_t(4 + i), 4 + i});
  return t;
}

// The built-in lesson's run (epoll, 3 connections), made once.
const Run& epoll_run() {
  static const std::shared_ptr<Run> run = [] {
    Loaded l = run_scenario(builtin_lesson());
    REQUIRE(l.error.empty());
    return l.run;
  }();
  return *run;
}

const Run& run_with(Strategy s) {
  static std::shared_ptr<Run> runs[kStrategyValues];
  auto& r = runs[std::size_t(s)];
  if (!r) {
    Loaded l = run_scenario(builtin_lesson(), s);
    REQUIRE(l.error.empty());
    r = l.run;
  }
  return *r;
}

}  // namespace

TEST_CASE("tree layout: in-order x, depth y, parents one level up, colours kept", "[view]") {
  RbTree t = tree_of(15);
  TreeLayout l = layout_tree(t);
  REQUIRE(l.nodes.size() == 15);
  CHECK(l.hidden == 0);
  for (std::size_t i = 1; i < l.nodes.size(); i++) {
    CHECK(l.nodes[i].fd > l.nodes[i - 1].fd);   // key order left to right
    CHECK(l.nodes[i].x > l.nodes[i - 1].x);
  }
  int roots = 0;
  for (const auto& n : l.nodes) {
    if (n.parent < 0) {
      roots++;
      CHECK(n.depth == 0);
      CHECK_FALSE(n.red);  // the root is black
      continue;
    }
    CHECK(l.nodes[std::size_t(n.parent)].depth == n.depth - 1);
    const RbTree::NodeId id = t.find(RbKey{std::uint32_t(n.fd), n.fd});
    CHECK(t.node(id).red == n.red);
  }
  CHECK(roots == 1);
  CHECK(l.depth == t.height());
}

TEST_CASE("tree layout: a deep tree is cut and the rest counted", "[view]") {
  RbTree t = tree_of(1000);
  TreeLayout l = layout_tree(t, 5);
  CHECK(l.nodes.size() == 31);  // a red-black tree of 1000 is full down to depth 5
  CHECK(l.hidden == 1000 - 31);
  int below = 0;
  for (const auto& n : l.nodes) below += n.hidden_below;
  CHECK(below == l.hidden);
  CHECK(l.depth == 5);
}

TEST_CASE("tree layout: lerp moves matched nodes, and insert_story ends at the real tree", "[view]") {
  RbTree before = tree_of(2);  // 4 (black) with right child 5 (red)
  const RbKey k{6, 6};         // forces a left rotation about 4 and recolours
  auto story = insert_story(before, k);
  REQUIRE(story.size() >= 2);
  // First picture: the new red leaf hangs under 5, nothing rebalanced yet.
  TreeLayout first = layout_tree(story.front());
  REQUIRE(first.find_fd(6));
  CHECK(first.find_fd(6)->red);
  CHECK(first.find_fd(6)->depth == 2);
  RbTree after = before;
  after.insert(k);
  TreeLayout last = layout_tree(story.back()), want = layout_tree(after);
  REQUIRE(last.nodes.size() == want.nodes.size());
  for (std::size_t i = 0; i < want.nodes.size(); i++) {
    CHECK(last.nodes[i].fd == want.nodes[i].fd);
    CHECK(last.nodes[i].depth == want.nodes[i].depth);
    CHECK(last.nodes[i].red == want.nodes[i].red);
  }
  TreeLayout mid = lerp_layout(first, last, 0.5f);
  const float y0 = first.find_fd(6)->y, y1 = last.find_fd(6)->y;
  CHECK(mid.find_fd(6)->y == Approx((y0 + y1) / 2));
}

TEST_CASE("insert_story has one picture per RbRotate/RbRecolor event the trace reports", "[view]") {
  const Run& run = epoll_run();
  const Trace& tr = *run.trace;
  int inserts = 0;
  for (std::size_t i = 0; i < tr.events.size(); i++) {
    if (tr.events[i].kind != Ev::EpitemInsert) continue;
    inserts++;
    std::size_t rb = 0;
    for (std::size_t j = i + 1; j < tr.events.size() &&
                                (tr.events[j].kind == Ev::RbRotate || tr.events[j].kind == Ev::RbRecolor);
         j++)
      rb++;
    WorldState w = run.replay->at(i);
    REQUIRE(w.eps.size() == 1);
    const auto fd = std::int32_t(tr.events[i].a);
    auto story = insert_story(w.eps[0].rbr, RbKey{std::uint32_t(fd), fd});
    CHECK(story.size() == rb + 1);
  }
  CHECK(inserts == 3);
}

TEST_CASE("time axis: x and t are inverse, zoom keeps the point under the mouse", "[view]") {
  TimeAxis ax;
  ax.fit(1000, 11000, 1000);
  CHECK(ax.x_of(1000) == Approx(0));
  CHECK(ax.x_of(11000) == Approx(1000));
  CHECK(ax.t_of(ax.x_of(4321)) == Approx(4321));
  const double t = ax.t_of(300);
  ax.zoom_at(300, 4);
  CHECK(ax.t_of(300) == Approx(t));
  CHECK(ax.ns_per_px == Approx(2.5));
  ax.pan_px(100);
  CHECK(ax.t_of(400) == Approx(t));
  ax.keep_visible(1e6, 1000, 50);
  CHECK(ax.x_of(1e6) == Approx(950));
}

TEST_CASE("visible spans: wide spans exact, a million thin ones merged to a few per pixel", "[view]") {
  std::vector<Span> spans;
  for (int i = 0; i < 1000000; i++) spans.push_back(Span{SimTime(i) * 10, SimTime(i) * 10 + 10, std::uint8_t(i % 3)});
  TimeAxis ax;
  ax.fit(0, 10e6, 1000);  // 10,000 ns per px: 1,000 spans per pixel
  auto boxes = visible_spans(spans, ax, 1000);
  CHECK(boxes.size() <= 2002);
  CHECK(boxes.size() >= 500);
  CHECK(boxes.front().merged);
  ax.fit(0, 100, 1000);  // 10 spans of 100 px each
  boxes = visible_spans(spans, ax, 1000);
  REQUIRE(boxes.size() == 10);
  CHECK(boxes[3].x0 == Approx(300));
  CHECK(boxes[3].x1 == Approx(400));
  CHECK(boxes[3].value == 0);
  CHECK_FALSE(boxes[3].merged);
}

TEST_CASE("timeline index: CPU lanes cover the run without gaps, tasks have lanes", "[view]") {
  const Run& run = epoll_run();
  const TimelineIndex& idx = run.timeline;
  REQUIRE(idx.cpu.size() == std::size_t(run.trace->cpus));
  for (const auto& lane : idx.cpu) {
    REQUIRE_FALSE(lane.empty());
    CHECK(lane.front().t0 == 0);
    CHECK(lane.back().t1 == idx.end);
    for (std::size_t i = 1; i < lane.size(); i++) CHECK(lane[i].t0 == lane[i - 1].t1);
  }
  CHECK(idx.task.size() >= 1);
  CHECK(idx.task_name[0].size() > 0);
  CHECK(idx.wakeups.size() > 0);
  TimeAxis ax;
  ax.fit(0, double(idx.end), 800);
  auto [lo, hi] = visible_wakeups(idx, ax, 800);
  CHECK(hi - lo == idx.wakeups.size());
}

TEST_CASE("playback: step, seek, play by events and by time, story steps", "[view]") {
  const Trace& tr = *epoll_run().trace;
  const std::size_t n = tr.events.size();
  Playback pb;
  step(pb, tr, -5);
  CHECK(pb.cursor == 0);
  step(pb, tr, 3);
  CHECK(pb.cursor == 3);
  seek(pb, tr, n + 100);
  CHECK(pb.cursor == n);
  seek(pb, tr, 10);
  pb.playing = true;
  pb.speed = 1;  // 2 events per second
  advance(pb, tr, 1.25);
  CHECK(pb.cursor == 12);
  CHECK(pb.frac == Approx(0.5));
  // By time: 1 ms of simulated time per second of wall time.
  const auto& ladder = speed_ladder();
  pb.speed = int(std::find_if(ladder.begin(), ladder.end(), [](const Speed& s) { return s.by_time && s.rate == 1e-3; }) - ladder.begin());
  const double t0 = display_time(tr, pb.cursor, pb.frac);
  advance(pb, tr, 0.1);  // 100 us later
  CHECK(pb.cursor == cursor_at_time(tr, SimTime(t0 + 100000)));
  pb.speed = int(ladder.size()) - 1;
  advance(pb, tr, 10.0);
  CHECK(pb.cursor == n);
  CHECK_FALSE(pb.playing);
  // Story steps: the next syscall return is a sys_exit; back again lands on the one before.
  std::size_t c = next_story(tr, 0, Story::SyscallReturn);
  REQUIRE(c > 0);
  CHECK(tr.events[c - 1].kind == Ev::SyscallExit);
  std::size_t c2 = next_story(tr, c, Story::SyscallReturn);
  CHECK(tr.events[c2 - 1].kind == Ev::SyscallExit);
  CHECK(prev_story(tr, c2, Story::SyscallReturn) == c);
  CHECK(prev_story(tr, c, Story::SyscallReturn) == 0);
  CHECK(next_kind(tr, 0, Ev::RdllistAdd) > 0);
  CHECK(tr.events[next_kind(tr, 0, Ev::RdllistAdd) - 1].kind == Ev::RdllistAdd);
  CHECK(parse_ev("rdllist_add") == Ev::RdllistAdd);
  CHECK_FALSE(parse_ev("nope"));
}

TEST_CASE("narration names the kernel function for each step of a packet's path", "[view]") {
  const Run& run = epoll_run();
  const Trace& tr = *run.trace;
  std::set<Ev> seen;
  WorldState w = initial_world(tr);
  bool saw_callback = false, saw_return = false;
  for (const auto& e : tr.events) {
    apply(w, tr, e);
    const std::string s = narrate(tr, e, w);
    CHECK(s.size() > 10);
    CHECK(s != std::string(ev_name(e.kind)) + ".");
    seen.insert(e.kind);
    if (e.kind == Ev::RdllistAdd && s.find("ep_poll_callback put fd " + std::to_string(e.a)) != std::string::npos)
      saw_callback = true;
    if (e.kind == Ev::SyscallExit && Sys(e.a) == Sys::EpollWait && int(std::int32_t(e.b)) > 0) {
      CHECK(s.find("epoll_wait returns " + std::to_string(e.b)) != std::string::npos);
      saw_return = true;
    }
    if (e.kind == Ev::NicRx) CHECK(s.find("RX ring") != std::string::npos);
    if (e.kind == Ev::TryToWakeUp) CHECK(s.find("try_to_wake_up") != std::string::npos);
    if (e.kind == Ev::Softirq && e.a) CHECK(s.find("net_rx_action") != std::string::npos);
    if (e.kind == Ev::RbRecolor) CHECK(s.find("fd " + std::to_string(e.a)) != std::string::npos);
  }
  CHECK(saw_callback);
  CHECK(saw_return);
  for (Ev k : {Ev::ClientSend, Ev::NicRx, Ev::HardIrq, Ev::Softirq, Ev::SkbQueue, Ev::WaitWake,
               Ev::RdllistAdd, Ev::TryToWakeUp, Ev::SyscallExit, Ev::EpitemInsert})
    CHECK(seen.count(k) == 1);
  CHECK(narrate_start(tr).find("epoll") != std::string::npos);
  CHECK(event_label(tr, tr.events[0], run.timeline.task_name).size() > 0);
}

TEST_CASE("narration of other strategies: blocking sleeps in sk_wait_data, select scans all", "[view]") {
  for (Strategy s : {Strategy::Blocking, Strategy::Select, Strategy::BusyPoll}) {
    const Run& run = run_with(s);
    const Trace& tr = *run.trace;
    WorldState w = initial_world(tr);
    bool found = false;
    for (const auto& e : tr.events) {
      apply(w, tr, e);
      const std::string n = narrate(tr, e, w);
      if (s == Strategy::Blocking && e.kind == Ev::WaitAdd) found |= n.find("sk_wait_data") != std::string::npos;
      if (s == Strategy::Select && e.kind == Ev::PollScan) found |= n.find("do_select called ->poll on 3 fds") != std::string::npos;
      if (s == Strategy::BusyPoll && e.kind == Ev::SyscallExit) found |= n.find("EAGAIN") != std::string::npos;
    }
    INFO(strategy_name(s));
    CHECK(found);
  }
}

TEST_CASE("program panel: the lit line is the last program_line of the followed task", "[view]") {
  const Run& run = epoll_run();
  const Trace& tr = *run.trace;
  const auto& listing = tr.program;
  WorldState w = initial_world(tr);
  int last = -1, checked = 0;
  for (const auto& e : tr.events) {
    apply(w, tr, e);
    if (e.kind == Ev::ProgramLine && e.actor == 0) last = int(e.a);
    const std::uint16_t t = program_task(w, e.actor);
    if (t == 0) {
      CHECK(lit_line(w, t) == last);
      checked++;
    }
    CHECK(lit_line(w, t) < int(listing.size()));
  }
  CHECK(checked > 100);
  CHECK(listing[std::size_t(last)].size() > 0);
}

TEST_CASE("machine picture: busy sockets shown, the idle crowd summarised", "[view]") {
  WorldState w;
  for (std::uint32_t i = 0; i < 1000; i++) {
    WsSocket s;
    s.sid = i;
    s.fd = std::int32_t(4 + i);
    s.conn = i;
    s.established = s.accepted = true;
    s.rxq = (i == 500 || i == 900) ? 2 : 0;
    w.sockets.push_back(s);
  }
  WsSocket listener;  // never among the connection sockets shown
  listener.sid = 1000;
  listener.fd = 3;
  listener.rxq = 5;
  w.sockets.push_back(listener);
  SocketPick p = pick_sockets(w, 8, 700);  // the focus: socket 700 (fd 704)
  REQUIRE(p.shown.size() == 8);
  CHECK(p.hidden == 992);
  CHECK(p.hidden_busy == 0);
  auto shown_fd = [&](std::int32_t fd) {
    return std::any_of(p.shown.begin(), p.shown.end(), [&](std::size_t i) { return w.sockets[i].fd == fd; });
  };
  CHECK(shown_fd(504));
  CHECK(shown_fd(904));
  CHECK(shown_fd(704));
  CHECK(!shown_fd(3));
  CHECK(std::is_sorted(p.shown.begin(), p.shown.end()));
  p = pick_sockets(w, 1);
  CHECK(p.hidden_busy == 1);
  CHECK(p.hidden_queued == 2);
}

TEST_CASE("packet move: the current packet heads for the next stage of its flow", "[view]") {
  const Trace& tr = *epoll_run().trace;
  std::size_t c = next_kind(tr, 0, Ev::NicRx);
  REQUIRE(c > 0);
  PacketMove m = packet_move(tr, c, 0.25f);
  CHECK(m.active);
  CHECK(m.from == Stage::Ring);
  CHECK(m.to == Stage::Softirq);
  CHECK(m.t == Approx(0.25f));
  CHECK_FALSE(packet_move(tr, 0, 0.5f).active);
  const WorldState w = epoll_run().replay->at(c);
  Focus f = focus_of(tr, tr.events[c - 1], w);
  CHECK(f.conn == tr.events[c - 1].obj);
  CHECK(f.stage == Stage::Ring);
}

TEST_CASE("compare line: select vs epoll names the scan cost and why", "[view]") {
  Metrics sel, ep;
  sel.strategy = Strategy::Select;
  sel.syscalls = {{"select", 100}, {"recvfrom", 100}};
  sel.fds_scanned = 100000;
  ep.strategy = Strategy::Epoll;
  ep.syscalls = {{"epoll_wait", 100}, {"recvfrom", 100}};
  ep.fds_scanned = 120;
  sel.requests_sent = ep.requests_sent = 100;
  const std::string s = explain_difference(sel, ep);
  CHECK(s.find("select examined 100,000 fds (1000 per call)") != std::string::npos);
  CHECK(s.find("->poll on every watched fd") != std::string::npos);
  CHECK(explain_difference(Metrics{}, Metrics{}).find("Nothing has happened") != std::string::npos);
  // The real runs: with live metrics as of the same time.
  const Run& a = run_with(Strategy::Select);
  const Run& b = run_with(Strategy::Epoll);
  const SimTime t = a.trace->end_ns / 2;
  WorldState wa = a.replay->at(cursor_at_time(*a.trace, t)), wb = b.replay->at(cursor_at_time(*b.trace, t));
  CHECK(explain_difference(metrics_of(wa, *a.trace, t), metrics_of(wb, *b.trace, t)).size() > 20);
}

TEST_CASE("compare line: the herd is named by its wake-ups for nothing, and why", "[view]") {
  Metrics herd, rp;
  herd.strategy = Strategy::EpollPerThread;
  rp.strategy = Strategy::Reuseport;
  herd.requests_sent = rp.requests_sent = 40;
  herd.wakeups = 160, herd.wasted_wakeups = 120, herd.ctx_voluntary = 164;
  rp.wakeups = 40, rp.wasted_wakeups = 0, rp.ctx_voluntary = 44;
  const std::string s = explain_difference(herd, rp);
  CHECK(s.find("epoll-per-thread woke its threads 160 times, 120 for nothing; reuseport 40, 0 for nothing") !=
        std::string::npos);
  CHECK(s.find("ep_poll_callback") != std::string::npos);
  Metrics shared = herd;
  shared.strategy = Strategy::EpollShared;
  CHECK(explain_difference(rp, shared).find("ep_done_scan") != std::string::npos);
  // The lesson itself, as of its end: the sentence the compare view shows.
  Scenario sc = load_scenario("scenarios/09-thundering-herd.toml");
  Simulation a(sc);
  a.run();
  sc.strategy = Strategy::Reuseport;
  Simulation b(sc);
  b.run();
  CHECK(explain_difference(a.metrics(), b.metrics()).find("for nothing") != std::string::npos);
}

TEST_CASE("run until: offers the kinds this run has, and a default that happens", "[view]") {
  const Trace& tr = *run_with(Strategy::Blocking).trace;
  const std::vector<std::uint64_t> n = kind_counts(tr);
  REQUIRE(n.size() == std::size_t(Ev::Count));
  std::uint64_t total = 0;
  for (std::uint64_t c : n) total += c;
  CHECK(total == tr.events.size());
  // No epoll in a blocking run: rdllist_add never happens, so sched_wakeup is offered instead.
  CHECK(n[std::size_t(Ev::RdllistAdd)] == 0);
  CHECK(until_kind_for(n, Ev::RdllistAdd) == Ev::TryToWakeUp);
  CHECK(until_kind_for(n, Ev::NicRx) == Ev::NicRx);  // a present choice is kept
  const std::vector<std::uint64_t> e = kind_counts(*run_with(Strategy::Epoll).trace);
  CHECK(until_kind_for(e, Ev::RdllistAdd) == Ev::RdllistAdd);
}

TEST_CASE("compare line: failed or stranded requests lead, with their cause", "[view]") {
  auto end_of = [](const std::string& lesson, Strategy s) {
    Scenario sc = load_scenario(std::string(EPS_SOURCE_DIR) + "/scenarios/" + lesson);
    sc.strategy = s;
    Simulation sim(sc);
    sim.run();
    return sim.metrics();
  };
  // Lesson 06: the broken edge-triggered server examines fewer fds, but strands requests.
  const Metrics et = end_of("06-epoll-et-pitfall.toml", Strategy::EpollEt);
  const Metrics lt = end_of("06-epoll-et-pitfall.toml", Strategy::Epoll);
  REQUIRE(et.requests_failed > 0);
  REQUIRE(lt.requests_failed == 0);
  const std::string s06 = explain_difference(lt, et);
  CHECK(s06.rfind("epoll-et failed " + std::to_string(et.requests_failed) + " of ", 0) == 0);
  CHECK(s06.find("EPOLLET") != std::string::npos);
  // Lesson 08: select refuses the clients past FD_SETSIZE; poll serves them.
  const Metrics sel = end_of("08-select-fd-setsize.toml", Strategy::Select);
  const Metrics pol = end_of("08-select-fd-setsize.toml", Strategy::Poll);
  REQUIRE(sel.requests_failed > pol.requests_failed);
  const std::string s08 = explain_difference(sel, pol);
  CHECK(s08.rfind("select failed ", 0) == 0);
  CHECK(s08.find("FD_SETSIZE") != std::string::npos);
  // Mid-run, before the unanswered are counted as failed: the answered share leads.
  Metrics a = lt, b = et;
  a.requests_failed = b.requests_failed = 0;
  a.failed_by_reason.clear(), b.failed_by_reason.clear();
  b.requests_completed = b.requests_sent / 2;
  CHECK(explain_difference(a, b).rfind("epoll-et has answered ", 0) == 0);
  // Alike: no correctness sentence.
  CHECK(explain_difference(lt, lt).find("failed") == std::string::npos);
}

TEST_CASE("herd lesson: a worker that wakes for nothing is told so, and the picture agrees", "[view][threads]") {
  Loaded l = load_scenario_file(std::string(EPS_SOURCE_DIR) + "/scenarios/09-thundering-herd.toml");
  REQUIRE(l.error.empty());
  const Run& run = *l.run;
  const Trace& tr = *run.trace;
  WorldState w = run.replay->at(0);
  int told = 0;
  for (std::size_t i = 0; i < tr.events.size(); i++) {
    const TraceEvent& e = tr.events[i];
    if (e.kind != Ev::PollScan || Sys(e.obj) != Sys::EpollWait || e.a == 0 || e.b != 0) continue;
    run.replay->seek(w, i + 1);
    INFO("event " << i);
    const std::string n = narrate(tr, e, w);
    if (!w.acct.tasks[e.actor].woken) {  // P's level-triggered re-check of its own connection
      CHECK(n.find("woke for nothing") == std::string::npos);
      continue;
    }
    // The listener was on rdllist and is no longer ready: the accept queue drawn is empty too
    // (accept4 took the connection, and the picture shows it taken when the model took it).
    for (const WsSocket& s : w.sockets)
      if (s.listening()) CHECK(s.accept_queue.empty());
    CHECK(n.find("woke for nothing") != std::string::npos);
    CHECK(n.find(task_name(w, e.actor)) != std::string::npos);
    told++;
  }
  // 40 connections, three workers woken for nothing by each (the model's 120).
  CHECK(told == 120);
}

TEST_CASE("palettes: readable text and distinguishable meanings in every theme", "[view]") {
  for (int i = 0; i < kThemeCount; i++) {
    const Theme th = Theme(i);
    const Palette& p = palette(th);
    INFO(theme_name(th));
    CHECK(parse_theme(theme_name(th)) == th);
    CHECK(contrast(p.text, p.bg) >= (th == Theme::HighContrast ? 15.0 : 7.0));
    CHECK(contrast(p.text, p.panel) >= 7.0);
    CHECK(contrast(p.rb_red, p.rb_black) >= 3.0);   // red vs black nodes by lightness too
    CHECK(contrast(p.rb_text, p.rb_black) >= 7.0);
    CHECK(contrast(p.rb_text, p.rb_red) >= 3.0);
    std::set<Rgba> modes(std::begin(p.mode), std::end(p.mode));
    CHECK(modes.size() == std::size_t(kCpuModeCount));
    CHECK(contrast(p.state[int(TaskState::Running)], p.state[int(TaskState::Sleeping)]) >= 1.5);
  }
  CHECK_FALSE(parse_theme("neon"));
  CHECK(mix(rgb(0, 0, 0), rgb(255, 255, 255), 0.5f) == rgb(128, 128, 128));
}

TEST_CASE("loading: --costs replaces the lesson's costs before it runs", "[view]") {
  const std::string lesson = std::string(EPS_SOURCE_DIR) + "/scenarios/05-epoll.toml";
  Costs slow;
  slow.syscall_ns = 1000;
  Loaded base = load_scenario_file(lesson);
  Loaded l = load_scenario_file(lesson, std::nullopt, slow);
  REQUIRE(base.run);
  REQUIRE(l.run);
  CHECK(l.run->scenario->costs.syscall_ns == 1000);  // kept for strategy switches and compare
  CHECK(base.run->scenario->costs.syscall_ns == Costs{}.syscall_ns);
  // Ten times slower syscalls: the same calls, the setup over 1,010 connections ends later.
  auto first_send = [](const Trace& t) {
    for (const TraceEvent& e : t.events)
      if (e.kind == Ev::SyscallEnter && Sys(e.a) == Sys::Sendto) return e.t;
    return SimTime(-1);
  };
  CHECK(first_send(*l.run->trace) > first_send(*base.run->trace));
}

TEST_CASE("loading: a lesson over the GUI's budget is an error, not a run, and the flags let one through", "[view]") {
  const std::string big = std::string(EPS_SOURCE_DIR) + "/tests/data/budget/all_max.toml";
  Loaded l = load_scenario_file(big);
  CHECK_FALSE(l.run);
  CHECK(l.error.rfind(big + ": clients[1].rate_per_s, clients[1].connections, duration_ms: this run would record about ", 0) == 0);
  // The built-in lesson under a limit below its estimate, then with no limit.
  const Scenario small = builtin_lesson();
  const double need = estimate_run(small, Record::Replay).events;
  l = run_scenario(small, std::nullopt, Budget::events(need / 2));
  CHECK_FALSE(l.run);
  CHECK(l.error.find("--allow-big") != std::string::npos);
  l = run_scenario(small, std::nullopt, Budget::unlimited());
  REQUIRE(l.run);
  CHECK(l.error.empty());
  CHECK(!l.run->trace->events.empty());
}

// What the Open box and --trace both call (App::open): a sealed trace with one impossible
// field gives the checker's message, naming the file, the event and the field; no run.
TEST_CASE("loading: a corrupt trace with a valid checksum is refused, not replayed", "[view]") {
  Scenario sc = load_scenario(std::string(EPS_SOURCE_DIR) + "/tests/data/cli/one_request.toml");
  Simulation sim(sc);
  sim.run();
  Trace tr = sim.take_trace();
  std::size_t k = 0;
  while (k < tr.events.size() && tr.events[k].kind != Ev::SyscallEnter) k++;
  REQUIRE(k < tr.events.size());
  tr.events[k].a = 100000;
  const std::string path =
      (std::filesystem::temp_directory_path() / ("eps-test-view-corrupt-" + std::to_string(::getpid()) + ".trace"))
          .string();
  write_trace_file(tr, path);
  Loaded l = load_trace_file(path);
  std::filesystem::remove(path);
  CHECK_FALSE(l.run);
  CHECK(l.error == path + ": corrupt: events[" + std::to_string(k) + "] (sys_enter): a = 100000 (0x186a0) is not a Sys (1..10)");
}

TEST_CASE("loading: bad files give one-line errors, never exceptions", "[view]") {
  Loaded l = load_scenario_file("/nonexistent/lesson.toml");
  CHECK_FALSE(l.run);
  CHECK(l.error.find("/nonexistent/lesson.toml") != std::string::npos);
  l = load_scenario_file(std::string(EPS_SOURCE_DIR) + "/tests/data/scenarios/bad_syntax.toml");
  CHECK_FALSE(l.run);
  CHECK(l.error.find("bad_syntax.toml:") != std::string::npos);
  l = load_trace_file("/nonexistent/run.trace");
  CHECK_FALSE(l.run);
  CHECK(l.error.find("/nonexistent/run.trace") != std::string::npos);
  CHECK(looks_like_scenario("a/b.toml"));
  CHECK_FALSE(looks_like_scenario("a/b.trace"));
  auto lessons = find_lessons(std::string(EPS_SOURCE_DIR) + "/tests/data/scenarios");
  REQUIRE(lessons.size() > 3);
  CHECK(std::is_sorted(lessons.begin(), lessons.end(), [](const Lesson& x, const Lesson& y) { return x.path < y.path; }));
  bool good = false, bad = false;
  for (const auto& le : lessons) {
    if (le.title == "Ten busy clients, one epoll loop") good = le.error.empty();
    if (le.path.find("bad_syntax") != std::string::npos) bad = !le.error.empty();
  }
  CHECK(good);
  CHECK(bad);
}

TEST_CASE("packet arrival: a step glides the packet in from its previous stage", "[view]") {
  const Trace& tr = *epoll_run().trace;
  const std::size_t c = next_kind(tr, 0, Ev::NapiRx);
  REQUIRE(c > 0);
  PacketMove m = packet_arrival(tr, c, 0.5f);
  CHECK(m.active);
  CHECK(m.from == Stage::Ring);
  CHECK(m.to == Stage::Softirq);
  CHECK(m.t == Approx(0.5f));
  const std::size_t first_send = next_kind(tr, 0, Ev::ClientSend);
  m = packet_arrival(tr, first_send, 0.5f);
  CHECK(m.active);
  CHECK(m.from == m.to);  // nothing before it: it just appears
}

TEST_CASE("keys: the bindings the README promises", "[view]") {
  CHECK(action_for(Key::Space, false, false) == Action::TogglePlay);
  CHECK(action_for(Key::Right, false, false) == Action::StepForward);
  CHECK(action_for(Key::Left, false, false) == Action::StepBack);
  CHECK(action_for(Key::Right, false, true) == Action::StoryForward);
  CHECK(action_for(Key::Left, false, true) == Action::StoryBack);
  CHECK(action_for(Key::Home, false, false) == Action::ToStart);
  CHECK(action_for(Key::End, false, false) == Action::ToEnd);
  CHECK(action_for(Key::Plus, false, false) == Action::Faster);
  CHECK(action_for(Key::Minus, false, false) == Action::Slower);
  CHECK(action_for(Key::Plus, true, false) == Action::ScaleUp);
  CHECK(action_for(Key::Minus, true, false) == Action::ScaleDown);
  CHECK(action_for(Key::F11, false, false) == Action::FullScreen);
  CHECK(action_for(Key::S, true, false) == Action::Screenshot);
  CHECK_FALSE(action_for(Key::S, false, false));
}

TEST_CASE("lesson names resolve like the CLI's", "[view]") {
  const std::string dir = lessons_dir();
  auto lessons = find_lessons(dir);
  if (lessons.empty()) return;  // no lesson library in this checkout
  const std::string first = lessons.front().path;
  const std::string name = std::filesystem::path(first).stem().string();
  CHECK(std::filesystem::equivalent(resolve_lesson(name), first));
  CHECK(resolve_lesson("/no/such.toml") == "/no/such.toml");
  CHECK(resolve_lesson("no-such-lesson") == "no-such-lesson");
}

TEST_CASE("timeline lanes: tasks awake in view first, neighbours last", "[view]") {
  TimelineIndex idx;
  auto lane = [](std::uint8_t v) { return std::vector<Span>{Span{0, 1000, v}}; };
  idx.task = {lane(std::uint8_t(TaskState::Sleeping)), lane(std::uint8_t(TaskState::Running)),
              lane(std::uint8_t(TaskState::Running)), lane(std::uint8_t(TaskState::Sleeping))};
  idx.task[3].push_back(Span{1000, 2000, std::uint8_t(TaskState::Runnable)});
  TimeAxis ax;
  ax.fit(0, 900, 100);  // task 3 wakes only after the visible range
  auto order = lane_order(idx, ax, 100, {true, true, false, true});
  CHECK(order == std::vector<std::size_t>{1, 0, 3, 2});
  ax.fit(0, 1500, 100);
  order = lane_order(idx, ax, 100, {true, true, false, true});
  CHECK(order == std::vector<std::size_t>{1, 3, 0, 2});
}

TEST_CASE("timeline: a live trace has no CPU lanes, and each thread's lane is its syscalls", "[view]") {
  // What a live recording knows: a thread, and when it entered and left each syscall.
  Trace tr;
  tr.source = "live";
  tr.cpus = 2;
  tr.end_ns = 100;
  tr.strings = {"P (server)"};
  auto ev = [&](Ev k, SimTime t, std::uint32_t a) {
    TraceEvent e;
    e.kind = k;
    e.t = t;
    e.actor = 0;
    e.a = a;
    e.b = 0;
    e.seq = std::uint32_t(tr.events.size());
    tr.events.push_back(e);
  };
  ev(Ev::TaskCreate, 0, std::uint32_t(TaskKind::ServerMain));
  ev(Ev::SyscallEnter, 10, std::uint32_t(Sys::EpollWait));
  ev(Ev::SyscallExit, 30, std::uint32_t(Sys::EpollWait));
  ev(Ev::SyscallEnter, 40, std::uint32_t(Sys::Recvfrom));
  ev(Ev::SyscallExit, 45, std::uint32_t(Sys::Recvfrom));
  TimelineIndex idx = build_timeline(tr);
  CHECK(idx.live);
  CHECK(idx.cpu.empty());  // nothing recorded what the CPUs did
  REQUIRE(idx.task.size() == 1);
  CHECK(idx.task_name[0] == "P (server)");
  const std::vector<Span>& lane = idx.task[0];
  REQUIRE(lane.size() == 5);
  auto is = [](const Span& s, SimTime t0, SimTime t1, CpuMode m) {
    return s.t0 == t0 && s.t1 == t1 && CpuMode(s.value) == m;
  };
  CHECK(is(lane[0], 0, 10, CpuMode::User));
  CHECK(is(lane[1], 10, 30, CpuMode::System));
  CHECK(Sys(lane[1].task) == Sys::EpollWait);
  CHECK(is(lane[2], 30, 40, CpuMode::User));
  CHECK(is(lane[3], 40, 45, CpuMode::System));
  CHECK(Sys(lane[3].task) == Sys::Recvfrom);
  CHECK(is(lane[4], 45, 100, CpuMode::User));
  // The model's own traces keep their CPU lanes.
  tr.source = "sim";
  CHECK_FALSE(build_timeline(tr).live);
  CHECK(build_timeline(tr).cpu.size() == 2);
}
