// The queue of events between the session's reader and receive().
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "wscoro/event.hpp"

namespace wscoro::detail {

/// The payload bytes an event holds, as counted against receive_queue_bytes.
inline std::size_t payload_size(const event& e) noexcept {
  return std::visit(
      [](const auto& v) -> std::size_t {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, close_frame>) {
          return v.reason.size();
        } else if constexpr (std::is_same_v<T, down> || std::is_same_v<T, up>) {
          return 0;
        } else {
          return v.data.size();
        }
      },
      e);
}

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
