// Coroutines for the simulated threads' programs. A server program reads like the real loop
// (`n = co_await sys.epoll_wait(...)`); every co_await that costs simulated time suspends the
// whole call chain until the scheduler says the CPU time has been spent.
//
// Calls between coroutines (program -> syscall -> helper) go through a trampoline, drive():
// a call or a return parks the next coroutine to run and suspends, and drive()'s loop resumes
// it. Symmetric transfer (await_suspend returning the next handle) would do the same only if
// the compiler turns it into a tail call, which GCC does not promise (not at -O0, not under
// ASan): a busy-poll loop that never really sleeps then nests a native frame per call until
// the stack overflows. With the trampoline the native depth is bounded whatever the run.
#pragma once

#include <coroutine>
#include <cstddef>
#include <new>
#include <exception>
#include <utility>

namespace eps {

template <class T = void>
class Co;

namespace detail {

// Coroutine frames come and go with every syscall a program makes: recycle them through
// per-size free lists instead of malloc/free (the model is single-threaded per simulation;
// thread_local keeps two simulations on two threads apart).
class FramePool {
 public:
  static void* alloc(std::size_t n) {
    std::size_t c = cls(n);
    if (c < kClasses) {
      auto& fl = lists()[c];
      if (fl) { Node* p = fl; fl = p->next; return p; }
      return ::operator new((c + 1) * kGrain);
    }
    return ::operator new(n);
  }
  static void release(void* p, std::size_t n) noexcept {
    std::size_t c = cls(n);
    if (c < kClasses) {
      auto* node = static_cast<Node*>(p);
      node->next = lists()[c];
      lists()[c] = node;
      return;
    }
    ::operator delete(p);
  }

 private:
  struct Node { Node* next; };
  static constexpr std::size_t kGrain = 64, kClasses = 32;  // frames up to 2 KiB
  static std::size_t cls(std::size_t n) { return (n + kGrain - 1) / kGrain - 1; }
  static Node** lists() { thread_local Node* l[kClasses] = {}; return l; }
};

// The coroutine drive() resumes next (empty: the chain has really suspended, e.g. to burn
// CPU time or to sleep, and whoever wakes it will drive it again).
inline std::coroutine_handle<>& next_to_run() {
  thread_local std::coroutine_handle<> next;
  return next;
}

struct FinalAwaiter {
  bool await_ready() const noexcept { return false; }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) const noexcept {
    next_to_run() = h.promise().continuation;  // back to the caller (none: a thread's end)
  }
  void await_resume() const noexcept {}
};
struct PromiseBase {
  static void* operator new(std::size_t n) { return FramePool::alloc(n); }
  static void operator delete(void* p, std::size_t n) noexcept { FramePool::release(p, n); }
  std::coroutine_handle<> continuation;
  std::suspend_always initial_suspend() const noexcept { return {}; }
  FinalAwaiter final_suspend() const noexcept { return {}; }
  // A model bug inside a program must stop the run loudly, not be swallowed.
  void unhandled_exception() const noexcept { std::terminate(); }
};
}  // namespace detail

template <class T>
class [[nodiscard]] Co {
 public:
  struct promise_type : detail::PromiseBase {
    T value{};
    Co get_return_object() { return Co(std::coroutine_handle<promise_type>::from_promise(*this)); }
    void return_value(T v) { value = std::move(v); }
  };
  explicit Co(std::coroutine_handle<promise_type> h) : h_(h) {}
  Co(Co&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Co& operator=(Co&& o) noexcept { if (this != &o) { reset(); h_ = std::exchange(o.h_, {}); } return *this; }
  ~Co() { reset(); }

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> caller) noexcept {
    h_.promise().continuation = caller;
    detail::next_to_run() = h_;  // the callee runs next, from drive()'s loop
  }
  T await_resume() { return std::move(h_.promise().value); }

 private:
  void reset() { if (h_) h_.destroy(); h_ = {}; }
  std::coroutine_handle<promise_type> h_;
};

template <>
class [[nodiscard]] Co<void> {
 public:
  struct promise_type : detail::PromiseBase {
    Co get_return_object() { return Co(std::coroutine_handle<promise_type>::from_promise(*this)); }
    void return_void() noexcept {}
  };
  Co() = default;
  explicit Co(std::coroutine_handle<promise_type> h) : h_(h) {}
  Co(Co&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Co& operator=(Co&& o) noexcept { if (this != &o) { reset(); h_ = std::exchange(o.h_, {}); } return *this; }
  ~Co() { reset(); }

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> caller) noexcept {
    h_.promise().continuation = caller;
    detail::next_to_run() = h_;
  }
  void await_resume() const noexcept {}

  // For a thread's top-level program: the handle the scheduler resumes first.
  std::coroutine_handle<> handle() const { return h_; }
  bool done() const { return !h_ || h_.done(); }

 private:
  void reset() { if (h_) h_.destroy(); h_ = {}; }
  std::coroutine_handle<promise_type> h_;
};

// Runs `h` and every coroutine it calls or returns to, one after the other in this loop,
// until the chain really suspends. Re-entrant: a nested drive() starts and ends with the
// slot empty (the slot is only filled just before a coroutine suspends into this loop).
inline void drive(std::coroutine_handle<> h) {
  std::coroutine_handle<>& next = detail::next_to_run();
  next = h;
  while (next) std::exchange(next, {}).resume();
}

}  // namespace eps
