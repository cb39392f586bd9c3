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
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace eps::live {

class Protocol {
 public:
  virtual ~Protocol() = default;
  // Handles every complete request at the front of `in`, appending each reply to `out`.
  // `state` is the connection's own (starts at 0). Returns the bytes of `in` consumed, or -1
  // if the peer broke the protocol: `out` then holds a last error reply and the connection
  // is closed once it is sent.
  virtual long handle(std::int64_t& state, std::string_view in, std::string& out) = 0;
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
  long handle(std::int64_t& state, std::string_view in, std::string& out) override;
  // The bytes a client sends in front of its first request.
  static std::string hello(std::uint32_t request_bytes);

 private:
  std::int64_t work_ns_;
  std::string reply_;
};

class RespProtocol final : public Protocol {
 public:
  long handle(std::int64_t& state, std::string_view in, std::string& out) override;

 private:
  void execute(const std::string_view* argv, std::size_t argc, std::string& out);
  // Lookups by string_view without building a std::string (C++20 heterogeneous lookup).
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::mutex mu_;  // the blocking server's threads share the keyspace
  std::unordered_map<std::string, std::string, Hash, std::equal_to<>> keys_;
};

// Spins on the CPU for `ns` nanoseconds in user mode (the model's user_work).
void spin_ns(std::int64_t ns);

}  // namespace eps::live
