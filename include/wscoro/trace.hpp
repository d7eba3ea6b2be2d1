// A tracing hook (Gun's event_handler): observe what a connection and its
// websocket do, with timings, without changing it.
//
//   struct printer : wscoro::tracer {
//     void frame_received(time_point, const wscoro::frame& f) override { ... }
//   };
//   wscoro::connection_options options;
//   options.tracer = std::make_shared<printer>();
//
// Off by default: with no tracer set, each trace point costs one test of a
// null pointer, takes no clock reading and allocates nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>
#include <system_error>

#include "wscoro/frame.hpp"
#include "wscoro/http.hpp"

namespace wscoro {

/// How an upgrade handshake ended (see connection::ws_upgrade).
enum class upgrade_outcome { upgraded, refused, failed };

/// Override the hooks you want; the others do nothing. Every hook gets the
/// steady_clock time at which the event happened; an "end" hook also gets
/// how long it took since its "start". Hooks run on the connection's
/// executor, inside wscoro's own operations: keep them short, do not throw,
/// and do not call back into the connection or websocket.
///
/// One tracer set in connection_options follows that connection, the
/// websocket it is upgraded to, and every reconnection of that websocket.
class tracer {
 public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;
  using duration = clock::duration;

  virtual ~tracer() = default;

  /// Resolving and connecting to host:port begins: the server's, or the
  /// proxy's when there is one; for a Unix socket, its path and port 0.
  virtual void connect_start(time_point, std::string_view /*host*/, std::uint16_t /*port*/) {}
  /// The TCP or Unix socket connect ended; `ec` is empty on success.
  virtual void connect_end(time_point, std::error_code /*ec*/, duration) {}

  /// `CONNECT host:port` (the server's) is sent to the proxy.
  virtual void tunnel_start(time_point, std::string_view /*host*/, std::uint16_t /*port*/) {}
  /// The proxy's answer: its status (0 when none arrived) and the error,
  /// empty when the tunnel is open.
  virtual void tunnel_end(time_point, unsigned /*status*/, std::error_code /*ec*/, duration) {}

  /// The TLS handshake with the server begins.
  virtual void tls_handshake_start(time_point, std::string_view /*host*/) {}
  virtual void tls_handshake_end(time_point, std::error_code /*ec*/, duration) {}

  /// A request (the upgrade request too) is about to be written.
  virtual void request_sent(time_point, const request&) {}
  /// Its response: the whole response, or only the head of a 101. On
  /// failure `ec` says why and the response holds what was parsed.
  virtual void response_received(time_point, const response&, std::error_code /*ec*/, duration) {}

  /// An upgrade handshake ended: the subprotocol selected when upgraded;
  /// the error when failed (a refusal's response went to response_received).
  virtual void upgrade_end(time_point, upgrade_outcome, std::string_view /*protocol*/, std::error_code /*ec*/,
                           duration) {}

  /// A frame is queued for sending (frames leave in the order queued); a
  /// close frame among them is the close we send.
  virtual void frame_sent(time_point, const frame&) {}
  /// A frame arrived: a whole message once its fragments are reassembled,
  /// or a control frame (a close_frame is the peer's close).
  virtual void frame_received(time_point, const frame&) {}

  /// The connection under the websocket was lost; a reconnect follows.
  virtual void session_down(time_point, std::error_code /*reason*/) {}
  /// Reconnect attempt number `attempt` (from 1) begins.
  virtual void reconnect_attempt(time_point, unsigned /*attempt*/) {}
  /// The websocket is upgraded again after a down.
  virtual void session_up(time_point, std::string_view /*protocol*/) {}
  /// The websocket session ended for good; `reason` is empty after a clean
  /// close handshake.
  virtual void disconnected(time_point, std::error_code /*reason*/) {}
};

}  // namespace wscoro
