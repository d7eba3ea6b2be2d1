// The Websocket session as a state machine with no I/O and no clock (the
// shape of quinn-proto's Connection and wsproto's Connection): bytes
// received, the current time, write completions and the user's intents go
// in; bytes to write, events to deliver, the next deadline and whether it
// wants to read come out. Every session policy lives here and only here:
// the close handshake, keepalive and the pong deadline, pong coalescing,
// protocol violations, the receive and send limits, the per-phase
// deadlines, and the reconnect policy. A driver (lib/session.cpp) feeds it
// from a transport, arms one timer at next_deadline(), and after every call
// re-checks the queries to wake its waiters.
//
// Phases (session_phase) and what moves between them:
//
//   from            on                                             to
//   open            user close(), or a send ending in a close      closing
//   open            the peer's close (its code echoed)             close_received
//   open            a protocol violation decoded                   failing
//   open            EOF, read or write error, pong deadline        down (reconnect allowed) or ended
//   failing         poll_event() finds no event left before the    closing (close 1002/1007/1009 queued)
//                   violation, or the failing deadline
//   failing         user close()                                   closing (the user's close queued)
//   failing         EOF, read or write error                       ended (the violation)
//   closing         the peer's close, ours written                 closed
//   closing         the peer's close, ours not yet written         close_received
//   closing         a violation and our close written (either      ended (the violation): failing the
//                   order)                                         connection ends TCP once our close is out
//   closing         the closing deadline                           ended (closing_timeout, or the violation)
//   closing         EOF, read or write error                       ended (closed_without_handshake, the error
//                                                                  or the violation)
//   close_received  our close written                              closed
//   close_received, closed: EOF, read or write error, or the closing deadline: ended (no error)
//   down            retry deadline (the receive queue not full,    down (an attempt is wanted: poll_reconnect())
//                   else at the next poll_event() that makes room)
//   down            on_reconnected()                               open (an `up` event queued)
//   down            on_reconnect_failed(), attempts left           down (waiting for the next retry deadline)
//   down            on_reconnect_failed(), none left               ended (that failure)
//   down            user close()                                   ended (the reason of the down)
//   any but ended   abandon()                                      ended (error::session_ended)
//
// Nothing is ever written after our close frame; a reconnect only follows a
// loss in `open`, so never after the user's close, a close frame either
// way, or a violation.
//
// The driver's loop, after every call into the core:
//   - phase down or ended: close the transport (its pending read and write
//     complete later and must be ignored: lib/session.cpp's completions
//     hold the link they belong to and act only while it is current);
//   - no write in flight: start one with next_write(), if it gives pieces;
//   - no read pending and wants_read(): start one into read_space();
//   - poll_reconnect(): start that attempt;
//   - re-arm the one timer at next_deadline() (on expiry: on_timeout(now));
//   - wake receivers when has_event() or ended(), senders when can_send()
//     or the phase is no longer open/failing/down, close() when ended()
//     (or, if it prefers, handshake_done()).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "wscoro/error.hpp"
#include "wscoro/event.hpp"
#include "wscoro/frame.hpp"
#include "wscoro/http.hpp"
#include "wscoro/options.hpp"
#include "event_queue.hpp"
#include "ws/decoder.hpp"
#include "ws/deflate_negotiation.hpp"
#include "ws/encoder.hpp"

namespace wscoro::ws {

enum class session_phase {
  open,            ///< Frames flow both ways.
  failing,         ///< A violation was decoded; the frames before it are still being delivered.
  closing,         ///< Our close is queued or sent; the peer's has not come.
  close_received,  ///< The peer's close came; ours (or its echo) is not written yet.
  closed,          ///< Close frames went both ways; waiting for the peer to end TCP.
  down,            ///< Lost unexpectedly; the retry policy is reconnecting.
  ended,           ///< Over for good; end_reason() says why.
};

/// The keepalive's own state, in `open` only (off in every other phase).
enum class keepalive_phase {
  off,            ///< No keepalive configured, or not in `open`.
  quiet,          ///< Waiting for `keepalive` of receive silence.
  awaiting_pong,  ///< Pinged and nothing received since the first unanswered ping.
  paused,         ///< Reading is paused by our own backpressure: no liveness check runs.
};

/// The payload of our keepalive pings; a pong carrying it is not delivered.
inline constexpr std::string_view keepalive_payload = "wscoro-keepalive";

/// A connection the session runs on: the first one, or one re-established
/// after a down.
struct session_link {
  std::string protocol;                       ///< The subprotocol the server selected.
  fields headers;                             ///< The 101 response's headers (for the `up` event).
  std::optional<deflate_parameters> deflate;  ///< permessage-deflate, when agreed.
  std::string received;                       ///< Bytes that arrived after the 101.
};

/// What the driver may report to its tracer. Hooks run inside core calls;
/// with no observer set each trace point is one test of a null pointer.
class session_observer {
 public:
  virtual ~session_observer() = default;
  virtual void frame_sent(const frame&) {}
  virtual void frame_received(const frame&) {}
  virtual void went_down(std::error_code /*reason*/) {}
  virtual void reconnect_attempt(unsigned /*attempt, from 1*/) {}
  virtual void came_up(std::string_view /*protocol*/) {}
  virtual void ended(std::error_code /*reason*/) {}
};

/// What the session holds in memory, for its bounds to be checked.
struct session_footprint {
  std::size_t queued_events = 0;       ///< Events waiting for poll_event().
  std::size_t queued_event_bytes = 0;  ///< Their payload bytes.
  std::size_t pending_write_bytes = 0; ///< Encoded frames not yet handed to a write.
  std::size_t writing_bytes = 0;       ///< The write in flight.
  std::size_t read_buffer_bytes = 0;   ///< The read buffer's size.
};

class session_core {
 public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  /// `may_reconnect`: an unexpected loss in `open` goes `down` and is
  /// retried as options.retry says (with retry.attempts > 0). `random_unit`
  /// gives numbers in [0, 1] for the retry jitter; without it there is none.
  session_core(const websocket_options& options, session_link first, bool may_reconnect, time_point now,
               std::function<double()> random_unit = {});

  /// Reports to `o` from now on (null: no reports). Not owned.
  void observe_with(session_observer* o) noexcept { observer_ = o; }

  /// Decodes the bytes that came right behind the first 101 (once, after
  /// observe_with, so that their frames are reported too).
  void start(time_point now) { process_input(now); }

  // ---- Reading ----

  /// True when the driver should have a read under way: in `open` unless
  /// the receive queue is full (backpressure), and in every closing phase
  /// whatever the queue holds (after our close a full queue must not hide
  /// the peer's close; after close frames both ways or a violation, bytes
  /// are read only to see the peer end TCP, and are discarded). False while
  /// `down` and once ended.
  bool wants_read() const noexcept;
  /// Where the next read goes: the read buffer's free tail, or for a large
  /// payload still to come, the message itself (no copy). Valid until the
  /// read's outcome is reported with on_read() or on_read_end(), which must
  /// follow before read_space() is asked again.
  std::span<char> read_space();
  /// `n` bytes (n > 0) arrived at the start of read_space().
  void on_read(std::size_t n, time_point now);
  /// The read ended: `eof` when the peer ended TCP, else `ec` says why.
  void on_read_end(bool eof, std::error_code ec, time_point now);

  // ---- Writing ----

  /// The pieces of the next write (written in order as one gathered
  /// write), or none when nothing is to be written now. Taking them puts
  /// the write in flight: one at a time, and everything queued meanwhile
  /// goes in the next one. The pieces stay valid until on_written(), or
  /// until a down or the end (the driver closes the transport first).
  std::span<const std::string_view> next_write();
  /// The write in flight ended.
  void on_written(std::error_code ec, time_point now);

  // ---- The user's intents ----

  /// Queues a batch of frames, validated as ws::encoder::validate does; a
  /// close frame may only end the batch, and is a deliberate close. Text
  /// and binary payloads are moved from. Errors: error::session_ended once
  /// a close is queued or the session ended; error::connection_down while
  /// down (unless send_waits_while_down); the validation errors; and
  /// std::errc::operation_would_block when the driver must wait and try
  /// again (can_send() tells when): the pending writes hold
  /// send_queue_bytes or more, or the session is down with
  /// send_waits_while_down set. Nothing is queued when an error is returned.
  std::error_code send(std::span<frame> batch, time_point now);
  /// Starts the close handshake with `f` (validated first). While down the
  /// session ends at once with the reason of the down; once a close is
  /// queued or the session ended, nothing happens.
  ///
  /// After close(), reading goes on whatever the receive queue holds, so
  /// that the peer's close is seen at once. A data, ping or pong frame that
  /// arrives then and finds the receive queue full is dropped and counted
  /// (dropped_frames()); the peer's close frame is always queued. Pings
  /// that arrive after close() get no pong: nothing follows our close.
  std::error_code close(const close_frame& f, time_point now);
  /// The application is gone (or, with another reason, the driver cannot go
  /// on): the session ends at once.
  void abandon(std::error_code reason = error::session_ended) noexcept;

  // ---- Events ----

  bool has_event() const noexcept { return !inbox_.empty(); }
  /// The next event, in the order received (frames, `down`, `up`). Popping
  /// may resume reading (from `now` on, the keepalive counts again). After a
  /// violation, the first call that finds no event left sends the close.
  std::optional<event> poll_event(time_point now);

  // ---- Time ----

  /// The earliest deadline: closing, failing, keepalive ping, pong, retry.
  std::optional<time_point> next_deadline() const noexcept;
  /// Acts on every deadline at or before `now`.
  void on_timeout(time_point now);

  // ---- Reconnecting ----

  /// The number (from 1) of a reconnect attempt the driver should start
  /// now, once: it then reports on_reconnected() or on_reconnect_failed().
  /// An attempt whose retry delay passed while the receive queue was full
  /// waits for poll_event() to make room: the application is not reading
  /// anyway, and a flapping connection cannot pile up down/up events.
  std::optional<unsigned> poll_reconnect() noexcept;
  /// The attempt succeeded: the session runs on the new connection (the
  /// codecs and the read buffer start anew). False when the session no
  /// longer wants it (it ended meanwhile): the driver drops the connection.
  bool on_reconnected(session_link link, time_point now);
  /// The attempt failed (a refusal is error::reconnect_refused).
  void on_reconnect_failed(std::error_code ec, time_point now);

  // ---- Queries ----

  session_phase phase() const noexcept { return phase_; }
  keepalive_phase keepalive_state() const noexcept { return keepalive_; }
  bool ended() const noexcept { return phase_ == session_phase::ended; }
  /// Empty after a clean close handshake.
  std::error_code end_reason() const noexcept { return end_reason_; }
  /// While down: why the connection was lost.
  std::error_code down_reason() const noexcept { return down_reason_; }
  /// True when send() would queue now rather than answer "would block".
  bool can_send() const noexcept;
  /// Our close frame is written and the peer's received.
  bool handshake_done() const noexcept { return phase_ == session_phase::closed; }
  /// A new number for each connection the session runs on, so that the
  /// driver can ignore completions of a connection since lost.
  unsigned link_number() const noexcept { return link_number_; }
  const std::string& protocol() const noexcept { return protocol_; }
  const std::string& extensions() const noexcept { return extensions_; }
  /// Frames dropped after close() because the receive queue was full.
  std::size_t dropped_frames() const noexcept { return dropped_frames_; }
  session_footprint footprint() const noexcept;

 private:
  enum class close_progress { not_queued, queued, writing, written };
  // waiting: for the retry deadline; waiting_for_room: the deadline passed
  // with the receive queue full, and the attempt waits for the application
  // to read (so that a flapping connection cannot pile up down/up events).
  enum class reconnect_step { none, waiting, waiting_for_room, wanted, attempting };

  struct spliced_payload {
    std::size_t at;  // written right after the outbox bytes before `at`
    std::string data;
  };

  void start_link(session_link&& link, time_point now);
  void reset_codecs(const std::optional<deflate_parameters>& deflate);
  void process_input(time_point now);
  void on_frame(frame&& f, time_point now);
  void on_violation(std::error_code ec, time_point now);
  void fail_connection(time_point now);
  void queue_close(const close_frame& f, time_point now);
  void queue_user_frame(frame&& f);
  void deliver(event&& e);
  /// Delivers, or after our close drops what finds the queue full.
  void deliver_or_drop(event&& e);
  bool receive_queue_full() const noexcept;
  bool reading_paused() const noexcept;
  /// Keepalive from `now` on: quiet, or paused while the queue is full.
  void restart_keepalive(time_point now);
  void stop_keepalive() noexcept;
  void keepalive_heard(time_point now);
  void lose(std::error_code reason, time_point now);
  void end(std::error_code reason) noexcept;
  void arm_retry(time_point now);
  void after_close_written();
  /// Forgets the frames not yet handed to a write.
  void drop_pending_writes() noexcept;
  /// The same, and the write in flight too (a lost connection's).
  void drop_writes() noexcept;
  std::size_t pending_write_bytes() const noexcept;
  void encode_pending_control_frames();
  void queue_pong(std::string_view payload);
  void encode_pending_pong();

  websocket_options options_;
  bool may_reconnect_;
  std::function<double()> random_unit_;
  session_observer* observer_ = nullptr;

  session_phase phase_ = session_phase::open;
  keepalive_phase keepalive_ = keepalive_phase::off;
  close_progress our_close_ = close_progress::not_queued;
  reconnect_step reconnect_ = reconnect_step::none;
  std::error_code end_reason_;
  std::error_code violation_;    // the protocol violation decoded, if any
  std::error_code down_reason_;  // the last loss that went down
  bool peer_close_received_ = false;
  unsigned link_number_ = 0;
  std::string protocol_;
  std::string extensions_;

  // One deadline per purpose; next_deadline() is the earliest set.
  std::optional<time_point> closing_deadline_;
  std::optional<time_point> failing_deadline_;
  std::optional<time_point> ping_deadline_;
  std::optional<time_point> pong_deadline_;
  std::optional<time_point> retry_deadline_;
  unsigned attempts_made_ = 0;
  std::chrono::duration<double, std::milli> retry_delay_{0};

  decoder decoder_;
  encoder encoder_;
  std::string read_buffer_;
  std::size_t read_begin_ = 0;
  std::size_t read_end_ = 0;
  bool reading_into_message_ = false;  // read_space() gave the decoder's payload space
  bool payload_committed_ = false;     // decode() must run once with no input to finish that frame

  detail::event_queue inbox_;
  std::size_t inbox_bytes_ = 0;
  std::size_t dropped_frames_ = 0;

  // Frames queued but not handed to a write. Control frames the session
  // makes itself wait beside them, one of each at most, and are encoded
  // when the write is taken: a newer ping's pong replaces an older one
  // (RFC 6455 5.5.3), and our close always goes last.
  std::string outbox_;
  std::vector<spliced_payload> outbox_payloads_;
  std::size_t outbox_payload_bytes_ = 0;
  std::size_t outbox_user_frames_ = 0;
  bool pong_pending_ = false;
  std::size_t outbox_pong_bytes_ = 0;  // pongs encoded into the outbox, see pong_burst_bytes
  std::string pong_payload_;  // keeps its capacity from one pong to the next
  bool keepalive_ping_pending_ = false;
  std::optional<close_frame> pending_close_;

  bool write_in_flight_ = false;
  std::string writing_;
  std::vector<spliced_payload> writing_payloads_;
  std::size_t writing_payload_bytes_ = 0;
  std::size_t writing_user_frames_ = 0;
  std::vector<std::string_view> write_pieces_;
};

}  // namespace wscoro::ws
