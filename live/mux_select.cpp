// select(2): the sets are rebuilt before every call, because select overwrites them with
// the answer. The kernel (do_select) scans every fd below nfds that is in a set.
#include "live/mux.h"

#include <sys/select.h>

#include <cerrno>

#include "live/sys.h"

namespace eps::live {

namespace {

class SelectMux final : public Mux {
 public:
  int add(int fd, int mask) override {
    // FD_SET on fd >= FD_SETSIZE writes past the end of the fd_set (glibc aborts with
    // "bit out of range"): a real program must refuse such an fd, and so do we.
    if (fd < 0 || fd >= FD_SETSIZE) return -EINVAL;
    if (!mask_[fd]) watched_++;
    mask_[fd] |= mask;
    if (fd > maxfd_) maxfd_ = fd;
    return 0;
  }
  void del(int fd, int mask) override {
    if (fd < 0 || fd >= FD_SETSIZE || !mask_[fd]) return;
    mask_[fd] &= ~mask;
    if (mask_[fd]) return;
    watched_--;
    while (maxfd_ >= 0 && !mask_[maxfd_]) maxfd_--;
  }
  int wait(int timeout_ms, std::vector<MuxEvent>& fired) override {
    fired.clear();
    fd_set r, w;
    FD_ZERO(&r);
    FD_ZERO(&w);
    for (int fd = 0; fd <= maxfd_; fd++) {
      if (mask_[fd] & kReadable) FD_SET(fd, &r);
      if (mask_[fd] & kWritable) FD_SET(fd, &w);
    }
    int n = sys::select(maxfd_ + 1, &r, &w, watched_, timeout_ms);
    if (n < 0) return -errno;
    for (int fd = 0; fd <= maxfd_ && n > 0; fd++) {
      int m = (FD_ISSET(fd, &r) ? kReadable : 0) | (FD_ISSET(fd, &w) ? kWritable : 0);
      if (m) fired.push_back({fd, m});
    }
    return int(fired.size());
  }
  const char* name() const override { return "select"; }

 private:
  int mask_[FD_SETSIZE] = {};  // interest by fd
  int maxfd_ = -1;             // highest watched fd (select's nfds - 1)
  int watched_ = 0;            // fds in the sets
};

}  // namespace

std::unique_ptr<Mux> mux_select_create(std::string&) { return std::make_unique<SelectMux>(); }

}  // namespace eps::live
