// An upgraded Websocket session: send frames, receive them, close.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "wscoro/event.hpp"
#include "wscoro/frame.hpp"

namespace wscoro {

namespace detail {
class session;
}

/// A Websocket session obtained from connection::ws_upgrade.
///
/// Thread safety: as for Asio's sockets, call a websocket's member functions
/// from its executor only (one thread, or a strand). Many coroutines on that
/// executor may send at once: each frame or batch goes out whole, in the
/// order the sends were made.
///
/// Destroying a websocket whose session is still open aborts the connection
/// without a close handshake; call close() first to end it politely.
/// A moved-from websocket behaves as one whose session has ended.
class websocket {
 public:
  using executor_type = asio::any_io_executor;

  websocket(websocket&&) noexcept;
  websocket& operator=(websocket&&) noexcept;
  ~websocket();

  /// The executor of the connection. Not for a moved-from websocket.
  executor_type get_executor() const;

  /// The next frame received: text, binary, ping, pong (unless
  /// silence_pings) or close. Empty once the session has ended and every
  /// frame received before has been returned; error() then says why.
  asio::awaitable<std::optional<frame>> receive();

  /// As receive(), and also the down and up transitions of a session that
  /// reconnects after a loss (retry policy), in order with the frames.
  /// receive() skips those transitions.
  asio::awaitable<std::optional<event>> receive_event();

  /// Queues one frame for sending. Sending a close_frame is a deliberate
  /// close: the session then ends after the close handshake.
  /// Completes once the frame is queued; waits while more than
  /// send_queue_bytes are queued. Throws std::system_error with
  /// error::session_ended after the session has ended or a close was sent,
  /// and error::invalid_frame_to_send / invalid_utf8_to_send for a frame RFC
  /// 6455 does not allow.
  asio::awaitable<void> send(frame f);
  asio::awaitable<void> send(frame f, std::error_code& ec);

  /// Queues several frames to go out back to back, in one write where they fit.
  /// Nothing is queued unless every frame is valid.
  asio::awaitable<void> send(std::vector<frame> batch);
  asio::awaitable<void> send(std::vector<frame> batch, std::error_code& ec);

  /// Waits until every frame queued by earlier sends has been written to the
  /// connection (handed to the operating system, or to TLS), so that a
  /// program may then drop the websocket without losing them. Throws
  /// std::system_error with error::connection_down when the connection was
  /// lost first (the frames not written are counted in the `down` event),
  /// or with the session's end reason (error::session_ended after a clean
  /// close) when it ended first.
  asio::awaitable<void> flush();
  asio::awaitable<void> flush(std::error_code& ec);

  /// Deliberately ends the session: every frame queued before goes out first,
  /// then a close frame, then the peer's answer is awaited (at most
  /// closing_timeout) and the connection is closed. The session never
  /// reopens. Frames that arrive meanwhile, and the peer's close frame, stay
  /// available to receive(). Closing an ended session does nothing.
  asio::awaitable<void> close(std::uint16_t code = close_code::normal, std::string reason = {});
  asio::awaitable<void> close(std::uint16_t code, std::string reason, std::error_code& ec);

  /// True until the session has ended (the close handshake completed, the
  /// connection was lost for good, or a protocol error closed it); also
  /// while a lost connection is being re-established.
  bool is_open() const noexcept;

  /// Why the session ended: empty after a completed close handshake, else
  /// the protocol error, timeout or transport failure that ended it.
  std::error_code error() const noexcept;

  /// The subprotocol the server selected (at the latest upgrade), or empty.
  const std::string& protocol() const noexcept;
  /// The extension negotiated (at the latest upgrade) as upgraded::extensions;
  /// empty when messages are not compressed.
  const std::string& extensions() const noexcept;

  explicit websocket(std::shared_ptr<detail::session> s) noexcept;

 private:
  std::shared_ptr<detail::session> session_;
};

}  // namespace wscoro
