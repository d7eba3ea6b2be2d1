// The queue of events between the session's reader and receive().
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "wscoro/event.hpp"

namespace wscoro::detail {

/// A FIFO that allocates nothing until the first push and keeps its storage
/// once drained, so a connection at rest costs nothing here and a busy one
/// allocates nothing per message (std::deque takes a 512-byte block per
/// queue up front).
class event_queue {
 public:
  bool empty() const noexcept { return head_ == items_.size(); }
  std::size_t size() const noexcept { return items_.size() - head_; }
  event& front() noexcept { return items_[head_]; }

  void push_back(event e) {
    // Reuse the slots already taken out before the vector grows.
    if (head_ != 0 && items_.size() == items_.capacity()) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    items_.push_back(std::move(e));
  }

  /// Removes the front event (moved out by the caller beforehand).
  void pop_front() noexcept {
    if (++head_ == items_.size()) {
      items_.clear();
      head_ = 0;
    }
  }

 private:
  std::vector<event> items_;
  std::size_t head_ = 0;
};

}  // namespace wscoro::detail
