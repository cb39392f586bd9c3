#include "sim/sock.h"

namespace eps {

void Sockets::create(int connections, int listeners) {
  first_listener_ = std::uint32_t(connections);
  socks_.resize(std::size_t(connections + listeners));
  for (int i = 0; i < connections + listeners; i++) {
    Socket& s = socks_[std::size_t(i)];
    s.sid = std::uint32_t(i);
    s.wq.id = s.sid;
    if (i < connections) s.conn = std::uint32_t(i);
  }
  for (int i = 0; i < listeners; i++) {
    Socket& l = at(listener_sid(i));
    l.established = l.open = true;
    k_.emit(Ev::SocketCreate, 0, kNoTask, l.sid, kNone, kNone);
  }
}

void Sockets::establish(std::uint32_t conn, std::uint32_t l, std::uint32_t flow, int cpu, bool wake) {
  Socket& s = at(conn);
  Socket& lsk = at(l);
  s.established = true;
  s.listener = l;
  lsk.accept_queue.push_back(s.sid);
  k_.emit(Ev::SocketCreate, cpu, kNoTask, s.sid, conn, l, flow);
  if (wake) sk_data_ready(lsk, flow, cpu);
}

std::uint32_t Sockets::reuseport_select(std::uint32_t conn, std::uint64_t seed) const {
  // The kernel hashes the 4-tuple (inet_ehashfn, with a random secret) and scales the hash
  // to the group's size (reciprocal_scale). The model's client ports are its connection
  // indexes and its secret comes from the seed: the spread is as uneven as a real hash's.
  std::uint64_t h = (seed * 0x9E3779B97F4A7C15ULL) ^ (std::uint64_t(conn) + 0x632BE59BD9B4E019ULL);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  const std::uint64_t n = std::uint64_t(listeners());
  return first_listener_ + std::uint32_t(((h & 0xffffffffULL) * n) >> 32);  // reciprocal_scale
}

}  // namespace eps
