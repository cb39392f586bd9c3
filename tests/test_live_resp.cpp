// The Redis-protocol front (RespProtocol) and the scenario framing (FrameProtocol), without
// sockets: bytes in, replies out.
#include <catch2/catch.hpp>

#include "live/protocol.h"

using namespace eps::live;

namespace {
// Feeds `in` to the protocol; returns the replies, and what was left unconsumed in `rest`.
std::string run(Protocol& p, std::int64_t& state, const std::string& in, long* used = nullptr) {
  std::string out;
  long u = p.handle(state, in, out);
  if (used) *used = u;
  return out;
}
}  // namespace

TEST_CASE("resp: inline and multibulk commands, pipelined", "[live]") {
  RespProtocol p;
  std::int64_t st = 0;
  long used = 0;
  std::string in =
      "PING\r\n"
      "*1\r\n$4\r\nPING\r\n"
      "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$3\r\nxxx\r\n"
      "get key\r\n"
      "*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n"
      "INCR n\n"
      "incr n\r\n"
      "*3\r\n$3\r\nDEL\r\n$3\r\nkey\r\n$1\r\nn\r\n"
      "GET key\r\n";
  CHECK(run(p, st, in, &used) ==
        "+PONG\r\n+PONG\r\n+OK\r\n$3\r\nxxx\r\n$5\r\nhello\r\n:1\r\n:2\r\n:2\r\n$-1\r\n");
  CHECK(used == long(in.size()));
  CHECK(p.requests() == 9);
}

TEST_CASE("resp: a request split anywhere waits for the rest", "[live]") {
  RespProtocol p;
  const std::string cmd = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n";
  for (std::size_t cut = 0; cut < cmd.size(); cut++) {
    std::int64_t st = 0;
    long used = -2;
    CHECK(run(p, st, cmd.substr(0, cut), &used).empty());
    CHECK(used == 0);
  }
  std::int64_t st = 0;
  long used = 0;
  CHECK(run(p, st, cmd + "PI", &used) == "+OK\r\n");
  CHECK(used == long(cmd.size()));  // "PI" stays for the next read
}

TEST_CASE("resp: what redis-benchmark asks first, and errors for the rest", "[live]") {
  RespProtocol p;
  std::int64_t st = 0;
  CHECK(run(p, st, "*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$4\r\nsave\r\n") == "*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
  CHECK(run(p, st, "CONFIG GET appendonly\r\n") == "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
  CHECK(run(p, st, "FLUSHALL\r\n") == "-ERR unknown command 'FLUSHALL'\r\n");
  CHECK(run(p, st, "GET\r\n") == "-ERR wrong number of arguments for 'get' command\r\n");
  CHECK(run(p, st, "SET a 1\r\nINCR a\r\nSET b x\r\nINCR b\r\n") ==
        "+OK\r\n:2\r\n+OK\r\n-ERR value is not an integer or out of range\r\n");
  CHECK(run(p, st, "\r\n*0\r\n").empty());  // empty commands: nothing to answer
}

TEST_CASE("resp: malformed requests get a protocol error and end the connection", "[live]") {
  const char* bad[] = {
      "*x\r\n",                          // multibulk count not a number
      "*1\r\n+PING\r\n",                 // not a bulk string
      "*1\r\n$-5\r\nPING\r\n",           // negative bulk length
      "*1\r\n$999999999999\r\n",         // bulk too long
      "*9999999999\r\n",                 // too many arguments
  };
  for (const char* b : bad) {
    INFO(b);
    RespProtocol p;
    std::int64_t st = 0;
    long used = 0;
    std::string out = run(p, st, std::string("PING\r\n") + b, &used);
    CHECK(used == -1);
    CHECK(out.rfind("+PONG\r\n-ERR Protocol error: ", 0) == 0);  // what came before is answered
  }
  // An endless inline line: refused once it passes 64 KiB.
  RespProtocol p;
  std::int64_t st = 0;
  long used = 0;
  std::string out = run(p, st, std::string(70 * 1024, 'a'), &used);
  CHECK(used == -1);
  CHECK_THAT(out, Catch::Contains("too big inline request"));
}

TEST_CASE("frame: hello, split and pipelined requests, fixed replies", "[live]") {
  FrameProtocol p(0, 3);
  std::int64_t st = 0;
  long used = 0;
  CHECK(run(p, st, FrameProtocol::hello(5).substr(0, 2), &used).empty());
  CHECK(used == 0);
  CHECK(run(p, st, FrameProtocol::hello(5) + "abc", &used).empty());
  CHECK(used == 4);
  CHECK(st == 5);
  CHECK(run(p, st, "abcdeABCDEab", &used) == "rrrrrr");
  CHECK(used == 10);
  CHECK(p.requests() == 2);
  std::int64_t st2 = 0;
  CHECK(run(p, st2, FrameProtocol::hello(0), &used).empty());
  CHECK(used == -1);  // a request size of 0 is a broken hello
  std::int64_t st3 = 0;
  CHECK(run(p, st3, FrameProtocol::hello(FrameProtocol::kMaxRequest + 1), &used).empty());
  CHECK(used == -1);
}
