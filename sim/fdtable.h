// The server process's file descriptor table (fs/file.c). Its threads share it, as threads
// do. alloc_fd hands out the lowest free number (0-2 are stdin, stdout and stderr), so fd
// numbers depend on what the program opened before: under epoll the epoll instance takes one
// and shifts the connections' numbers by one, and a closed fd's number is used again.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "sim/core.h"

namespace eps {

struct File {                // what an fd refers to (the part of struct file the model needs)
  FileKind kind = FileKind::Socket;
  std::uint32_t id = kNone;  // sid or eid
};

class FdTable {
 public:
  explicit FdTable(Core& k) : k_(k), files_(3), used_(3, true) {}  // 0-2: stdio

  // alloc_fd + fd_install: the lowest free fd now refers to `f` (traced as FdInstall).
  int install(File f, int cpu, std::uint16_t actor);
  // close(2) / __close_fd: the number is free again. `reason` as in Ev::FdClose.
  void close(int fd, int cpu, std::uint16_t actor, std::uint32_t reason);
  const File* get(int fd) const {
    return fd >= 0 && std::size_t(fd) < files_.size() && used_[std::size_t(fd)] ? &files_[std::size_t(fd)] : nullptr;
  }

 private:
  Core& k_;
  std::vector<File> files_;
  std::vector<bool> used_;
  std::size_t first_free_ = 3;  // no free fd below this (files->next_fd)
};

}  // namespace eps
