// Coroutines of a session waiting for a condition to change: an event to
// receive, room to send, the end. A wait completes with no error at the next
// wake_all(), or with asio::error::operation_aborted when its own
// cancellation slot fires (Asio's per-operation cancellation), so that a
// cancelled wait is reported instead of swallowed. Waiters re-check their
// condition after waking.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/dispatch.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <new>
#include <system_error>
#include <utility>
#include <vector>

namespace wscoro::detail {

class waiter_list {
 public:
  /// How woken waiters resume.
  enum class resume {
    /// Later, from the executor's queue: the waker is in the middle of
    /// something a resumed waiter must not see.
    later,
    /// Now, on this thread, when it runs the waiter's executor: for a waker
    /// at the end of an I/O completion handler, which saves a trip through
    /// the executor's queue per message.
    now_if_possible,
  };

  /// Waits complete through each waiter's associated executor, `fallback`
  /// for a handler that has none. `fallback` must outlive the list.
  explicit waiter_list(const asio::any_io_executor& fallback) noexcept : fallback_(&fallback) {}
  ~waiter_list() {
    for (waiter* w : waiting_) {
      w->detach();
      w->destroy(*this);
    }
    ::operator delete(spare_);
  }
  waiter_list(const waiter_list&) = delete;
  waiter_list& operator=(const waiter_list&) = delete;

  /// Completes with `void(std::error_code)` as described above.
  template <class Token = asio::use_awaitable_t<>>
  auto async_wait(Token&& token = {}) {
    return asio::async_initiate<Token, void(std::error_code)>(
        [this](auto handler) { add(std::move(handler)); }, token);
  }

  /// Completes every wait now pending, with no error.
  void wake_all(resume how = resume::later) {
    if (waiting_.empty()) return;
    // A waiter resumed now may wait again (it joins waiting_) or wake this
    // list again (that wake takes a vector of its own).
    std::vector<waiter*> woken = std::move(woken_storage_);
    woken.swap(waiting_);
    for (waiter* w : woken) w->detach();
    for (waiter* w : woken) w->complete(*this, {}, how);
    woken.clear();
    if (woken.capacity() > woken_storage_.capacity()) woken_storage_ = std::move(woken);
  }

  bool empty() const noexcept { return waiting_.empty(); }

 private:
  struct waiter {
    explicit waiter(std::uint64_t n) noexcept : number(n) {}
    /// Forgets the cancellation slot's handler; not from inside it.
    virtual void detach() noexcept = 0;
    /// Resumes the handler with `ec` and frees the waiter.
    virtual void complete(waiter_list& list, std::error_code ec, resume how) = 0;
    /// Frees the waiter without resuming it.
    virtual void destroy(waiter_list& list) noexcept = 0;
    // The slot's handler finds its waiter by number: a pointer could name a
    // later waiter after this one completed.
    std::uint64_t number;

   protected:
    ~waiter() = default;
  };

  template <class Handler>
  struct waiter_for final : waiter {
    waiter_for(std::uint64_t n, Handler h, const asio::any_io_executor& fallback)
        : waiter(n), handler(std::move(h)), executor(asio::get_associated_executor(handler, fallback)) {}

    void detach() noexcept override {
      auto slot = asio::get_associated_cancellation_slot(handler);
      if (slot.is_connected()) slot.clear();
    }

    void complete(waiter_list& list, std::error_code ec, resume how) override {
      auto resumed = [h = std::move(handler), ec]() mutable { std::move(h)(ec); };
      auto ex = std::move(executor);
      destroy(list);
      if (how == resume::now_if_possible) {
        asio::dispatch(ex, std::move(resumed));
      } else {
        asio::post(ex, std::move(resumed));
      }
    }

    void destroy(waiter_list& list) noexcept override {
      this->~waiter_for();
      list.give_back(this, sizeof(waiter_for));
    }

    Handler handler;
    asio::associated_executor_t<Handler, asio::any_io_executor> executor;
  };

  template <class Handler>
  void add(Handler handler) {
    using waiter_type = waiter_for<Handler>;
    const std::uint64_t number = ++last_number_;
    auto* w = new (take(sizeof(waiter_type))) waiter_type(number, std::move(handler), *fallback_);
    waiting_.push_back(w);
    auto slot = asio::get_associated_cancellation_slot(w->handler);
    if (slot.is_connected()) {
      slot.assign([this, number](asio::cancellation_type) { cancel(number); });
    }
  }

  // Runs inside the slot's handler, which therefore stays in place.
  void cancel(std::uint64_t number) {
    auto it = std::find_if(waiting_.begin(), waiting_.end(), [number](waiter* w) { return w->number == number; });
    if (it == waiting_.end()) return;
    waiter* cancelled = *it;
    waiting_.erase(it);
    cancelled->complete(*this, asio::error::operation_aborted, resume::later);
  }

  // One block is kept for the next waiter, so that waiting once per message
  // allocates nothing.
  void* take(std::size_t size) {
    if (spare_ && spare_size_ >= size) return std::exchange(spare_, nullptr);
    return ::operator new(size);
  }
  void give_back(void* block, std::size_t size) noexcept {
    if (spare_) {
      ::operator delete(block);
      return;
    }
    spare_ = block;
    spare_size_ = size;
  }

  const asio::any_io_executor* fallback_;
  std::vector<waiter*> waiting_;
  std::vector<waiter*> woken_storage_;  // kept for the next wake_all()
  std::uint64_t last_number_ = 0;
  void* spare_ = nullptr;
  std::size_t spare_size_ = 0;
};

}  // namespace wscoro::detail
