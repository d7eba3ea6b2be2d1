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
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <algorithm>
#include <cstdint>
#include <memory>
#include <system_error>
#include <utility>
#include <vector>

namespace wscoro::detail {

class waiter_list {
 public:
  /// Waits complete through each waiter's associated executor, `fallback`
  /// for a handler that has none. `fallback` must outlive the list.
  explicit waiter_list(const asio::any_io_executor& fallback) noexcept : fallback_(&fallback) {}
  ~waiter_list() {
    for (auto& w : waiting_) w->detach();
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
  void wake_all() {
    if (waiting_.empty()) return;
    auto woken = std::exchange(waiting_, {});
    for (auto& w : woken) {
      w->detach();
      w->complete({});
    }
    // Keeps the vector's storage for the next waits.
    woken.clear();
    if (waiting_.empty()) waiting_.swap(woken);
  }

  bool empty() const noexcept { return waiting_.empty(); }

 private:
  struct waiter {
    explicit waiter(std::uint64_t n) noexcept : number(n) {}
    virtual ~waiter() = default;
    /// Forgets the cancellation slot's handler; not from inside it.
    virtual void detach() noexcept = 0;
    /// Posts the handler with `ec`.
    virtual void complete(std::error_code ec) = 0;
    // The slot's handler finds its waiter by number: a pointer could name a
    // later waiter after this one completed.
    std::uint64_t number;
  };

  template <class Handler>
  struct waiter_for final : waiter {
    waiter_for(std::uint64_t n, Handler h, const asio::any_io_executor& fallback)
        : waiter(n), handler(std::move(h)), executor(asio::get_associated_executor(handler, fallback)) {}

    void detach() noexcept override {
      auto slot = asio::get_associated_cancellation_slot(handler);
      if (slot.is_connected()) slot.clear();
    }

    void complete(std::error_code ec) override {
      asio::post(executor, [h = std::move(handler), ec]() mutable { std::move(h)(ec); });
    }

    Handler handler;
    asio::associated_executor_t<Handler, asio::any_io_executor> executor;
  };

  template <class Handler>
  void add(Handler handler) {
    const std::uint64_t number = ++last_number_;
    auto w = std::make_unique<waiter_for<Handler>>(number, std::move(handler), *fallback_);
    auto slot = asio::get_associated_cancellation_slot(w->handler);
    waiting_.push_back(std::move(w));
    if (slot.is_connected()) {
      slot.assign([this, number](asio::cancellation_type) { cancel(number); });
    }
  }

  // Runs inside the slot's handler, which therefore stays in place.
  void cancel(std::uint64_t number) {
    auto it = std::find_if(waiting_.begin(), waiting_.end(), [number](const auto& w) { return w->number == number; });
    if (it == waiting_.end()) return;
    auto cancelled = std::move(*it);
    waiting_.erase(it);
    cancelled->complete(asio::error::operation_aborted);
  }

  const asio::any_io_executor* fallback_;
  std::vector<std::unique_ptr<waiter>> waiting_;
  std::uint64_t last_number_ = 0;
};

}  // namespace wscoro::detail
