// Tests for sim/trace_io.cpp: a saved trace reads back equal, and every damaged file is
// refused with a message that names the file and says what is wrong (never a crash).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/simulation.h"
#include "sim/trace_io.h"
#include "sim/world.h"

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<unsigned char>;

struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> n{0};
    path = fs::temp_directory_path() /
           ("eps-test-trace-io-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const Bytes& b) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  REQUIRE(out.good());
}

// A small run with non-default header fields (seed, CPUs), so a reader that dropped one
// of them would be caught.
eps::Trace small_trace(eps::Strategy s = eps::Strategy::Epoll) {
  eps::Scenario sc;
  sc.title = "trace io \"quoted\" \xc3\xa9";  // JSON escaping and UTF-8 in the header
  sc.seed = 42;
  sc.cpus = 2;
  sc.duration_ms = 2;
  sc.strategy = s;
  eps::ClientGroup g;
  g.connections = 3;
  g.mode = eps::ClientMode::Closed;
  g.requests = 2;
  sc.clients.push_back(g);
  eps::Simulation sim(sc);
  sim.run();
  return sim.take_trace();
}

// What read_trace_file throws for this file: its message, or "" if it did not throw.
// Anything other than std::runtime_error fails the test.
std::string read_error(const std::string& path) {
  try {
    eps::read_trace_file(path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

// The file format's checksum (FNV-1a 64, documented in trace_io.h), written out again here
// so the test can forge files the reader must judge on their content alone.
std::uint64_t fnv1a(const unsigned char* p, std::size_t n) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

void reseal(Bytes& b) {  // recompute the trailing checksum after an edit
  REQUIRE(b.size() >= 8);
  std::uint64_t sum = fnv1a(b.data(), b.size() - 8);
  std::memcpy(b.data() + b.size() - 8, &sum, 8);
}

std::uint32_t u32_at(const Bytes& b, std::size_t at) {
  std::uint32_t v;
  std::memcpy(&v, b.data() + at, 4);
  return v;
}

// Builds a file around a header JSON and raw event bytes, the way trace_io.h lays it out.
Bytes forge(const nlohmann::json& header, const Bytes& events, std::uint32_t version = eps::kTraceVersion) {
  std::string hs = header.dump();
  Bytes b = {'E', 'P', 'S', 'T', 'R', 'A', 'C', 'E'};
  auto put32 = [&](std::uint32_t v) {  // little-endian, byte by byte
    for (int i = 0; i < 4; i++) b.push_back(static_cast<unsigned char>(v >> (8 * i)));
  };
  put32(version);
  put32(std::uint32_t(hs.size()));
  b.insert(b.end(), hs.begin(), hs.end());
  b.insert(b.end(), events.begin(), events.end());
  b.resize(b.size() + 8);
  reseal(b);
  return b;
}

nlohmann::json header_of(const eps::Trace& tr, std::uint64_t count) {
  return {{"title", tr.scenario_title}, {"strategy", eps::strategy_name(tr.strategy)}, {"seed", tr.seed},
          {"cpus", tr.cpus},           {"connections", tr.connections}, {"listeners", tr.listeners},
          {"end_ns", tr.end_ns},
          {"strings", tr.strings},     {"program", tr.program},         {"events", count}};
}

Bytes event_bytes(const eps::Trace& tr) {
  const auto* p = reinterpret_cast<const unsigned char*>(tr.events.data());
  return Bytes(p, p + tr.events.size() * sizeof(eps::TraceEvent));
}

bool has(const std::string& s, const std::string& sub) { return s.find(sub) != std::string::npos; }

}  // namespace

TEST_CASE("a trace round-trips through a file", "[trace_io]") {
  for (eps::Strategy s : {eps::Strategy::Epoll, eps::Strategy::Select, eps::Strategy::Blocking}) {
    INFO("strategy " << eps::strategy_name(s));
    const eps::Trace tr = small_trace(s);
    REQUIRE(tr.events.size() > 50);
    REQUIRE(!tr.strings.empty());
    REQUIRE(!tr.program.empty());
    TempDir tmp;
    const std::string path = tmp.file("t.epstrace");
    eps::write_trace_file(tr, path);
    eps::Trace back = eps::read_trace_file(path);
    CHECK(back.source == "sim");
    CHECK(back.scenario_title == tr.scenario_title);
    CHECK(back.strategy == s);
    CHECK(back.seed == 42);
    CHECK(back.cpus == 2);
    CHECK(back.connections == 3);
    CHECK(back.end_ns == tr.end_ns);
    CHECK(back.end_ns > 0);
    CHECK(back.strings == tr.strings);
    CHECK(back.program == tr.program);
    REQUIRE(back.events.size() == tr.events.size());
    CHECK(back.events == tr.events);
    // Writing what was read gives the same bytes.
    eps::write_trace_file(back, tmp.file("again.epstrace"));
    CHECK(read_bytes(path) == read_bytes(tmp.file("again.epstrace")));
  }
}

TEST_CASE("the trace file has the documented layout", "[trace_io]") {
  const eps::Trace tr = small_trace();
  TempDir tmp;
  const std::string path = tmp.file("t.epstrace");
  eps::write_trace_file(tr, path);
  Bytes b = read_bytes(path);
  REQUIRE(b.size() > 16);
  CHECK(std::memcmp(b.data(), "EPSTRACE", 8) == 0);
  CHECK(u32_at(b, 8) == eps::kTraceVersion);
  std::uint32_t hlen = u32_at(b, 12);
  CHECK(b.size() == 16 + hlen + tr.events.size() * 32 + 8);
  auto h = nlohmann::json::parse(b.begin() + 16, b.begin() + 16 + hlen);
  CHECK(h.at("events") == tr.events.size());
  CHECK(h.at("seed") == 42);
  std::uint64_t sum;
  std::memcpy(&sum, b.data() + b.size() - 8, 8);
  CHECK(sum == fnv1a(b.data(), b.size() - 8));
  // A file forged from the documentation alone reads back as the same trace.
  write_bytes(tmp.file("forged.epstrace"), forge(header_of(tr, tr.events.size()), event_bytes(tr)));
  eps::Trace back = eps::read_trace_file(tmp.file("forged.epstrace"));
  CHECK(back.events == tr.events);
}

TEST_CASE("a live trace says so, and a header without source is the model's", "[trace_io]") {
  eps::Trace tr = small_trace();
  tr.source = "live";
  TempDir tmp;
  eps::write_trace_file(tr, tmp.file("live.epstrace"));
  CHECK(eps::read_trace_file(tmp.file("live.epstrace")).source == "live");
  // Files written before the key existed (the documented header has no "source").
  write_bytes(tmp.file("old.epstrace"), forge(header_of(tr, tr.events.size()), event_bytes(tr)));
  CHECK(eps::read_trace_file(tmp.file("old.epstrace")).source == "sim");
  // Anything else is a bad header.
  nlohmann::json h = header_of(tr, tr.events.size());
  h["source"] = "dream";
  write_bytes(tmp.file("bad.epstrace"), forge(h, event_bytes(tr)));
  CHECK_THROWS_WITH(eps::read_trace_file(tmp.file("bad.epstrace")),
                    Catch::Contains("bad header") && Catch::Contains("source"));
}

TEST_CASE("an empty trace round-trips", "[trace_io]") {
  eps::Trace tr;
  tr.scenario_title = "nothing";
  tr.strategy = eps::Strategy::Poll;
  tr.end_ns = 0;
  TempDir tmp;
  eps::write_trace_file(tr, tmp.file("e.epstrace"));
  eps::Trace back = eps::read_trace_file(tmp.file("e.epstrace"));
  CHECK(back.events.empty());
  CHECK(back.scenario_title == "nothing");
  CHECK(back.strategy == eps::Strategy::Poll);
}

TEST_CASE("reading a missing file names it", "[trace_io]") {
  TempDir tmp;
  const std::string path = tmp.file("missing.epstrace");
  std::string msg = read_error(path);
  CHECK(has(msg, path));
  CHECK(has(msg, "cannot read"));
}

TEST_CASE("writing to an impossible path names it", "[trace_io]") {
  TempDir tmp;
  const std::string path = tmp.file("no/such/dir/t.epstrace");
  try {
    eps::write_trace_file(small_trace(), path);
    FAIL("expected an error");
  } catch (const std::runtime_error& e) {
    CHECK(has(e.what(), path));
  }
}

TEST_CASE("a file that is not a trace is refused", "[trace_io]") {
  TempDir tmp;
  const std::string path = tmp.file("text.epstrace");
  for (std::string text : {std::string("hello, this is just some text\nwith two lines\n"),
                           std::string(""), std::string("EPS"), std::string("EPSTRACE"),
                           std::string(4096, '\xff')}) {
    INFO("content of size " << text.size());
    write_bytes(path, Bytes(text.begin(), text.end()));
    std::string msg = read_error(path);
    CHECK(has(msg, path));
    CHECK(has(msg, "not an epollscope trace"));
  }
}

TEST_CASE("another format version is refused, naming both versions", "[trace_io]") {
  TempDir tmp;
  const std::string path = tmp.file("t.epstrace");
  eps::write_trace_file(small_trace(), path);
  Bytes b = read_bytes(path);
  for (std::uint32_t v : {0u, eps::kTraceVersion + 1, 0xffffffffu}) {
    std::memcpy(b.data() + 8, &v, 4);
    write_bytes(path, b);
    std::string msg = read_error(path);
    INFO(msg);
    CHECK(has(msg, path));
    CHECK(has(msg, "version " + std::to_string(v)));
    CHECK(has(msg, "reads 1 and " + std::to_string(eps::kTraceVersion)));
  }
}

// Traces written by the build before format 2 (sockets named by fd; tests/data/v1, saved by
// `epollscope-cli run 01-one-blocking-reader --strategy S --trace`) still load: converted,
// they replay to the metrics that build reported, and name every socket by its id.
TEST_CASE("a version 1 trace still loads and replays to the metrics it was saved with", "[trace_io]") {
  for (const char* name : {"01-epoll", "01-blocking"}) {
    INFO(name);
    const std::string dir = std::string(EPS_SOURCE_DIR) + "/tests/data/v1/";
    const eps::Trace tr = eps::read_trace_file(dir + name + ".v1.epstrace");
    std::ifstream in(dir + name + ".v1.json");
    const nlohmann::json want = nlohmann::json::parse(in);
    const eps::Metrics saved = eps::metrics_from_json(want);
    CHECK(tr.listeners == 1);
    auto shared = std::make_shared<const eps::Trace>(tr);
    eps::Replay rp(shared);
    const eps::WorldState w = rp.at(rp.size());
    eps::Metrics m = eps::metrics_of(w, tr, tr.end_ns);
    // The conversion adds the listener and the fd table (FdInstall): the count grows by those.
    CHECK(m.events == saved.events + 2 + std::size_t(tr.connections) + (w.eps.empty() ? 0 : 1));
    m.events = saved.events;
    const nlohmann::json got = eps::to_json(m);
    for (auto& [k, v] : want.items()) {  // every figure the old file has
      INFO(k);
      CHECK(got[k] == v);
    }
    // The connection is socket 0 with its old fd (4, or 5 after the epfd), the listener fd 3.
    REQUIRE(w.sockets.size() == 2);
    CHECK(w.sockets[0].fd == (w.eps.empty() ? 4 : 5));
    CHECK(w.sockets[1].listening());
    CHECK(w.sockets[1].fd == 3);
    CHECK(w.eps.size() == (std::string(name) == "01-epoll" ? 1u : 0u));
    for (std::size_t i = 1; i < tr.events.size(); i++) CHECK(tr.events[i].seq == i);
  }
}

TEST_CASE("a truncated trace is refused wherever it is cut", "[trace_io]") {
  TempDir tmp;
  const std::string full = tmp.file("full.epstrace"), cut = tmp.file("cut.epstrace");
  const eps::Trace tr = small_trace();
  eps::write_trace_file(tr, full);
  const Bytes b = read_bytes(full);
  const std::size_t hlen = u32_at(b, 12), body = 16 + hlen, n = tr.events.size();
  REQUIRE(b.size() == body + n * 32 + 8);
  // Inside the header JSON, at its end, inside and between events, inside and before the checksum.
  std::vector<std::size_t> cuts = {16, 17, 16 + hlen / 2, body - 1, body, body + 1, body + 31,
                                   body + 32, body + 32 * (n / 2) + 5, body + 32 * n - 1,
                                   body + 32 * n, b.size() - 4, b.size() - 1};
  for (std::size_t at : cuts) {
    INFO("cut at " << at << " of " << b.size());
    write_bytes(cut, Bytes(b.begin(), b.begin() + std::ptrdiff_t(at)));
    std::string msg = read_error(cut);
    CHECK(has(msg, cut));
    CHECK(has(msg, "truncated"));
  }
  // Cut in the middle of the events: the message says how many the file still holds.
  write_bytes(cut, Bytes(b.begin(), b.begin() + std::ptrdiff_t(body + 32 * 10 + 7)));
  CHECK(has(read_error(cut), "header says " + std::to_string(n) + " events, the file holds 10"));
  // Cut inside the fixed 16-byte prefix: not recognisable as a trace at all.
  for (std::size_t at : {0, 5, 8, 12, 15}) {
    write_bytes(cut, Bytes(b.begin(), b.begin() + std::ptrdiff_t(at)));
    std::string msg = read_error(cut);
    CHECK(has(msg, cut));
    CHECK(!msg.empty());
  }
}

TEST_CASE("a header length past the end of the file is truncation", "[trace_io]") {
  TempDir tmp;
  const std::string path = tmp.file("t.epstrace");
  eps::write_trace_file(small_trace(), path);
  Bytes b = read_bytes(path);
  std::uint32_t huge = 0xffffffffu;
  std::memcpy(b.data() + 12, &huge, 4);
  write_bytes(path, b);
  std::string msg = read_error(path);
  CHECK(has(msg, path));
  CHECK(has(msg, "truncated"));
}

TEST_CASE("one flipped byte is caught by the checksum", "[trace_io]") {
  TempDir tmp;
  const std::string path = tmp.file("t.epstrace"), bad = tmp.file("bad.epstrace");
  const eps::Trace tr = small_trace();
  eps::write_trace_file(tr, path);
  const Bytes b = read_bytes(path);
  const std::size_t body = 16 + u32_at(b, 12), n = tr.events.size();
  // In the first, a middle and the last event, at every field's position; and in the checksum.
  std::vector<std::size_t> where;
  for (std::size_t ev : {std::size_t(0), n / 2, n - 1})
    for (std::size_t off : {0, 8, 12, 13, 14, 16, 20, 24, 28}) where.push_back(body + ev * 32 + off);
  where.push_back(b.size() - 8);
  where.push_back(b.size() - 1);
  for (std::size_t at : where) {
    INFO("flip at " << at);
    Bytes c = b;
    c[at] ^= 0x01;
    write_bytes(bad, c);
    std::string msg = read_error(bad);
    CHECK(has(msg, bad));
    CHECK(has(msg, "corrupt: checksum mismatch"));
  }
  // A flip inside the header's JSON: refused too (bad header, or the checksum).
  Bytes c = b;
  c[16 + 3] ^= 0x20;
  write_bytes(bad, c);
  std::string msg = read_error(bad);
  CHECK(has(msg, bad));
  CHECK((has(msg, "corrupt") || has(msg, "bad header")));
}

TEST_CASE("extra bytes after the checksum are refused", "[trace_io]") {
  TempDir tmp;
  const std::string path = tmp.file("t.epstrace");
  eps::write_trace_file(small_trace(), path);
  Bytes b = read_bytes(path);
  for (std::size_t extra : {1, 8, 32, 1000}) {
    Bytes c = b;
    c.resize(c.size() + extra, 0);
    write_bytes(path, c);
    std::string msg = read_error(path);
    INFO(msg);
    CHECK(has(msg, path));
    CHECK(has(msg, std::to_string(extra) + " unexpected bytes at the end"));
  }
}

TEST_CASE("a well-sealed file with impossible events is refused", "[trace_io]") {
  TempDir tmp;
  const std::string path = tmp.file("t.epstrace");
  const eps::Trace tr = small_trace();
  const std::size_t k = tr.events.size() / 2;
  // The message names the file, the event, and the field (tests/test_trace_check.cpp has
  // every rule; these are the ones this reader checked before the checker existed).
  auto refused = [&](eps::Trace t, const std::string& why) {
    INFO(why);
    write_bytes(path, forge(header_of(t, t.events.size()), event_bytes(t)));
    std::string msg = read_error(path);
    CHECK(has(msg, path + ": corrupt: events[" + std::to_string(k) + "] ("));
    CHECK(has(msg, why));
  };
  eps::Trace t = tr;
  t.events[k].kind = eps::Ev::Count;
  refused(t, "kind = " + std::to_string(int(eps::Ev::Count)) + " is not an event kind");
  t = tr;
  t.events[k].cpu = std::uint8_t(tr.cpus);
  refused(t, "cpu = " + std::to_string(tr.cpus) + " is not a CPU");
  t = tr;
  t.events[k].t = t.events[k - 1].t - 1;
  refused(t, "is before the previous event's t");
}

TEST_CASE("a bad header is refused with its reason", "[trace_io]") {
  TempDir tmp;
  const std::string path = tmp.file("t.epstrace");
  const eps::Trace tr = small_trace();
  SECTION("not JSON") {
    Bytes b = forge(header_of(tr, tr.events.size()), event_bytes(tr));
    b[16] = '#';
    reseal(b);
    write_bytes(path, b);
    std::string msg = read_error(path);
    CHECK(has(msg, path));
    CHECK(has(msg, "bad header"));
  }
  SECTION("a missing key") {
    auto h = header_of(tr, tr.events.size());
    h.erase("strategy");
    write_bytes(path, forge(h, event_bytes(tr)));
    std::string msg = read_error(path);
    CHECK(has(msg, "bad header"));
    CHECK(has(msg, "strategy"));
  }
  SECTION("a wrong type") {
    auto h = header_of(tr, tr.events.size());
    h["cpus"] = "two";
    write_bytes(path, forge(h, event_bytes(tr)));
    CHECK(has(read_error(path), "bad header"));
  }
  SECTION("CPUs out of range") {
    auto h = header_of(tr, tr.events.size());
    h["cpus"] = 0;
    write_bytes(path, forge(h, event_bytes(tr)));
    CHECK(has(read_error(path), "cpus out of range"));
  }
  SECTION("more events announced than stored") {
    write_bytes(path, forge(header_of(tr, tr.events.size() + 1), event_bytes(tr)));
    CHECK(has(read_error(path), "truncated"));
  }
  SECTION("fewer events announced than stored") {
    write_bytes(path, forge(header_of(tr, tr.events.size() - 1), event_bytes(tr)));
    std::string msg = read_error(path);
    CHECK(has(msg, path));
    CHECK(!msg.empty());
  }
}

// An event count so large that count * 32 wraps around 2^64 must not slip past the size
// check: the reader has to refuse the file with its usual runtime_error naming the path.
TEST_CASE("an absurd event count in a sealed header is refused", "[trace_io]") {
  TempDir tmp;
  const std::string path = tmp.file("t.epstrace");
  const eps::Trace tr = small_trace();
  for (std::uint64_t count : {std::uint64_t(1) << 59, (std::uint64_t(1) << 59) + 1,
                              std::uint64_t(1) << 62, ~std::uint64_t(0)}) {
    INFO("events = " << count);
    // The events a wrapped size computation would expect: (count * 32) mod 2^64 bytes.
    std::uint64_t wrapped = count * 32;
    Bytes ev = event_bytes(tr);
    if (wrapped <= ev.size()) ev.resize(std::size_t(wrapped));
    write_bytes(path, forge(header_of(tr, count), ev));
    std::string msg;
    try {
      eps::read_trace_file(path);
    } catch (const std::runtime_error& e) {
      msg = e.what();
    } catch (const std::exception& e) {
      FAIL("read_trace_file threw " << typeid(e).name() << ": " << e.what()
                                    << " (expected std::runtime_error naming the file)");
    }
    CHECK(has(msg, path));
  }
}
