// The Linux user-space ABI values the model's programs and syscalls use: errno values
// (include/uapi/asm-generic/errno-base.h, errno.h), epoll flags (include/uapi/linux/eventpoll.h)
// and glibc's FD_SETSIZE. The same numbers as on a real machine, so a trace reads like strace.
#pragma once

#include <cstdint>

namespace eps {

inline constexpr int kENOENT = 2, kEBADF = 9, kEAGAIN = 11, kEEXIST = 17, kEINVAL = 22;
inline constexpr std::uint32_t EPOLLIN = 0x001, EPOLLERR = 0x008, EPOLLHUP = 0x010,
                               EPOLLEXCLUSIVE = 1u << 28, EPOLLONESHOT = 1u << 30,
                               EPOLLET = 1u << 31;
// fs/eventpoll.c: the bits ep_send_events leaves after an EPOLLONESHOT event
// (`epi->event.events &= EP_PRIVATE_BITS`): with no poll event left, the item is disarmed.
inline constexpr std::uint32_t EP_PRIVATE_BITS = (1u << 29) | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;
inline constexpr int EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;
inline constexpr int FD_SETSIZE_ = 1024;  // glibc's FD_SETSIZE: an fd_set holds fds 0..1023

}  // namespace eps
