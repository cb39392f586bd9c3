// What the live servers speak. A server loop only moves bytes; a Protocol turns the bytes a
// connection has received into replies. Two are built in:
//
// FrameProtocol, the scenario protocol (what `live` and `versus` use). Deliberately trivial,
// so the numbers measure waiting, not parsing:
//   - A connection opens with a 4-byte hello: the request size R of its client group, as an
//     unsigned 32-bit little-endian integer (the model's request_bytes; 1..65536). The client
//     sends it in front of its first request, in the same segment, so it costs no syscall.
//   - Then every request is exactly R bytes (contents ignored). Requests may arrive split
//     over several reads or many in one read (pipelined); each is handled on its own.
//   - For each request the server spins work_us of user-mode CPU (the model's handle()) and
//     replies exactly reply_bytes bytes ('r'). Replies go back in request order.
//
// RespProtocol: enough of the Redis protocol (RESP2) that redis-benchmark runs unmodified:
//   inline commands ("PING\r\n") and multibulk ("*1\r\n$4\r\nPING\r\n"); PING, ECHO, SET, GET,
//   INCR, DEL, CONFIG GET; "-ERR ..." for anything else. A malformed request gets
//   "-ERR Protocol error: ..." and the connection is closed after the reply, as Redis does.
//   Its own limits (RespLimits): the largest argument, and the keyspace's size.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace eps::live {

// How far one handle() call may grow `out` (the server's output limits, limits.h).
struct OutputRoom {
  std::size_t wait_at = SIZE_MAX;  // start no further request once out.size() is this much
  // A reply holding a value (its size chosen by the client) asks for its bytes here first;
  // if refused, the request is answered with an error instead. Empty: always granted.
  std::function<bool(std::size_t)> take;
};

class Protocol {
 public:
  virtual ~Protocol() = default;
  // Handles the complete requests at the front of `in`, appending each reply to `out`, until
  // `in` holds no whole request or `out` reaches room.wait_at (the rest waits for the next
  // call). `state` is the connection's own (starts at 0). Returns the bytes of `in` consumed,
  // or -1 if the peer broke the protocol: `out` then holds a last error reply and the
  // connection is closed once it is sent.
  virtual long handle(std::int64_t& state, std::string_view in, std::string& out,
                      const OutputRoom& room = {}) = 0;
  // Appends the protocol's error reply saying `why` (the scenario framing has none).
  virtual void error_reply(std::string& out, std::string_view why) const {}
  std::uint64_t requests() const { return requests_.load(std::memory_order_relaxed); }

 protected:
  void count(std::uint64_t n) { requests_.fetch_add(n, std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> requests_{0};  // requests answered (all connections)
};

class FrameProtocol final : public Protocol {
 public:
  static constexpr std::uint32_t kMaxRequest = 65536;
  FrameProtocol(std::int64_t work_ns, int reply_bytes);
  long handle(std::int64_t& state, std::string_view in, std::string& out,
              const OutputRoom& room = {}) override;
  // The bytes a client sends in front of its first request.
  static std::string hello(std::uint32_t request_bytes);

 private:
  std::int64_t work_ns_;
  std::string reply_;
};

// RespProtocol's own limits. Why these defaults: limits.h.
struct RespLimits {
  // The largest bulk argument, so the largest SET value (Redis: proto-max-bulk-len, 512 MiB).
  // A longer one is refused when its length arrives, before any of its bytes are kept.
  std::size_t max_bulk = 16u << 20;
  // Keys and values together (with 64 bytes a key for the table): a SET that would pass it
  // is refused with an error (Redis: maxmemory, whose default is no limit).
  std::size_t max_keyspace = 256u << 20;
};

class RespProtocol final : public Protocol {
 public:
  // Arguments per command: more than any command here needs. An unfinished command is
  // parsed again from its start on every read, so this also bounds that work.
  static constexpr long long kMaxArgs = 1024;
  explicit RespProtocol(RespLimits limits = {}) : limits_(limits) {}
  long handle(std::int64_t& state, std::string_view in, std::string& out,
              const OutputRoom& room = {}) override;
  void error_reply(std::string& out, std::string_view why) const override;
  std::size_t keyspace_bytes() const;
  const RespLimits& limits() const { return limits_; }

 private:
  void execute(const std::string_view* argv, std::size_t argc, std::string& out, const OutputRoom& room);
  bool store(std::string_view key, std::string_view value, std::string& out);  // under mu_
  // Lookups by string_view without building a std::string (C++20 heterogeneous lookup).
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  const RespLimits limits_;
  mutable std::mutex mu_;  // the blocking server's threads share the keyspace
  std::unordered_map<std::string, std::string, Hash, std::equal_to<>> keys_;
  std::size_t keyspace_bytes_ = 0;  // as RespLimits::max_keyspace counts them
};

// Spins on the CPU for `ns` nanoseconds in user mode (the model's user_work).
void spin_ns(std::int64_t ns);

}  // namespace eps::live
