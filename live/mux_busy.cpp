// busy-poll: the mechanism that does not wait. Every watched fd is reported every time, so
// the server calls recvfrom() on each and most calls end in EAGAIN: the CPU never sleeps.
#include "live/mux.h"

#include <algorithm>

namespace eps::live {

namespace {

class BusyMux final : public Mux {
 public:
  int add(int fd, int mask) override {
    if (fd < 0) return -22;
    if (std::size_t(fd) >= mask_.size()) mask_.resize(std::size_t(fd) + 1, 0);
    if (!mask_[std::size_t(fd)]) order_.push_back(fd);
    mask_[std::size_t(fd)] |= mask;
    return 0;
  }
  void del(int fd, int mask) override {
    if (fd < 0 || std::size_t(fd) >= mask_.size() || !mask_[std::size_t(fd)]) return;
    mask_[std::size_t(fd)] &= ~mask;
    if (!mask_[std::size_t(fd)]) order_.erase(std::find(order_.begin(), order_.end(), fd));
  }
  int wait(int /*timeout_ms*/, std::vector<MuxEvent>& fired) override {
    fired.clear();
    for (int fd : order_) fired.push_back({fd, mask_[std::size_t(fd)]});
    return int(fired.size());
  }
  const char* name() const override { return "busy-poll"; }

 private:
  std::vector<int> mask_;   // interest by fd (0 = not watched)
  std::vector<int> order_;  // watched fds, in the order they were added: the loop's order
};

}  // namespace

std::unique_ptr<Mux> mux_busy_create(std::string&) { return std::make_unique<BusyMux>(); }

std::unique_ptr<Mux> mux_create(Strategy s, int maxevents, std::string& error) {
  switch (s) {
    case Strategy::BusyPoll: return mux_busy_create(error);
    case Strategy::Select: return mux_select_create(error);
    case Strategy::Poll: return mux_poll_create(error);
    case Strategy::Epoll: return mux_epoll_create(false, maxevents, error);
    case Strategy::EpollEt: return mux_epoll_create(true, maxevents, error);
    // Not event loops (their table rows say LiveServer::ThreadPerConnection or Workers). No
    // default: a new strategy is a -Wswitch warning here until it is placed.
    case Strategy::Blocking:
    case Strategy::EpollShared:
    case Strategy::EpollPerThread:
    case Strategy::Reuseport: break;
  }
  error = "the " + std::string(strategy_name(s)) + " strategy has no multiplexer of its own: " +
          std::string(strategy_info(s).summary);
  return nullptr;
}

}  // namespace eps::live
