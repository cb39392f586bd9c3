// The strategies: how a server waits for its connections. ONE table (kStrategies, in
// sim/programs.cpp, next to the programs) says everything the rest of the house needs about
// each: its name, the listing of its server loop, the program that runs it in the model, what
// it waits with, the live server that runs it on real sockets, and the traits the views use.
// Nothing else lists the strategies: CLIs, GUI, live and tests iterate all_strategies().
//
// Adding one: a value here, its program + listing + table row in sim/programs.cpp, its live
// server in live/ (an event loop's Mux in live/mux_*.cpp and a case in mux_create, or the
// worker server live/server_workers.cpp; live/server.cpp dispatches on the row's LiveServer),
// goldens regenerated, a lesson and a test. README.md, "Adding a strategy", walks through it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace eps {

// Order matters: it is the column order of `compare`.
enum class Strategy : std::uint8_t {
  Blocking, BusyPoll, Select, Poll, Epoll, EpollEt, EpollShared, EpollPerThread, Reuseport
};
// How many values Strategy has: keep it the last value + 1 (the table is checked against it
// when sim/programs.cpp compiles).
inline constexpr std::size_t kStrategyValues = std::size_t(Strategy::Reuseport) + 1;

// How a server thread waits for data (the views explain each).
enum class WaitsWith : std::uint8_t {
  Recvfrom,   // a thread per connection, asleep in recvfrom (sk_wait_data)
  Nothing,    // never sleeps: non-blocking recvfrom on every fd, again and again
  Scan,       // select/poll: one call registers on every fd and scans them all
  Epoll,      // epoll_wait: the kernel keeps the ready list
};

// Which live server runs it (live/server.cpp's Server::start dispatches on it).
enum class LiveServer : std::uint8_t {
  ThreadPerConnection,  // live/server_blocking.cpp
  EventLoop,            // live/server_loop.cpp with the strategy's Mux
  Workers,              // live/server_workers.cpp: N threads, epoll, shared or own listener
};

struct Scenario;
class Simulation;
struct Task;
template <class T> class Co;

// A program's listing: one entry per line, each line with a label the program names it by
// (`s.line(t, L.at("recv"))`), so the lit line never drifts from the code it stands for.
struct Listing {
  struct Line {
    std::string label;  // "" for lines the program never stops on
    std::string text;
  };
  std::vector<Line> lines;
  int at(std::string_view label) const;  // throws std::logic_error for an unknown label
  std::vector<std::string> text() const;
};

struct StrategyInfo {
  Strategy id;
  std::string_view name;      // "busy-poll": in scenario files, flags, JSON, traces
  std::string_view summary;   // one line: what the server does
  WaitsWith waits;
  bool threads;               // runs server.threads worker threads (epoll-shared, ...)
  bool edge_triggered;        // registers with EPOLLET
  bool reuseport;             // a listening socket per thread (SO_REUSEPORT), else one
  bool listen_nonblock;       // the listening socket is O_NONBLOCK (accept until EAGAIN)
  std::string_view no_epoll;  // the machine picture's text where epoll would be drawn ("" if it has epoll)
  Listing (*listing)(const Scenario&);   // the server loop's listing for this scenario
  Co<void> (*program)(Simulation&, Task&);
  LiveServer live;
};

const StrategyInfo& strategy_info(Strategy s);
const std::vector<Strategy>& all_strategies();
std::string_view strategy_name(Strategy s);                      // "busy-poll"
std::optional<Strategy> parse_strategy(std::string_view name);   // nullopt if unknown
std::string strategy_names(std::string_view sep = ", ");         // "blocking, busy-poll, ..."
inline std::ostream& operator<<(std::ostream& o, Strategy s) { return o << strategy_name(s); }

}  // namespace eps
