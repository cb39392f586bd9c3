// The memory limits of a live server's connections (see limits.h).
#include "live/limits.h"

#include <algorithm>

#include "live/protocol.h"

namespace eps::live {

namespace {

// Emptied buffers larger than this give their memory back (a 16 MiB value, once sent, must
// not stay allocated for the rest of the connection's life); smaller ones keep it for reuse,
// as Redis keeps a 16 KiB reply buffer per client.
constexpr std::size_t kKeepCapacity = 16 * 1024;

// The heap bytes a string holds (the short-string buffer inside it is not on the heap).
std::size_t heap_bytes(const std::string& s) { return s.capacity() > 15 ? s.capacity() : 0; }

// `s` with exactly `cap` bytes of room: std::string::reserve rounds a growth up to twice the
// old capacity, which could pass the limit the growth was counted against.
void set_capacity(std::string& s, std::size_t cap) {
  std::string t;
  t.reserve(cap);
  t.append(s);
  s.swap(t);
}

bool take_within(std::atomic<std::size_t>& total, std::size_t n, std::size_t limit) {
  std::size_t cur = total.load(std::memory_order_relaxed);
  do {
    if (cur > limit || n > limit - cur) return false;
  } while (!total.compare_exchange_weak(cur, cur + n, std::memory_order_relaxed));
  return true;
}

}  // namespace

bool Totals::take_query(std::size_t n) { return take_within(query_, n, limits_.query_total); }
bool Totals::take_output(std::size_t n) { return take_within(output_, n, limits_.output_total); }

std::string format_bytes(std::size_t n) {
  if (n >= (1u << 20) && n % (1u << 20) == 0) return std::to_string(n >> 20) + " MiB";
  if (n >= 1024 && n % 1024 == 0) return std::to_string(n >> 10) + " KiB";
  return std::to_string(n) + " bytes";
}

ConnBuffers::~ConnBuffers() {
  totals_.give_query(in_counted_);
  totals_.give_output(out_counted_);
}

bool ConnBuffers::handle(std::int64_t& state, const char* data, std::size_t n) {
  // 1. The input: the new bytes after the kept ones, or in place when none are kept (the
  //    common case: a read holds whole requests, and nothing is copied).
  std::string_view input(data, n);
  const bool in_place = in_.empty();
  if (!in_place) {
    if (!reserve_input(in_.size() + n)) return false;
    in_.append(data, n);
    input = in_;
  }
  // 2. The whole requests, while their replies have room.
  OutputRoom room;
  room.wait_at = out_.size() + output_room();
  room.take = [&](std::size_t bytes) {
    if (bytes <= kSmallRoom) return true;  // as any small reply: wait_at bounds those
    if (!totals_.take_output(bytes)) return false;
    out_counted_ += bytes;  // counted before it is allocated
    return true;
  };
  const long used = proto_.handle(state, input, out_, room);
  recount_output();
  if (used < 0) {  // the protocol appended its error reply
    drop_input();
    waiting_ = false;
    return false;
  }
  // 3. Keep what was not run: an unfinished request, or whole ones waiting for room.
  const std::size_t rest = input.size() - std::size_t(used);
  waiting_ = rest > 0 && out_.size() >= room.wait_at;
  if (in_place) {
    if (rest > 0 && !reserve_input(rest)) return false;
    in_.assign(data + used, rest);
  } else {
    in_.erase(0, std::size_t(used));
    if (in_.capacity() > kKeepCapacity && in_.size() < in_.capacity() / 4) {
      if (in_.empty()) std::string().swap(in_);
      else set_capacity(in_, in_.size());
      totals_.give_query(in_counted_ - heap_bytes(in_));
      in_counted_ = heap_bytes(in_);
    }
  }
  return true;
}

bool ConnBuffers::reserve_input(std::size_t need) {
  const Limits& lim = totals_.limits();
  if (need > lim.query)
    return refuse("query buffer limit reached: more than " + format_bytes(lim.query) +
                  " of requests not run yet (serve --max-query)");
  if (need <= in_.capacity()) return true;
  // Twice the old room (so appending stays cheap), but no more than the limit; counted first.
  const std::size_t cap = std::max(need, std::min(2 * in_.capacity(), lim.query));
  if (!totals_.take_query(cap - in_counted_))
    return refuse("all clients' query buffers are full: " + format_bytes(lim.query_total) +
                  " of requests not run yet (serve --max-query-total)");
  set_capacity(in_, cap);
  in_counted_ = cap;
  return true;
}

void ConnBuffers::drop_input() {
  std::string().swap(in_);
  totals_.give_query(in_counted_);
  in_counted_ = 0;
}

bool ConnBuffers::refuse(const std::string& why) {
  proto_.error_reply(out_, why);
  recount_output();
  drop_input();
  waiting_ = false;
  over_limit_ = true;
  return false;
}

void ConnBuffers::recount_output() {
  const std::size_t now = heap_bytes(out_);
  if (now > out_counted_) totals_.add_output(now - out_counted_);
  else totals_.give_output(out_counted_ - now);
  out_counted_ = now;
}

std::size_t ConnBuffers::output_room() const {
  const Limits& lim = totals_.limits();
  const std::size_t unsent = out_.size() - sent_, all = totals_.output();
  std::size_t room = unsent < lim.output ? lim.output - unsent : 0;
  room = std::min(room, all < lim.output_total ? lim.output_total - all : 0);
  if (unsent == 0) room = std::max(room, kSmallRoom);
  return room;
}

void ConnBuffers::sent(std::size_t n) {
  sent_ += n;
  if (stall_since_ && (taken_ += n) >= kSmallRoom) stall_since_ = 0;  // it reads: not stalled
  if (sent_ == out_.size()) {  // all out: the client keeps up
    stall_since_ = 0;
    out_.clear();
    sent_ = 0;
    if (out_.capacity() > kKeepCapacity) std::string().swap(out_);
  } else if (sent_ > kKeepCapacity && sent_ >= out_.size() / 2) {
    out_ = out_.substr(sent_);  // drop the sent part, and its memory (erase would keep it)
    sent_ = 0;
  } else {
    return;
  }
  recount_output();
}

}  // namespace eps::live
