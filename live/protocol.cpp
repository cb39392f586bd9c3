// The scenario framing and the Redis protocol subset (see protocol.h).
#include "live/protocol.h"
#include "live/sys.h"

#include <charconv>
#include <chrono>
#include <vector>

namespace eps::live {

void spin_ns(std::int64_t ns) {
  if (ns <= 0) return;
  using clk = std::chrono::steady_clock;  // vDSO: no syscall, stays in user mode
  const auto end = clk::now() + std::chrono::nanoseconds(ns);
  while (clk::now() < end) {
  }
}

// ---------------------------------------------------------------------------------------------
// FrameProtocol

FrameProtocol::FrameProtocol(std::int64_t work_ns, int reply_bytes)
    : work_ns_(work_ns), reply_(std::size_t(reply_bytes < 0 ? 0 : reply_bytes), 'r') {}

std::string FrameProtocol::hello(std::uint32_t request_bytes) {
  std::string h(4, '\0');
  for (int i = 0; i < 4; i++) h[std::size_t(i)] = char((request_bytes >> (8 * i)) & 0xff);
  return h;
}

long FrameProtocol::handle(std::int64_t& state, std::string_view in, std::string& out, const OutputRoom& room) {
  std::size_t pos = 0;
  if (state == 0) {  // the hello: this connection's request size
    if (in.size() < 4) return 0;
    std::uint32_t r = 0;
    for (int i = 0; i < 4; i++) r |= std::uint32_t(std::uint8_t(in[std::size_t(i)])) << (8 * i);
    if (r < 1 || r > kMaxRequest) return -1;
    state = r;
    pos = 4;
  }
  const auto size = std::size_t(state);
  std::uint64_t n = 0;
  // Every whole request, pipelined ones included, while the replies have room.
  while (in.size() - pos >= size && out.size() < room.wait_at) {
    spin_ns(work_ns_);
    out += reply_;
    pos += size;
    n++;
  }
  if (n) count(n), sys::count_requests(n);
  return long(pos);
}

// ---------------------------------------------------------------------------------------------
// RespProtocol

namespace {

constexpr std::size_t kMaxInline = 64 * 1024;         // Redis: PROTO_INLINE_MAX_SIZE
constexpr long long kMaxArgs = RespProtocol::kMaxArgs;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); i++) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = char(x - 32);
    if (y >= 'a' && y <= 'z') y = char(y - 32);
    if (x != y) return false;
  }
  return true;
}

bool parse_ll(std::string_view s, long long& v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

void bulk(std::string& out, std::string_view s) {
  out += '$';
  out += std::to_string(s.size());
  out += "\r\n";
  out += s;
  out += "\r\n";
}

// A bulk reply holding a value, if the server's output has room for it (OutputRoom::take);
// otherwise an error that says so (the stream stays in step: one reply per request).
void reply_value(std::string& out, std::string_view s, const OutputRoom& room) {
  const std::size_t bytes = 1 + std::to_string(s.size()).size() + 2 + s.size() + 2;
  if (room.take && !room.take(bytes)) {
    out += "-ERR no room for a reply of " + std::to_string(bytes) +
           " bytes: all clients' unsent replies are at the server's limit (serve "
           "--max-output-total); try again later\r\n";
    return;
  }
  bulk(out, s);
}

enum class Parse { Done, Incomplete, Error };

// One command from in[pos..]: argv points into `in`. On Done, pos is past it.
Parse parse_command(std::string_view in, std::size_t& pos, std::vector<std::string_view>& argv,
                    std::size_t max_bulk, std::string& error) {
  argv.clear();
  std::size_t p = pos;
  if (in[p] == '*') {
    std::size_t eol = in.find("\r\n", p);
    if (eol == std::string_view::npos) {
      if (in.size() - p > kMaxInline) return error = "too big mbulk count string", Parse::Error;
      return Parse::Incomplete;
    }
    long long count = 0;
    if (!parse_ll(in.substr(p + 1, eol - p - 1), count) || count > kMaxArgs)
      return error = "invalid multibulk length", Parse::Error;
    p = eol + 2;
    for (long long i = 0; i < count; i++) {
      if (p >= in.size()) return Parse::Incomplete;
      if (in[p] != '$')
        return error = "expected '$', got '" + std::string(1, in[p]) + "'", Parse::Error;
      eol = in.find("\r\n", p);
      if (eol == std::string_view::npos) {
        if (in.size() - p > kMaxInline) return error = "too big bulk count string", Parse::Error;
        return Parse::Incomplete;
      }
      long long len = 0;
      // Refused as soon as its length is known: none of its bytes are ever kept.
      if (!parse_ll(in.substr(p + 1, eol - p - 1), len) || len < 0 || std::uint64_t(len) > max_bulk)
        return error = "invalid bulk length (the largest argument is " + std::to_string(max_bulk) +
                       " bytes: serve --max-bulk)",
               Parse::Error;
      p = eol + 2;
      if (in.size() - p < std::size_t(len) + 2) return Parse::Incomplete;
      argv.push_back(in.substr(p, std::size_t(len)));
      p += std::size_t(len) + 2;
    }
    pos = p;
    return Parse::Done;
  }
  // Inline: one line, words separated by spaces.
  std::size_t eol = in.find('\n', p);
  if (eol == std::string_view::npos) {
    if (in.size() - p > kMaxInline) return error = "too big inline request", Parse::Error;
    return Parse::Incomplete;
  }
  std::string_view line = in.substr(p, eol - p);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) i++;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') j++;
    if (j > i) argv.push_back(line.substr(i, j - i));
    i = j;
  }
  pos = eol + 1;
  return Parse::Done;
}

}  // namespace

long RespProtocol::handle(std::int64_t&, std::string_view in, std::string& out, const OutputRoom& room) {
  thread_local std::vector<std::string_view> argv;
  std::size_t pos = 0;
  std::uint64_t n = 0;
  long result = 0;
  while (pos < in.size() && out.size() < room.wait_at) {
    std::string error;
    Parse p = parse_command(in, pos, argv, limits_.max_bulk, error);
    if (p == Parse::Incomplete) break;
    if (p == Parse::Error) {
      out += "-ERR Protocol error: " + error + "\r\n";
      result = -1;
      break;
    }
    if (argv.empty()) continue;  // an empty line or "*0": nothing to do
    execute(argv.data(), argv.size(), out, room);
    n++;
  }
  if (n) count(n), sys::count_requests(n);
  return result < 0 ? -1 : long(pos);
}

void RespProtocol::error_reply(std::string& out, std::string_view why) const {
  out += "-ERR ";
  out += why;
  out += "\r\n";
}

std::size_t RespProtocol::keyspace_bytes() const {
  std::lock_guard lock(mu_);
  return keyspace_bytes_;
}

namespace {
constexpr std::size_t kKeyOverhead = 64;  // the table's node, hash and pointers, about
}  // namespace

bool RespProtocol::store(std::string_view key, std::string_view value, std::string& out) {
  auto it = keys_.find(key);
  const std::size_t old = it == keys_.end() ? 0 : key.size() + kKeyOverhead + it->second.size();
  const std::size_t now = key.size() + kKeyOverhead + value.size();
  if (now > old && keyspace_bytes_ - old + now > limits_.max_keyspace) {
    out += "-ERR keyspace full: keys and values would pass " + std::to_string(limits_.max_keyspace) +
           " bytes (serve --max-keyspace)\r\n";
    return false;
  }
  keyspace_bytes_ = keyspace_bytes_ - old + now;
  if (it == keys_.end()) {
    keys_.emplace(std::string(key), std::string(value));
  } else if (value.size() <= it->second.capacity() && it->second.capacity() <= 2 * value.size() + 64) {
    it->second.assign(value);  // reuses its buffer
  } else {
    it->second = std::string(value);  // a buffer of the new size: an old, larger one is freed
  }
  return true;
}

void RespProtocol::execute(const std::string_view* argv, std::size_t argc, std::string& out,
                           const OutputRoom& room) {
  const std::string_view cmd = argv[0];
  auto arity = [&](std::size_t min, std::size_t max) {
    if (argc >= min && argc <= max) return true;
    std::string lower(cmd);
    for (char& c : lower) c = char(c >= 'A' && c <= 'Z' ? c + 32 : c);
    out += "-ERR wrong number of arguments for '" + lower + "' command\r\n";
    return false;
  };
  if (iequals(cmd, "PING")) {
    if (!arity(1, 2)) return;
    if (argc == 1) out += "+PONG\r\n";
    else reply_value(out, argv[1], room);
  } else if (iequals(cmd, "ECHO")) {
    if (arity(2, 2)) reply_value(out, argv[1], room);
  } else if (iequals(cmd, "SET")) {
    if (!arity(3, 3)) return;
    std::lock_guard lock(mu_);
    if (store(argv[1], argv[2], out)) out += "+OK\r\n";
  } else if (iequals(cmd, "GET")) {
    if (!arity(2, 2)) return;
    std::lock_guard lock(mu_);
    auto it = keys_.find(argv[1]);
    if (it == keys_.end()) out += "$-1\r\n";
    else reply_value(out, it->second, room);
  } else if (iequals(cmd, "INCR")) {
    if (!arity(2, 2)) return;
    std::lock_guard lock(mu_);
    auto it = keys_.find(argv[1]);
    long long x = 0;
    if (it != keys_.end() && (!parse_ll(it->second, x) || x == INT64_MAX)) {
      out += "-ERR value is not an integer or out of range\r\n";
      return;
    }
    const std::string v = std::to_string(x + 1);
    if (store(argv[1], v, out)) out += ":" + v + "\r\n";
  } else if (iequals(cmd, "DEL")) {
    if (!arity(2, SIZE_MAX)) return;
    std::lock_guard lock(mu_);
    long long removed = 0;
    for (std::size_t i = 1; i < argc; i++) {
      auto it = keys_.find(argv[i]);
      if (it == keys_.end()) continue;
      keyspace_bytes_ -= it->first.size() + kKeyOverhead + it->second.size();
      keys_.erase(it);
      removed++;
    }
    out += ":" + std::to_string(removed) + "\r\n";
  } else if (iequals(cmd, "CONFIG") && argc == 3 && iequals(argv[1], "GET")) {
    // redis-benchmark asks for "save" and "appendonly" before it starts.
    if (iequals(argv[2], "save")) out += "*2\r\n$4\r\nsave\r\n$0\r\n\r\n";
    else if (iequals(argv[2], "appendonly")) out += "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n";
    else out += "*0\r\n";
  } else {
    std::string name(cmd.substr(0, 128));
    for (char& c : name) if (c == '\r' || c == '\n') c = ' ';
    out += "-ERR unknown command '" + name + "'\r\n";
  }
}

}  // namespace eps::live
