// A timeout for a stretch of asynchronous work: unless disarmed (by its
// destructor) first, it runs an action, typically closing the transport
// so that the pending operation completes with an error.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>

namespace wscoro::net {

class deadline {
 public:
  /// A zero `after` means no deadline.
  deadline(asio::any_io_executor ex, std::chrono::milliseconds after, std::function<void()> on_expiry);
  ~deadline();
  deadline(const deadline&) = delete;
  deadline& operator=(const deadline&) = delete;

  bool expired() const noexcept { return state_ && state_->expired; }

 private:
  struct state {
    explicit state(asio::any_io_executor ex) : timer(std::move(ex)) {}
    asio::steady_timer timer;
    bool armed = true;
    bool expired = false;
    std::function<void()> on_expiry;
  };
  std::shared_ptr<state> state_;
};

}  // namespace wscoro::net
