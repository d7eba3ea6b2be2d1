// Wakes coroutines waiting for a condition on the same executor. Waiters
// re-check their condition after waking: a notify wakes all of them, and a
// notify with nobody waiting is not remembered.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <memory>

namespace wscoro::detail {

class notifier {
 public:
  /// `executor` must outlive the notifier (it is the owner's).
  explicit notifier(const asio::any_io_executor& executor) noexcept : executor_(&executor) {}

  /// Completes at the next notify(). Asio's per-operation cancellation ends
  /// the wait early, as for any timer wait.
  asio::awaitable<void> wait() {
    // The timer is made at the first wait: most notifiers of a connection
    // are never waited on, and an idle connection should cost little.
    if (!timer_) timer_ = std::make_unique<asio::steady_timer>(*executor_, asio::steady_timer::time_point::max());
    return timer_->async_wait(asio::redirect_error(asio::use_awaitable, ignored_));
  }

  void notify() noexcept {
    if (timer_) timer_->cancel();
  }

 private:
  const asio::any_io_executor* executor_;
  std::unique_ptr<asio::steady_timer> timer_;  // never expires; cancel() is the signal
  std::error_code ignored_;                    // a wait ends the same way, woken or cancelled
};

}  // namespace wscoro::detail
