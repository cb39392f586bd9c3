// poll(2): one pollfd per watched fd, the whole array passed (and scanned by do_poll) every
// call. No fd-number limit, but still O(watched) per call.
#include "live/mux.h"

#include <poll.h>

#include <cerrno>

#include "live/sys.h"

namespace eps::live {

namespace {

class PollMux final : public Mux {
 public:
  int add(int fd, int mask) override {
    if (fd < 0) return -EINVAL;
    if (std::size_t(fd) >= slot_.size()) slot_.resize(std::size_t(fd) + 1, -1);
    int& i = slot_[std::size_t(fd)];
    if (i < 0) {
      i = int(pfds_.size());
      pfds_.push_back({fd, 0, 0});
    }
    pfds_[std::size_t(i)].events |= events(mask);
    return 0;
  }
  void del(int fd, int mask) override {
    if (fd < 0 || std::size_t(fd) >= slot_.size() || slot_[std::size_t(fd)] < 0) return;
    int i = slot_[std::size_t(fd)];
    pollfd& p = pfds_[std::size_t(i)];
    p.events &= short(~events(mask));
    if (p.events) return;
    // Swap-remove: the last pollfd takes this one's place.
    pfds_[std::size_t(i)] = pfds_.back();
    slot_[std::size_t(pfds_[std::size_t(i)].fd)] = i;
    pfds_.pop_back();
    slot_[std::size_t(fd)] = -1;
  }
  int wait(int timeout_ms, std::vector<MuxEvent>& fired) override {
    fired.clear();
    int n = sys::poll(pfds_.data(), pfds_.size(), timeout_ms);
    if (n < 0) return -errno;
    for (const pollfd& p : pfds_) {
      if (!p.revents) continue;
      int m = 0;
      if (p.revents & (POLLIN | POLLERR | POLLHUP)) m |= kReadable;
      if (p.revents & POLLOUT) m |= kWritable;
      if (p.revents & POLLNVAL) m |= kReadable;
      fired.push_back({p.fd, m});
    }
    return int(fired.size());
  }
  const char* name() const override { return "poll"; }

 private:
  static short events(int mask) {
    return short(((mask & kReadable) ? POLLIN : 0) | ((mask & kWritable) ? POLLOUT : 0));
  }
  std::vector<pollfd> pfds_;  // what poll() gets
  std::vector<int> slot_;     // fd -> index in pfds_ (-1: not watched)
};

}  // namespace

std::unique_ptr<Mux> mux_poll_create(std::string&) { return std::make_unique<PollMux>(); }

}  // namespace eps::live
