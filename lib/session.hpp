// The Asio driver under a websocket: it feeds a ws::session_core (every
// policy lives there) from the connection it runs on, and does nothing the
// core does not ask for: one read while the core wants to read, one write
// while the core has bytes to write, one timer at the core's next deadline,
// a reconnect attempt when the core wants one, and it wakes the coroutines
// waiting on the session when what they wait for may have changed.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/steady_timer.hpp>
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
#include "net/transport.hpp"
#include "waiter_list.hpp"
#include "ws/session_core.hpp"

namespace wscoro::detail {

class session : public std::enable_shared_from_this<session> {
 public:
  /// `first`: the upgraded connection and what its 101 agreed. With a
  /// plan, an unexpected loss is followed by reconnect attempts.
  session(std::unique_ptr<net::transport> transport, ws::session_link first, websocket_options options,
          std::unique_ptr<reconnect_plan> plan);
  ~session();

  /// Reports to `t` (see wscoro/trace.hpp) from now on; before start().
  void trace_with(std::shared_ptr<tracer> t);

  /// Starts reading (and writing, and timing) the connection.
  void start();

  /// The next received event, if one is waiting. With none waiting after a
  /// protocol violation, this is when its close goes out.
  std::optional<event> try_receive();
  /// Completes when an event may have arrived or the session ended (the
  /// caller calls try_receive again); a cancelled wait throws
  /// std::system_error(operation_aborted). Not a coroutine of its own, so
  /// that a waiting receive() holds one frame, not two. A wait woken at the
  /// moment it is cancelled completes normally: the caller checks its
  /// cancellation state before taking anything.
  auto wait_for_event() { return event_waiters_.async_wait(asio::use_awaitable); }
  /// Queues the batch (see websocket::send). A send cancelled while it waits
  /// for room fails with operation_aborted and has queued nothing. The
  /// caller awaits it at once, from a coroutine that owns the frames.
  asio::awaitable<void> send(std::span<frame> batch, std::error_code& ec);
  /// Waits until everything queued so far has been written to the
  /// connection, or the session went down or ended (its reason in `ec`).
  asio::awaitable<void> flush(std::error_code& ec);
  asio::awaitable<void> close(close_frame f, std::error_code& ec);

  /// The websocket handle is gone: end the session without a handshake.
  void abandon() noexcept;

  bool is_open() const noexcept { return !core_.ended(); }
  std::error_code error() const noexcept { return core_.end_reason(); }
  const std::string& protocol() const noexcept { return core_.protocol(); }
  const std::string& extensions() const noexcept { return core_.extensions(); }
  const asio::any_io_executor& get_executor() const noexcept { return executor_; }

 private:
  /// One connection the session runs on. Completions hold it, and act only
  /// while it is still the session's current link: a reconnect makes a new
  /// one, and the old one's late completions find themselves retired.
  struct link {
    explicit link(std::unique_ptr<net::transport> t) noexcept : transport(std::move(t)) {}
    std::unique_ptr<net::transport> transport;
    bool reading = false;
    bool writing = false;
    bool peer_closed = false;  // its read ended: EOF, or TLS cut without close_notify
  };
  class trace_observer;

  /// After every input to the core: starts what it asks for and wakes the
  /// waiters whose condition may have changed.
  void drive(waiter_list::resume how = waiter_list::resume::later);
  void start_read();
  void on_read(const std::shared_ptr<link>& l, std::error_code ec, std::size_t n);
  void start_write(std::span<const std::string_view> pieces);
  void on_written(const std::shared_ptr<link>& l, std::error_code ec);
  void arm_timer();
  void on_timer(std::error_code ec);
  /// One reconnect attempt (the core counts and traces attempts).
  asio::awaitable<void> reconnect();
  /// Closes the current link's transport at once (a down, an abandon).
  void retire_link() noexcept;
  /// The session ended: over TLS, close_notify before TCP (see the README's
  /// Close), unless it was abandoned.
  void end_link() noexcept;
  /// Runs `f`, an input to the core; an exception ends the session with a
  /// reason rather than escaping into the user's io_context::run().
  template <class F>
  void guarded(F&& f) noexcept;

  asio::any_io_executor executor_;
  ws::session_core core_;
  std::unique_ptr<reconnect_plan> plan_;  // null: never reconnects
  std::shared_ptr<tracer> tracer_;        // null: tracing off
  std::unique_ptr<trace_observer> observer_;
  std::shared_ptr<link> link_;            // null while down and once ended
  std::chrono::milliseconds closing_timeout_;  // bounds the TLS close_notify exchange
  bool abandoned_ = false;

  asio::steady_timer timer_;                            // at the core's next deadline
  std::optional<ws::session_core::time_point> timer_at_;  // when it is armed to fire
  ws::session_phase phase_seen_ = ws::session_phase::open;  // at the last drive()
  asio::cancellation_signal stop_reconnect_;
  bool reconnecting_ = false;

  std::vector<asio::const_buffer> gather_;
  waiter_list event_waiters_;
  waiter_list send_waiters_;   // room to send, a change of phase, the end
  waiter_list flush_waiters_;  // a write completed, a down, the end
  waiter_list end_waiters_;
};

}  // namespace wscoro::detail
