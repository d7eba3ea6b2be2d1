// The engine under a websocket: a reader loop that decodes frames into a
// bounded queue, a writer that sends every queued frame in one write,
// the close handshake with its timeout, keepalive pings, and the reconnect
// after an unexpected loss.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "wscoro/event.hpp"
#include "wscoro/options.hpp"
#include "wscoro/trace.hpp"
#include "connection_state.hpp"
#include "event_queue.hpp"
#include "net/transport.hpp"
#include "notifier.hpp"
#include "ws/decoder.hpp"
#include "ws/encoder.hpp"

namespace wscoro::detail {

/// What one send() queues, a frame or a batch, owned by that send: its
/// coroutine runs when awaited, after the caller's arguments may be gone.
class outgoing_frames {
 public:
  explicit outgoing_frames(frame f) : one_(std::move(f)), single_(true) {}
  explicit outgoing_frames(std::vector<frame> batch) : many_(std::move(batch)) {}
  std::span<frame> frames() noexcept { return single_ ? std::span<frame>(&one_, 1) : std::span<frame>(many_); }

 private:
  frame one_;
  std::vector<frame> many_;
  bool single_ = false;
};

class session : public std::enable_shared_from_this<session> {
 public:
  /// `received` holds bytes that arrived after the 101 response. With a
  /// plan, an unexpected loss is followed by reconnect attempts.
  /// `deflate`: the permessage-deflate parameters agreed, when they were.
  session(std::unique_ptr<net::transport> transport, std::string received, websocket_options options,
          std::string protocol, std::optional<ws::deflate_parameters> deflate,
          std::unique_ptr<reconnect_plan> plan);

  /// Reports to `t` (see wscoro/trace.hpp) from now on; before start().
  void trace_with(std::shared_ptr<tracer> t) noexcept { tracer_ = std::move(t); }

  /// Starts the reader, writer and keepalive loops.
  void start();

  /// The next received event, if one is waiting. With none waiting after a
  /// protocol violation, this is when its close goes out.
  std::optional<event> try_receive();
  /// Completes when an event may have arrived or the session ended (the
  /// caller calls try_receive again). Not a coroutine of its own, so that a
  /// waiting receive() holds one frame, not two.
  asio::awaitable<void> wait_for_event() { return inbox_filled_.wait(); }
  asio::awaitable<void> send(outgoing_frames outgoing, std::error_code& ec);
  asio::awaitable<void> close(close_frame f, std::error_code& ec);

  /// The websocket handle is gone: end the session without a handshake.
  void abandon() noexcept;

  bool is_open() const noexcept { return phase_ != phase::ended; }
  std::error_code error() const noexcept { return end_reason_; }
  const std::string& protocol() const noexcept { return protocol_; }
  const std::string& extensions() const noexcept { return extensions_; }
  const asio::any_io_executor& get_executor() const noexcept { return executor_; }

 private:
  enum class phase {
    open,     // frames flow both ways
    closing,  // a close frame is queued or sent, or the peer's arrived: no more sends
    down,     // lost unexpectedly; the retry policy is reconnecting
    ended,    // over for good
  };

  // Each connection the session runs on is one generation; loops of an
  // earlier generation stop when they see a newer one.
  asio::awaitable<void> read_loop(unsigned generation);
  asio::awaitable<void> keepalive_loop(unsigned generation);
  asio::awaitable<void> reconnect_loop();
  void spawn_loops();
  void adopt(std::unique_ptr<net::transport> transport, std::string received, connection_state::switched done);
  /// Starts reading anew from `received`, the bytes that followed a 101.
  void reset_read_buffer(std::string received);
  /// A decoder and encoder for a new connection, compressing as agreed.
  void reset_codecs(const std::optional<ws::deflate_parameters>& deflate);

  void on_frame(frame f);
  void on_protocol_error(std::error_code ec);
  void fail_connection();
  void on_read_error(std::error_code ec);
  void lose(std::error_code reason);
  /// Encodes a frame into the outbox; flush() sends it.
  void queue_frame(const frame& f);
  /// The same for a frame the session may take apart: a large payload is
  /// masked in its own string and written from there.
  void queue_frame(frame&& f);
  /// Writes everything queued, unless a write is under way (its completion
  /// writes what came meanwhile): no writer coroutine waits between
  /// messages, and the frames of one batch or one read go out together.
  void flush();
  /// Forgets the frames not yet handed to a write (a lost connection's).
  void drop_outbox() noexcept;
  void start_write();
  void on_written(unsigned generation, std::error_code ec);
  void queue_close(const close_frame& f);
  void deliver(event e);
  /// How the connection under an ending session is closed: politely (TLS
  /// close_notify first), or at once when the websocket is abandoned.
  enum class ending { graceful, abort };
  void end(std::error_code reason, ending how = ending::graceful) noexcept;
  bool receive_queue_full() const noexcept;
  asio::steady_timer& timer(std::unique_ptr<asio::steady_timer>& slot);
  static void cancel(const std::unique_ptr<asio::steady_timer>& slot) noexcept;

  asio::any_io_executor executor_;
  std::unique_ptr<net::transport> transport_;
  websocket_options options_;
  std::string protocol_;
  std::string extensions_;
  std::unique_ptr<reconnect_plan> plan_;  // null: never reconnects
  std::shared_ptr<tracer> tracer_;  // null: tracing off
  ws::decoder decoder_;
  ws::encoder encoder_;

  phase phase_ = phase::open;
  unsigned generation_ = 0;
  bool close_queued_ = false;
  bool close_received_ = false;
  bool failing_ = false;  // a protocol violation arrived; its close waits until earlier frames are consumed
  bool peer_closed_ = false;  // this connection's read side reached the end of the stream
  std::error_code end_reason_;
  std::error_code down_reason_;
  // Made when first needed: an idle connection without keepalive or retry
  // configured should not carry timers it never uses.
  std::unique_ptr<asio::steady_timer> closing_timer_;
  std::unique_ptr<asio::steady_timer> keepalive_timer_;
  std::unique_ptr<asio::steady_timer> retry_timer_;
  std::chrono::steady_clock::time_point last_received_;

  std::string read_buffer_;
  std::size_t read_begin_ = 0;
  std::size_t read_end_ = 0;

  event_queue inbox_;
  std::size_t inbox_bytes_ = 0;
  notifier inbox_filled_;
  notifier inbox_drained_;

  std::string outbox_;   // encoded frames waiting for the writer
  std::size_t outbox_frames_ = 0;
  // A large payload, written from its own string right after the bytes of
  // the outbox before `at` (a gathered write instead of a copy).
  struct spliced_payload {
    std::size_t at;
    std::string data;
  };
  std::vector<spliced_payload> outbox_payloads_;
  std::size_t outbox_payload_bytes_ = 0;
  std::string writing_;  // the batch being written; empty when no write is under way
  std::vector<spliced_payload> writing_payloads_;
  std::vector<asio::const_buffer> gather_;
  std::size_t writing_frames_ = 0;
  notifier outbox_drained_;  // also: the session went up, down, or ended
  notifier ended_;
};

}  // namespace wscoro::detail
