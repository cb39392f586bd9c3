#include "sim/trace_io.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/trace_check.h"

namespace eps {

static_assert(std::endian::native == std::endian::little,
              "trace files store TraceEvent as laid out on little-endian machines");

namespace {

constexpr char kMagic[8] = {'E', 'P', 'S', 'T', 'R', 'A', 'C', 'E'};

std::uint64_t fnv1a(const unsigned char* p, std::size_t n, std::uint64_t h = 0xcbf29ce484222325ULL) {
  for (std::size_t i = 0; i < n; i++) { h ^= p[i]; h *= 0x100000001b3ULL; }
  return h;
}

template <class T>
void put(std::vector<unsigned char>& out, T v) {
  unsigned char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.insert(out.end(), b, b + sizeof(T));
}

[[noreturn]] void fail(const std::string& path, const std::string& why) {
  throw std::runtime_error(path + ": " + why);
}

}  // namespace

void write_trace_file(const Trace& tr, const std::string& path) {
  nlohmann::json h = {{"source", tr.source}, {"title", tr.scenario_title}, {"strategy", strategy_name(tr.strategy)},
                      {"seed", tr.seed}, {"cpus", tr.cpus}, {"connections", tr.connections},
                      {"listeners", tr.listeners}, {"end_ns", tr.end_ns},
                      {"strings", tr.strings}, {"program", tr.program},
                      {"events", tr.events.size()}};
  std::string hs = h.dump();
  std::vector<unsigned char> head;
  head.insert(head.end(), kMagic, kMagic + 8);
  put<std::uint32_t>(head, kTraceVersion);
  put<std::uint32_t>(head, std::uint32_t(hs.size()));
  head.insert(head.end(), hs.begin(), hs.end());
  const auto* ev = reinterpret_cast<const unsigned char*>(tr.events.data());
  std::size_t ev_bytes = tr.events.size() * sizeof(TraceEvent);
  std::uint64_t sum = fnv1a(ev, ev_bytes, fnv1a(head.data(), head.size()));
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) fail(path, "cannot write: " + std::string(std::strerror(errno)));
  f.write(reinterpret_cast<const char*>(head.data()), std::streamsize(head.size()));
  f.write(reinterpret_cast<const char*>(ev), std::streamsize(ev_bytes));
  f.write(reinterpret_cast<const char*>(&sum), sizeof sum);
  if (!f) fail(path, "write failed");
}

Trace read_trace_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(path, "cannot read: " + std::string(std::strerror(errno)));
  std::vector<unsigned char> data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (data.size() < 16 || std::memcmp(data.data(), kMagic, 8) != 0)
    fail(path, "not an epollscope trace file (no EPSTRACE header)");
  std::uint32_t version, hlen;
  std::memcpy(&version, data.data() + 8, 4);
  std::memcpy(&hlen, data.data() + 12, 4);
  if (version != kTraceVersion && version != 1)
    fail(path, "trace format version " + std::to_string(version) + " is not supported (this build reads 1 and " +
                   std::to_string(kTraceVersion) + ")");
  if (data.size() < 16 + std::size_t(hlen))
    fail(path, "truncated: the header is cut off");
  Trace tr;
  std::uint64_t count = 0;
  try {
    auto h = nlohmann::json::parse(data.begin() + 16, data.begin() + 16 + hlen);
    tr.source = h.value("source", std::string("sim"));  // absent in files written before it
    if (tr.source != "sim" && tr.source != "live") throw std::runtime_error("source must be sim or live");
    tr.scenario_title = h.at("title").get<std::string>();
    const std::string strategy = h.at("strategy").get<std::string>();
    auto st = parse_strategy(strategy);
    if (!st) throw std::runtime_error("unknown strategy `" + strategy + "` (this build knows " + strategy_names() + ")");
    tr.strategy = *st;
    tr.seed = h.at("seed").get<std::uint64_t>();
    tr.cpus = h.at("cpus").get<int>();
    tr.connections = h.at("connections").get<int>();
    tr.listeners = version == 1 ? 1 : h.at("listeners").get<int>();
    tr.end_ns = h.at("end_ns").get<std::int64_t>();
    tr.strings = h.at("strings").get<std::vector<std::string>>();
    tr.program = h.at("program").get<std::vector<std::string>>();
    count = h.at("events").get<std::uint64_t>();
  } catch (const std::exception& e) {
    fail(path, std::string("bad header: ") + e.what());
  }
  if (tr.cpus < 1 || tr.cpus > 64) fail(path, "bad header: cpus out of range");
  std::size_t body = 16 + hlen;
  std::size_t have = data.size() > body ? (data.size() - body) / sizeof(TraceEvent) : 0;
  if (count > have) {  // checked before count * 32 can overflow
    fail(path, "truncated: the header says " + std::to_string(count) + " events, the file holds " +
                   std::to_string(have));
  }
  std::size_t need = body + count * sizeof(TraceEvent) + 8;
  if (data.size() < need) fail(path, "truncated: the checksum is missing");
  if (data.size() > need) fail(path, "corrupt: " + std::to_string(data.size() - need) + " unexpected bytes at the end");
  std::uint64_t sum;
  std::memcpy(&sum, data.data() + need - 8, 8);
  if (fnv1a(data.data(), need - 8) != sum) fail(path, "corrupt: checksum mismatch");
  tr.events.resize(count);
  if (count) std::memcpy(tr.events.data(), data.data() + body, count * sizeof(TraceEvent));
  if (version == 1) {
    // Version 1 named sockets by fd: what the conversion reads must at least be in range.
    for (std::size_t i = 0; i < tr.events.size(); i++) {
      const TraceEvent& e = tr.events[i];
      if (e.kind >= Ev::FdInstall || e.cpu >= tr.cpus || (i > 0 && e.t < tr.events[i - 1].t))
        fail(path, "corrupt: version 1 event " + std::to_string(i) + " is not valid");
    }
    tr.events = convert_v1_events(tr, tr.events);
  }
  // The checksum only says the file is as written; what was written must make sense too,
  // since replay and the views index by event fields (sim and live traces alike).
  if (std::string why = check_trace(tr); !why.empty()) {
    if (why.rfind("header: ", 0) == 0) fail(path, "bad " + why);
    fail(path, "corrupt: " + why);
  }
  return tr;
}

// Version 1 named a socket by its fd, fixed at the start: the listening socket was fd 3, the
// epoll instance (at most one) its epfd, each connection its fd. Version 2 names sockets by
// sid (connections, then the listener), epoll instances by eid, and records the fd table.
std::vector<TraceEvent> convert_v1_events(const Trace& hdr, const std::vector<TraceEvent>& v1) {
  const std::uint32_t listener = std::uint32_t(std::max(0, hdr.connections));
  std::vector<std::uint32_t> sid_of_fd;  // fd -> sid (kNone: not a socket)
  std::uint32_t epfd = kNone;
  auto sid = [&](std::uint32_t fd) {
    if (fd == 3) return listener;
    return fd < sid_of_fd.size() ? sid_of_fd[fd] : kNone;
  };
  auto wq = [&](std::uint32_t owner) { return owner == epfd ? (kEpWq | 0u) : sid(owner); };
  std::vector<bool> asleep;  // by task: its last TaskState was Sleeping (v1's b said only "preempted")
  std::vector<TraceEvent> out;
  out.reserve(v1.size() + v1.size() / 8 + 4);
  auto push = [&](TraceEvent e) {
    e.seq = std::uint32_t(out.size());
    out.push_back(e);
  };
  // The listening socket and its fd, before anything else.
  const SimTime t0 = v1.empty() ? 0 : v1.front().t;
  push(TraceEvent{t0, 0, Ev::SocketCreate, 0, kNoTask, listener, kNone, kNone, kNone});
  push(TraceEvent{t0, 0, Ev::FdInstall, 0, kNoTask, 3, std::uint32_t(FileKind::Socket), listener, kNone});
  for (TraceEvent e : v1) {
    switch (e.kind) {
      case Ev::SocketCreate: {
        if (e.a == kNone) break;  // the listener: made above
        const std::uint32_t fd = e.obj, conn = e.a;
        if (fd < std::uint32_t(hdr.connections) + 64) {  // v1 numbered them 4 or 5 onwards
          if (sid_of_fd.size() <= fd) sid_of_fd.resize(fd + 1u, kNone);
          sid_of_fd[fd] = conn;
        }
        push(TraceEvent{e.t, 0, Ev::SocketCreate, e.cpu, kNoTask, conn, conn, listener, kNone});
        // Version 1 gave the fd at the start; so does the converted trace.
        e.kind = Ev::FdInstall;
        e.a = std::uint32_t(FileKind::Socket);
        e.b = conn;
        push(e);
        continue;
      }
      case Ev::EpollCreate:
        epfd = e.obj;
        push(TraceEvent{e.t, 0, Ev::EpollCreate, e.cpu, e.actor, 0, 0, 0, kNone});
        push(TraceEvent{e.t, 0, Ev::FdInstall, e.cpu, e.actor, epfd, std::uint32_t(FileKind::Epoll), 0, kNone});
        continue;
      case Ev::SkbQueue:
      case Ev::SkbDequeue:
        e.obj = sid(e.obj);
        break;
      case Ev::TaskState:
        if (e.actor != kNoTask) {
          if (asleep.size() <= e.actor) asleep.resize(e.actor + 1u, false);
          asleep[e.actor] = TaskState(e.a) == TaskState::Sleeping;
        }
        break;
      case Ev::ContextSwitch:
        if (e.b != 1) e.b = e.a < asleep.size() && asleep[e.a] ? kSwitchVoluntary : kSwitchUncounted;
        break;
      case Ev::WaitAdd:
      case Ev::WaitRemove:
      case Ev::WaitWake: {
        const bool ep_hook = WaitKind(e.a) == WaitKind::EpCallback;
        const bool exclusive = WaitKind(e.a) == WaitKind::EpWait || (e.obj == 3 && WaitKind(e.a) == WaitKind::TaskWake);
        e.obj = wq(e.obj);
        if (ep_hook) e.b = 0;  // the epitem's instance
        if (e.kind == Ev::WaitAdd) e.a |= kWaitAtTail | (exclusive ? kWaitExclusive : 0);  // v1 appended
        break;
      }
      case Ev::EpitemInsert: case Ev::EpitemRemove: case Ev::EpitemModify: case Ev::RbRotate:
      case Ev::RbRecolor: case Ev::RdllistAdd: case Ev::RdllistRemove:
        e.obj = 0;
        break;
      default:
        break;
    }
    push(e);
  }
  return out;
}

}  // namespace eps
