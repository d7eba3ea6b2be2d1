// The engine under a websocket: a reader loop that decodes frames into a
// bounded queue, a writer loop that sends every queued frame in one write,
// and the close handshake with its timeout.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "wscoro/frame.hpp"
#include "wscoro/options.hpp"
#include "net/transport.hpp"
#include "notifier.hpp"
#include "ws/decoder.hpp"
#include "ws/encoder.hpp"

namespace wscoro::detail {

class session : public std::enable_shared_from_this<session> {
 public:
  /// `received` holds bytes that arrived after the 101 response.
  session(std::unique_ptr<net::transport> transport, std::string received, websocket_options options,
          std::string protocol);

  /// Starts the reader and writer loops.
  void start();

  asio::awaitable<std::optional<frame>> receive();
  asio::awaitable<void> send(std::span<frame> batch, std::error_code& ec);
  asio::awaitable<void> close(close_frame f, std::error_code& ec);

  /// The websocket handle is gone: end the session without a handshake.
  void abandon() noexcept;

  bool is_open() const noexcept { return phase_ != phase::ended; }
  std::error_code error() const noexcept { return end_reason_; }
  const std::string& protocol() const noexcept { return protocol_; }
  asio::any_io_executor get_executor() { return transport_->get_executor(); }

 private:
  enum class phase {
    open,     // frames flow both ways
    closing,  // a close frame is queued or sent, or the peer's arrived: no more sends
    ended,    // the transport is closed
  };

  asio::awaitable<void> read_loop();
  asio::awaitable<void> write_loop();
  void on_frame(frame f);
  void on_protocol_error(std::error_code ec);
  void on_read_error(std::error_code ec);
  void queue_close(const close_frame& f);
  void deliver(frame f);
  void end(std::error_code reason) noexcept;
  bool receive_queue_full() const noexcept { return inbox_.size() >= options_.receive_queue_frames; }

  std::unique_ptr<net::transport> transport_;
  websocket_options options_;
  std::string protocol_;
  ws::decoder decoder_;
  ws::encoder encoder_;

  phase phase_ = phase::open;
  bool close_queued_ = false;
  bool close_received_ = false;
  std::error_code end_reason_;
  asio::steady_timer closing_timer_;

  std::string read_buffer_;
  std::size_t read_begin_ = 0;
  std::size_t read_end_ = 0;

  std::deque<frame> inbox_;
  notifier inbox_filled_;
  notifier inbox_drained_;

  std::string outbox_;   // encoded frames waiting for the writer
  std::string writing_;  // the batch being written
  notifier outbox_filled_;
  notifier outbox_drained_;
  notifier ended_;
};

}  // namespace wscoro::detail
