#include "wscoro/error.hpp"

#include <string>

namespace wscoro {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "wscoro"; }

  std::string message(int value) const override {
    switch (static_cast<error>(value)) {
      case error::invalid_url:
        return "invalid URL: expected scheme://host[:port][/target]";
      case error::unsupported_scheme:
        return "unsupported URL scheme: use ws, wss, http or https";
      case error::connect_timeout:
        return "connecting took longer than connect_timeout (DNS and TCP)";
      case error::tls_handshake_timeout:
        return "the TLS handshake took longer than tls_handshake_timeout";
      case error::tls_untrusted_certificate:
        return "TLS: the server's certificate is not signed by a trusted CA (add it with tls_ca_file or tls_context)";
      case error::tls_hostname_mismatch:
        return "TLS: the server's certificate is not valid for the host name or address in the URL";
      case error::tls_certificate_expired:
        return "TLS: the server's certificate has expired or is not yet valid";
      case error::tls_certificate_invalid:
        return "TLS: the server's certificate failed verification";
      case error::tls_ca_file_unreadable:
        return "TLS: tls_ca_file could not be read as PEM certificates";
      case error::tls_over_unix_socket:
        return "TLS over a Unix socket is not supported: use a ws:// or http:// URL with unix_socket_path";
      case error::tls_truncated:
        return "TLS: the server closed the connection without close_notify before the end of a body read until "
               "close; the body may have been cut short and is not accepted";
      case error::invalid_proxy_url:
        return "invalid proxy_url: expected http://[user:password@]host[:port] (https:// proxies are not supported), "
               "and a proxy user name without ':'";
      case error::proxy_with_unix_socket:
        return "proxy_url and unix_socket_path cannot be combined: set one of them";
      case error::proxy_timeout:
        return "the proxy did not answer CONNECT within connect_timeout";
      case error::proxy_refused:
        return "the proxy refused to open a tunnel to the server (its status is in connection::proxy_refusal())";
      case error::proxy_auth_required:
        return "the proxy wants credentials (407): set proxy_username and proxy_password, or check them";
      case error::proxy_closed:
        return "the proxy closed the connection before answering CONNECT";
      case error::proxy_bad_response:
        return "the proxy's answer to CONNECT is not a valid HTTP/1.1 response, or its head is larger than max_header_size";
      case error::invalid_request:
        return "invalid request: method, target, header names and values must not hold CR, LF or NUL, and names must be tokens";
      case error::request_timeout:
        return "the response did not arrive within request_timeout";
      case error::header_too_large:
        return "the response head is larger than max_header_size";
      case error::body_too_large:
        return "the response body is larger than max_body_size";
      case error::bad_response:
        return "the server's answer is not a valid HTTP/1.1 response";
      case error::connection_closed:
        return "the server closed the connection before the response was complete";
      case error::connection_not_open:
        return "the connection is closed; open a new one";
      case error::connection_upgraded:
        return "the connection was upgraded to Websocket and carries no more HTTP requests";
      case error::upgrade_needs_http_1_1:
        return "Websocket upgrade needs HTTP/1.1, but the connection was opened for HTTP/1.0; nothing was sent";
      case error::reserved_upgrade_header:
        return "extra headers may not set Upgrade, Connection, Sec-WebSocket-Key or Sec-WebSocket-Version: ws_upgrade sets them";
      case error::handshake_timeout:
        return "the upgrade response did not arrive within handshake_timeout";
      case error::closed_during_handshake:
        return "the server closed the connection during the Websocket handshake";
      case error::upgrade_header_missing:
        return "the server's 101 response lacks \"Upgrade: websocket\"";
      case error::connection_header_missing:
        return "the server's 101 response lacks \"Connection: Upgrade\"";
      case error::accept_key_missing:
        return "the server's 101 response lacks Sec-WebSocket-Accept";
      case error::accept_key_mismatch:
        return "the server's Sec-WebSocket-Accept does not match the Sec-WebSocket-Key sent";
      case error::unoffered_subprotocol:
        return "the server selected a subprotocol the client did not offer";
      case error::unoffered_extension:
        return "the server selected a Websocket extension the client did not offer";
      case error::duplicate_extension:
        return "the server selected permessage-deflate more than once in Sec-WebSocket-Extensions";
      case error::duplicate_extension_parameter:
        return "the server's permessage-deflate answer repeats a parameter";
      case error::invalid_extension_parameter:
        return "the server's permessage-deflate answer has an unknown parameter or a malformed value (window bits must be 8 to 15)";
      case error::extension_parameter_rejected:
        return "the server chose a permessage-deflate parameter the client did not offer or allow "
               "(try deflate_options::compat, or other window bits)";
      case error::compression_unavailable:
        return "compression was asked for, but wscoro was built without zlib (meson option zlib); nothing was sent";
      case error::reserved_bits_set:
        return "the peer set reserved bits RSV1-3 that no negotiated extension defines (closed with 1002)";
      case error::compressed_control_frame:
        return "the peer set RSV1 (compressed) on a control frame (closed with 1002)";
      case error::compressed_continuation:
        return "the peer set RSV1 (compressed) on a continuation frame (closed with 1002)";
      case error::invalid_compressed_data:
        return "the peer sent a compressed message that is not valid DEFLATE data (closed with 1007)";
      case error::reserved_opcode:
        return "the peer used a reserved opcode (closed with 1002)";
      case error::masked_frame:
        return "the server sent a masked frame (closed with 1002)";
      case error::unmasked_frame:
        return "the client sent an unmasked frame (closed with 1002)";
      case error::non_minimal_length:
        return "the peer encoded a payload length in more bytes than needed (closed with 1002)";
      case error::length_too_large:
        return "the peer declared a payload length with the most significant bit set (closed with 1002)";
      case error::fragmented_control_frame:
        return "the peer fragmented a control frame (closed with 1002)";
      case error::control_frame_too_large:
        return "the peer sent a control frame with more than 125 bytes of payload (closed with 1002)";
      case error::unexpected_continuation:
        return "the peer sent a continuation frame outside a fragmented message (closed with 1002)";
      case error::expected_continuation:
        return "the peer started a new message before finishing a fragmented one (closed with 1002)";
      case error::invalid_close_payload:
        return "the peer sent a close frame with a 1-byte payload (closed with 1002)";
      case error::invalid_close_code:
        return "the peer sent a close code that is not allowed on the wire (closed with 1002)";
      case error::invalid_utf8:
        return "the peer sent a text message that is not valid UTF-8 (closed with 1007)";
      case error::invalid_utf8_close_reason:
        return "the peer sent a close reason that is not valid UTF-8 (closed with 1007)";
      case error::message_too_big:
        return "the peer sent a message larger than max_message_size (closed with 1009)";
      case error::session_ended:
        return "the Websocket session has ended or is closing; nothing more can be sent";
      case error::closing_timeout:
        return "the peer did not answer the close frame within closing_timeout";
      case error::closed_without_handshake:
        return "the peer closed the connection without a Websocket close handshake";
      case error::pong_timeout:
        return "the peer sent nothing within pong_timeout of a keepalive ping; the connection is presumed dead";
      case error::connection_down:
        return "the connection is down and being re-established; nothing was sent (wait for the 'up' event, or set send_waits_while_down)";
      case error::reconnect_refused:
        return "the server refused the Websocket upgrade when reconnecting";
      case error::internal_failure:
        return "an unexpected exception inside wscoro ended the session; this is a bug in wscoro, please report it";
      case error::invalid_frame_to_send:
        return "frame not sent: control payloads are limited to 125 bytes, close reasons to 123, and close codes to those allowed on the wire";
      case error::invalid_utf8_to_send:
        return "frame not sent: text frames and close reasons must be valid UTF-8";
    }
    return "unknown wscoro error " + std::to_string(value);
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace wscoro
