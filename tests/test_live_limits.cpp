// The memory limits of a live server's connections (live/limits.h) and RespProtocol's own
// (the largest argument, the keyspace), without sockets: bytes in, replies and totals out.
#include <catch2/catch.hpp>

#include "live/limits.h"
#include "live/protocol.h"

using namespace eps::live;

namespace {

constexpr std::size_t KiB = 1024;

std::string bulk_command(std::initializer_list<std::string_view> args) {
  std::string s = "*" + std::to_string(args.size()) + "\r\n";
  for (std::string_view a : args) s += "$" + std::to_string(a.size()) + "\r\n" + std::string(a) + "\r\n";
  return s;
}

// Feeds `in` to a connection's buffers; returns handle()'s verdict.
bool feed(ConnBuffers& io, std::int64_t& st, const std::string& in) { return io.handle(st, in.data(), in.size()); }

// Takes every unsent reply, as a client that reads would; returns them.
std::string take_all(ConnBuffers& io) {
  std::string got(io.unsent());
  io.sent(got.size());
  return got;
}

}  // namespace

TEST_CASE("limits: an argument longer than max_bulk is refused when its length arrives", "[live]") {
  RespLimits rl;
  rl.max_bulk = 16;
  RespProtocol p(rl);
  std::int64_t st = 0;
  std::string out;
  CHECK(p.handle(st, bulk_command({"ECHO", std::string(16, 'x')}), out) > 0);
  CHECK(out == "$16\r\n" + std::string(16, 'x') + "\r\n");
  out.clear();
  // Only the length has come: refused at once, nothing waits for the bytes.
  CHECK(p.handle(st, "*2\r\n$4\r\nECHO\r\n$17\r\n", out) == -1);
  CHECK_THAT(out, Catch::StartsWith("-ERR Protocol error: invalid bulk length (the largest argument is 16 bytes"));
}

TEST_CASE("limits: a SET that would pass the keyspace limit is refused, one that shrinks is not", "[live]") {
  RespLimits rl;
  rl.max_keyspace = 230;  // a key costs its bytes, its value's, and 64
  RespProtocol p(rl);
  std::int64_t st = 0;
  std::string out;
  p.handle(st, bulk_command({"SET", "a", std::string(100, 'x')}), out);  // 165
  p.handle(st, bulk_command({"SET", "b", std::string(10, 'x')}), out);   // 240: refused
  p.handle(st, bulk_command({"SET", "a", std::string(20, 'x')}), out);   // 85: smaller, allowed
  p.handle(st, bulk_command({"SET", "b", std::string(10, 'x')}), out);   // 160
  p.handle(st, "GET b\r\n", out);
  CHECK(out ==
        "+OK\r\n-ERR keyspace full: keys and values would pass 230 bytes (serve --max-keyspace)\r\n"
        "+OK\r\n+OK\r\n$10\r\nxxxxxxxxxx\r\n");
  CHECK(p.keyspace_bytes() == 160);
  out.clear();
  p.handle(st, "INCR n\r\nINCR n\r\nDEL a b n\r\n", out);  // 226 bytes
  CHECK(out == ":1\r\n:2\r\n:3\r\n");
  CHECK(p.keyspace_bytes() == 0);
}

TEST_CASE("limits: requests wait while the replies have no room, and run once they are sent", "[live]") {
  Limits l;
  l.output = 64;  // below kSmallRoom: a connection with nothing unsent still gets 16 KiB
  Totals t(l);
  RespProtocol p;
  ConnBuffers io(p, t);
  std::int64_t st = 0;
  std::string burst;
  for (int i = 0; i < 10000; i++) burst += "PING\r\n";  // 70,000 bytes of replies
  REQUIRE(feed(io, st, burst));
  CHECK(io.waiting());
  CHECK(io.unsent().size() >= kSmallRoom);
  CHECK(io.unsent().size() < kSmallRoom + 7);  // stopped at the room, one reply past it at most
  std::string replies;
  int rounds = 0;
  while (io.waiting()) {
    replies += take_all(io);
    REQUIRE(io.handle(st, nullptr, 0));
    rounds++;
  }
  replies += take_all(io);
  CHECK(rounds >= 4);
  std::string expected;
  for (int i = 0; i < 10000; i++) expected += "+PONG\r\n";
  CHECK(replies == expected);
  CHECK(p.requests() == 10000);
  CHECK(t.output() <= 16 * KiB);  // an emptied buffer keeps at most 16 KiB, for reuse
}

TEST_CASE("limits: one reply may pass the output limit: a large value is sent whole", "[live]") {
  Limits l;
  l.output = 1024;
  Totals t(l);
  RespProtocol p;
  ConnBuffers io(p, t);
  std::int64_t st = 0;
  const std::string value(100 * KiB, 'v');
  REQUIRE(feed(io, st, bulk_command({"SET", "k", value}) + "GET k\r\nPING\r\n"));
  // The GET ran (its 100 KiB reply passes the 1 KiB limit); the PING waits for it.
  CHECK(io.unsent() == "+OK\r\n$102400\r\n" + value + "\r\n");
  CHECK(io.waiting());
  CHECK(t.output() >= value.size());
  take_all(io);
  REQUIRE(io.handle(st, nullptr, 0));
  CHECK(take_all(io) == "+PONG\r\n");
  CHECK(t.output() == 0);  // the large buffer was given back
}

TEST_CASE("limits: past the output total a large value gets an error, small replies still go", "[live]") {
  Limits l;
  l.output_total = 64 * KiB;
  Totals t(l);
  RespProtocol p;
  ConnBuffers a(p, t), b(p, t);
  std::int64_t sa = 0, sb = 0;
  const std::string value(40 * KiB, 'v');
  REQUIRE(feed(a, sa, bulk_command({"SET", "big", value})));
  take_all(a);
  REQUIRE(feed(a, sa, "GET big\r\n"));  // a does not read it: 40 KiB held
  CHECK(t.output() >= value.size());
  REQUIRE(feed(b, sb, "GET big\r\nPING\r\nGET nothing\r\n"));
  CHECK_THAT(std::string(b.unsent()), Catch::StartsWith("-ERR no room for a reply of 40970 bytes"));
  CHECK_THAT(std::string(b.unsent()), Catch::EndsWith("+PONG\r\n$-1\r\n"));
  take_all(b);
  take_all(a);  // a reads: room again
  REQUIRE(feed(b, sb, "GET big\r\n"));
  CHECK(b.unsent().size() == value.size() + 10);
}

TEST_CASE("limits: past the query limit, per connection or in total, an error reply and close", "[live]") {
  Limits l;
  l.query = 64 * KiB;
  l.query_total = 100 * KiB;
  Totals t(l);
  RespProtocol p;
  std::int64_t s1 = 0, s2 = 0, s3 = 0;
  const std::string head = "*2\r\n$4\r\nECHO\r\n$62000\r\n";  // an argument not finished yet
  {
    ConnBuffers one(p, t);
    REQUIRE(feed(one, s1, "*2\r\n$4\r\nECHO\r\n$200000\r\n" + std::string(40 * KiB, 'u')));
    CHECK(feed(one, s1, std::string(20 * KiB, 'u')));  // 60 KiB kept: within 64
    CHECK_FALSE(feed(one, s1, std::string(8 * KiB, 'u')));
    CHECK(one.over_limit());
    CHECK_THAT(std::string(one.unsent()), Catch::StartsWith("-ERR query buffer limit reached: more than 64 KiB"));
    CHECK(t.query() == 0);  // what it held is given back at once
  }
  ConnBuffers two(p, t), three(p, t);
  REQUIRE(feed(two, s2, head + std::string(40 * KiB, 'u')));
  REQUIRE(feed(two, s2, std::string(20 * KiB, 'u')));
  const std::size_t held = t.query();
  CHECK(held >= 60 * KiB);
  CHECK(held <= 64 * KiB);  // its room never grows past the per-connection limit
  REQUIRE(feed(three, s3, head + std::string(30 * KiB, 'u')));
  CHECK_FALSE(feed(three, s3, std::string(20 * KiB, 'u')));  // would pass 100 KiB in all
  CHECK_THAT(std::string(three.unsent()), Catch::StartsWith("-ERR all clients' query buffers are full: 100 KiB"));
  CHECK(t.query() == held);
  // Finished, the argument is run and its memory given back.
  REQUIRE(feed(two, s2, std::string(62000 - 60 * KiB, 'u') + "\r\n"));
  CHECK(two.unsent().size() == 62000 + 10);
  CHECK(t.query() == 0);
}

TEST_CASE("limits: a client is stalled until it takes kSmallRoom of its replies", "[live]") {
  Totals t(Limits{});
  RespProtocol p;
  ConnBuffers io(p, t);
  std::int64_t st = 0;
  REQUIRE(feed(io, st, bulk_command({"ECHO", std::string(100 * KiB, 'e')})));
  CHECK(io.stalled_ns(5) == 0);
  io.socket_full(1000);
  io.socket_full(1500);  // the first refusal counts
  CHECK(io.stalled_ns(3000) == 2000);
  io.sent(100);  // a trickle
  CHECK(io.stalled_ns(3000) == 2000);
  io.sent(kSmallRoom);
  CHECK(io.stalled_ns(3000) == 0);
}
