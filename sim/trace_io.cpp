#include "sim/trace_io.h"

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
  nlohmann::json h = {{"source", tr.source}, {"title", tr.scenario_title}, {"strategy", tr.strategy}, {"seed", tr.seed},
                      {"cpus", tr.cpus}, {"connections", tr.connections}, {"end_ns", tr.end_ns},
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
  if (version != kTraceVersion)
    fail(path, "trace format version " + std::to_string(version) + " is not supported (this build reads " +
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
    tr.strategy = h.at("strategy").get<std::string>();
    tr.seed = h.at("seed").get<std::uint64_t>();
    tr.cpus = h.at("cpus").get<int>();
    tr.connections = h.at("connections").get<int>();
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
  // The checksum only says the file is as written; what was written must make sense too,
  // since replay and the views index by event fields (sim and live traces alike).
  if (std::string why = check_trace(tr); !why.empty()) {
    if (why.rfind("header: ", 0) == 0) fail(path, "bad " + why);
    fail(path, "corrupt: " + why);
  }
  return tr;
}

}  // namespace eps
