#include "sim/fdtable.h"

namespace eps {

int FdTable::install(File f, int cpu, std::uint16_t actor) {
  std::size_t fd = first_free_;
  while (fd < used_.size() && used_[fd]) fd++;  // find_next_fd
  if (fd == used_.size()) {
    used_.push_back(false);
    files_.push_back(File{});
  }
  used_[fd] = true;
  files_[fd] = f;
  first_free_ = fd + 1;
  k_.emit(Ev::FdInstall, cpu, actor, std::uint32_t(fd), std::uint32_t(f.kind), f.id);
  return int(fd);
}

void FdTable::close(int fd, int cpu, std::uint16_t actor, std::uint32_t reason) {
  if (!get(fd)) return;
  used_[std::size_t(fd)] = false;
  if (std::size_t(fd) < first_free_) first_free_ = std::size_t(fd);  // __put_unused_fd
  k_.emit(Ev::FdClose, cpu, actor, std::uint32_t(fd), reason);
}

}  // namespace eps
