// Wakes coroutines waiting for a condition on the same executor. Waiters
// re-check their condition after waking: a notify wakes all of them, and a
// notify with nobody waiting is not remembered.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

namespace wscoro::detail {

class notifier {
 public:
  explicit notifier(const asio::any_io_executor& ex) : timer_(ex, asio::steady_timer::time_point::max()) {}

  asio::awaitable<void> wait() {
    std::error_code ignored;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }

  void notify() noexcept { timer_.cancel(); }

 private:
  asio::steady_timer timer_;  // never expires; cancel() is the signal
};

}  // namespace wscoro::detail
