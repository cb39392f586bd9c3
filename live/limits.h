// What a live server lets a connection hold in memory, and all connections together, and the
// buffers that hold it. Without limits one client could make the server hold anything: an
// unfinished `$536870912` argument, or a pipeline of GETs whose replies it never reads.
//
//   query    requests not run yet: an unfinished one, or whole ones that wait for room in
//            the output. Past `query` bytes for a connection, or `query_total` of memory for
//            all, the connection gets an error reply and is closed (Redis:
//            client-query-buffer-limit; Redis 7's maxmemory-clients for a total).
//   output   replies the socket has not taken yet. A connection's requests run while its
//            unsent replies are under `output`, so a client that does not read stops being
//            served instead of growing them (one reply may pass it: a large value is sent
//            whole). While all connections' reply buffers are over `output_total`, a
//            connection runs requests only when it has no unsent replies (up to kSmallRoom of
//            them), and a reply holding a value larger than kSmallRoom that would pass the
//            total is refused with an error. A connection whose client takes less than
//            kSmallRoom of its waiting replies in `output_timeout_ns` is closed (Redis:
//            client-output-buffer-limit's soft limit; nginx: send_timeout), so a client that
//            reads a byte now and then does not hold them for ever.
//
// The totals count the memory the buffers hold (their capacity, a sent part not yet dropped
// included), not only the bytes in use.
//
// The defaults, and why they are far below Redis's (1 GiB query buffer, no output limit for
// ordinary clients): this is a teaching server, run on a laptop beside redis-benchmark, whose
// requests are a few bytes. The largest argument (RespLimits::max_bulk, 16 MiB) fits twice in
// a query buffer (Redis's ratio: 512 MiB in 1 GiB), and a reply holding it fits in the output
// total; all the totals together stay under a few hundred MiB.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace eps::live {

class Protocol;

struct Limits {
  std::size_t query = 32u << 20;          // per connection
  std::size_t query_total = 128u << 20;   // all connections
  std::size_t output = 8u << 20;          // per connection: its requests wait past this
  std::size_t output_total = 128u << 20;  // all connections
  std::int64_t output_timeout_ns = 10'000'000'000;  // less than kSmallRoom taken: closed
};

// A connection with no unsent replies may always run requests whose replies (other than
// large values) come to this much: a client that reads is never stuck behind ones that do
// not. Also the least a client must take of its waiting replies per output_timeout_ns.
inline constexpr std::size_t kSmallRoom = 16 * 1024;

// The server's totals (atomic: the blocking server's threads share them).
class Totals {
 public:
  explicit Totals(const Limits& l) : limits_(l) {}
  // Counts n more bytes if the total stays within its limit; false (nothing counted) if not.
  bool take_query(std::size_t n);
  bool take_output(std::size_t n);
  void add_output(std::size_t n) { output_.fetch_add(n, std::memory_order_relaxed); }  // no matter what
  void give_query(std::size_t n) { query_.fetch_sub(n, std::memory_order_relaxed); }
  void give_output(std::size_t n) { output_.fetch_sub(n, std::memory_order_relaxed); }
  std::size_t query() const { return query_.load(std::memory_order_relaxed); }
  std::size_t output() const { return output_.load(std::memory_order_relaxed); }
  const Limits& limits() const { return limits_; }

 private:
  const Limits limits_;
  std::atomic<std::size_t> query_{0}, output_{0};
};

// One connection's two buffers: the requests not run yet, and the replies not sent yet.
class ConnBuffers {
 public:
  ConnBuffers(Protocol& proto, Totals& totals) : proto_(proto), totals_(totals) {}
  ~ConnBuffers();  // gives what it holds back to the totals
  ConnBuffers(const ConnBuffers&) = delete;
  ConnBuffers& operator=(const ConnBuffers&) = delete;

  // Runs the whole requests among those kept and `data` (n bytes just received; nullptr, 0
  // to run those that waited for room), appending their replies to unsent(), as far as the
  // output limits allow; keeps the rest within the query limits. False: the connection must
  // be closed once unsent() is out, which then ends with the error reply (the peer broke the
  // protocol or a limit; see over_limit()).
  bool handle(std::int64_t& state, const char* data, std::size_t n);
  std::string_view unsent() const { return std::string_view(out_).substr(sent_); }
  void sent(std::size_t n);  // the socket took the first n bytes of unsent()
  // Whole requests wait for the unsent replies to drain (call handle(state, nullptr, 0) then).
  bool waiting() const { return waiting_; }
  bool over_limit() const { return over_limit_; }  // closed for a query limit, not the protocol

  // The socket would take no more of unsent() at `now` (EAGAIN, or a blocking send cut short).
  void socket_full(std::int64_t now) {
    if (!stall_since_) stall_since_ = now, taken_ = 0;
  }
  // How long the client has taken less than kSmallRoom of its replies (0: it keeps up).
  std::int64_t stalled_ns(std::int64_t now) const { return stall_since_ ? now - stall_since_ : 0; }

 private:
  bool reserve_input(std::size_t need);  // room for `need` input bytes, or refuse()
  bool refuse(const std::string& why);   // appends the error reply; always false
  void drop_input();
  void recount_output();                 // out_'s memory, as counted in the output total
  std::size_t output_room() const;

  Protocol& proto_;
  Totals& totals_;
  std::string in_;              // requests not run yet (the first one maybe unfinished)
  std::string out_;             // replies; the first sent_ bytes are already sent
  std::size_t sent_ = 0;
  std::size_t in_counted_ = 0, out_counted_ = 0;  // in the totals
  std::int64_t stall_since_ = 0;  // since when the socket takes (almost) nothing; 0: it does
  std::size_t taken_ = 0;         // bytes taken since stall_since_
  bool waiting_ = false, over_limit_ = false;
};

// "16 MiB", "512 KiB", "100 bytes": for messages and --help.
std::string format_bytes(std::size_t n);

}  // namespace eps::live
