// wscoro's error codes: every failure the library detects itself has a name
// here and a message that says what happened and what to check.
// Failures reported by the operating system or OpenSSL keep their own
// categories (asio::error, asio::ssl::error).
#pragma once

#include <system_error>

namespace wscoro {

enum class error {
  // Opening a connection.
  invalid_url = 1,           ///< The URL could not be parsed.
  unsupported_scheme,        ///< The URL's scheme is not ws, wss, http, https or ws+unix.
  connect_timeout,           ///< DNS resolution and TCP connect took longer than connect_timeout.
  tls_handshake_timeout,     ///< The TLS handshake took longer than tls_handshake_timeout.
  tls_untrusted_certificate, ///< The server's certificate does not chain to a trusted CA.
  tls_hostname_mismatch,     ///< The server's certificate is not valid for the host name or address connected to.
  tls_certificate_expired,   ///< The server's certificate (or one in its chain) has expired or is not yet valid.
  tls_certificate_invalid,   ///< The server's certificate failed verification for another reason.
  tls_ca_file_unreadable,    ///< connection_options::tls_ca_file could not be loaded.
  tls_over_unix_socket,      ///< A wss:// or https:// URL with unix_socket_path: TLS over Unix sockets is not supported.
  tls_truncated,             ///< The server ended TCP without TLS close_notify while a body was read until it closed: the body may be cut short.

  // Tunnelling through an HTTP proxy (connection_options::proxy_url).
  invalid_proxy_url,         ///< proxy_url could not be parsed, is not http://, or the proxy user name holds a ':'.
  proxy_with_unix_socket,    ///< Both proxy_url and unix_socket_path were set.
  proxy_timeout,             ///< The proxy did not answer CONNECT within connect_timeout.
  proxy_refused,             ///< The proxy answered CONNECT with a status other than 2xx (see connection::proxy_refusal()).
  proxy_auth_required,       ///< The proxy answered CONNECT with 407: credentials missing or wrong.
  proxy_closed,              ///< The proxy closed the connection before answering CONNECT.
  proxy_bad_response,        ///< The proxy's answer to CONNECT is not valid HTTP/1.1, or its head exceeds max_header_size.

  // HTTP/1.1.
  invalid_request,           ///< A method, target, header name or value holds characters HTTP does not allow.
  request_timeout,           ///< A request's response did not arrive within request_timeout.
  header_too_large,          ///< The response head exceeds max_header_size.
  body_too_large,            ///< The response body exceeds max_body_size.
  bad_response,              ///< The server's bytes are not a valid HTTP/1.1 response.
  connection_closed,         ///< The server closed the connection before a complete response.
  connection_not_open,       ///< The connection is closed (by a Connection: close response, or close()).
  connection_upgraded,       ///< The connection was upgraded to Websocket; it carries no more HTTP.

  // The Websocket upgrade.
  upgrade_needs_http_1_1,       ///< ws_upgrade was asked on an HTTP/1.0 connection; nothing was sent.
  reserved_upgrade_header,      ///< Extra headers tried to set a header the upgrade sets itself.
  handshake_timeout,            ///< The upgrade response did not arrive within handshake_timeout.
  closed_during_handshake,      ///< The server closed the connection before the upgrade response was complete.
  upgrade_header_missing,       ///< A 101 response without "Upgrade: websocket".
  connection_header_missing,    ///< A 101 response without "Connection: Upgrade".
  accept_key_missing,           ///< A 101 response without Sec-WebSocket-Accept.
  accept_key_mismatch,          ///< Sec-WebSocket-Accept is not the one our key asks for.
  unoffered_subprotocol,        ///< The server selected a subprotocol the client did not offer.
  unoffered_extension,          ///< The server selected an extension the client did not offer.
  duplicate_extension,          ///< The server selected permessage-deflate more than once.
  duplicate_extension_parameter,  ///< A permessage-deflate parameter appears twice in the server's answer.
  invalid_extension_parameter,  ///< A permessage-deflate parameter is unknown, or its value is malformed (window bits must be 8..15).
  extension_parameter_rejected, ///< The server chose a permessage-deflate parameter the client did not offer or allow.
  compression_unavailable,      ///< websocket_options::compress was set, but wscoro was built without zlib; nothing was sent.

  // Frames received from the peer (each closes the session with the RFC 6455 code in brackets).
  reserved_bits_set,            ///< [1002] RSV1-3 set without an extension that defines them.
  compressed_control_frame,     ///< [1002] RSV1 (compressed) on a control frame.
  compressed_continuation,      ///< [1002] RSV1 (compressed) on a continuation frame: only a message's first frame carries it.
  invalid_compressed_data,      ///< [1007] A compressed message that is not valid DEFLATE data.
  reserved_opcode,              ///< [1002] An opcode RFC 6455 reserves.
  masked_frame,                 ///< [1002] A server sent a masked frame.
  unmasked_frame,               ///< [1002] A client sent an unmasked frame (server role).
  non_minimal_length,           ///< [1002] A payload length not in its shortest encoding.
  length_too_large,             ///< [1002] A 64-bit payload length with its most significant bit set.
  fragmented_control_frame,     ///< [1002] A control frame without FIN.
  control_frame_too_large,      ///< [1002] A control frame with more than 125 bytes of payload.
  unexpected_continuation,      ///< [1002] A continuation frame with no message to continue.
  expected_continuation,        ///< [1002] A new text or binary frame inside an unfinished message.
  invalid_close_payload,        ///< [1002] A close frame with a 1-byte payload.
  invalid_close_code,           ///< [1002] A close frame with a code RFC 6455 does not allow on the wire.
  invalid_utf8,                 ///< [1007] A text message that is not valid UTF-8.
  invalid_utf8_close_reason,    ///< [1007] A close reason that is not valid UTF-8.
  message_too_big,              ///< [1009] A message larger than max_message_size.

  // The Websocket session.
  session_ended,             ///< The session has ended; nothing more can be sent.
  closing_timeout,           ///< The peer did not complete the close handshake within closing_timeout.
  closed_without_handshake,  ///< The peer closed the connection without a close handshake.
  pong_timeout,              ///< A keepalive ping got no answer within pong_timeout: the peer is presumed dead.
  connection_down,           ///< The connection is down and being re-established (retry policy); nothing was sent.
  reconnect_refused,         ///< On reconnecting, the server refused the upgrade.
  internal_failure,          ///< An unexpected exception inside wscoro ended the session (a bug: please report it).

  // Frames the user asked to send.
  invalid_frame_to_send,     ///< A control frame over 125 bytes, a close code not allowed on the wire, or a close reason too long.
  invalid_utf8_to_send,      ///< A text frame or close reason that is not valid UTF-8.
};

/// The category of wscoro::error; its name() is "wscoro".
const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace wscoro

template <>
struct std::is_error_code_enum<wscoro::error> : std::true_type {};
