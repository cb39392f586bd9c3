// Coroutines for the simulated threads' programs. A server program reads like the real loop
// (`n = co_await sys.epoll_wait(...)`); every co_await that costs simulated time suspends the
// whole call chain until the scheduler says the CPU time has been spent. Symmetric transfer
// keeps nested calls (program -> syscall -> helper) off the native stack.
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

struct FinalAwaiter {
  bool await_ready() const noexcept { return false; }
  template <class P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) const noexcept {
    auto cont = h.promise().continuation;
    return cont ? cont : std::noop_coroutine();
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
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
    h_.promise().continuation = caller;
    return h_;
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
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
    h_.promise().continuation = caller;
    return h_;
  }
  void await_resume() const noexcept {}

  // For a thread's top-level program: the handle the scheduler resumes first.
  std::coroutine_handle<> handle() const { return h_; }
  bool done() const { return !h_ || h_.done(); }

 private:
  void reset() { if (h_) h_.destroy(); h_ = {}; }
  std::coroutine_handle<promise_type> h_;
};

}  // namespace eps
