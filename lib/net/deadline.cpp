#include "net/deadline.hpp"

namespace wscoro::net {

deadline::deadline(asio::any_io_executor ex, std::chrono::milliseconds after,
                   std::function<void()> on_expiry) {
  if (after.count() <= 0) return;
  state_ = std::make_shared<state>(std::move(ex));
  state_->on_expiry = std::move(on_expiry);
  state_->timer.expires_after(after);
  // The handler may already be queued when the deadline is disarmed, so it
  // checks `armed` rather than trusting the error code alone.
  state_->timer.async_wait([s = state_](std::error_code ec) {
    if (ec || !s->armed) return;
    s->expired = true;
    auto action = std::move(s->on_expiry);
    action();
  });
}

deadline::~deadline() {
  if (!state_) return;
  state_->armed = false;
  state_->on_expiry = nullptr;
  state_->timer.cancel();
}

}  // namespace wscoro::net
