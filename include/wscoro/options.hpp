// Every option wscoro takes, with its default at the declaration.
//
// The option structs declare a default constructor, so they are not
// aggregates: GCC 12 miscompiles aggregate temporaries that hold strings
// when they are built inside a co_await expression (a double free), and
// `co_await conn.ws_upgrade("/", {}, {})` must be safe. Set fields by name:
//
//   wscoro::websocket_options options;
//   options.protocols = {"chat"};
//   options.silence_pings = true;
//   auto result = co_await conn.ws_upgrade("/chat", {}, options);
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace asio::ssl {
class context;
}

namespace wscoro {

class tracer;

enum class http_version { http_1_0, http_1_1 };

/// When and how often a websocket re-opens its connection after an
/// unexpected loss (reset, EOF without a close handshake, a failed write,
/// pong_timeout). A deliberate close, a close started by the server, or a
/// protocol error never reconnects. Gun's defaults are 5 attempts, 5 s apart.
struct retry_policy {
  retry_policy() = default;

  /// Attempts after each loss; 0 never reconnects.
  unsigned attempts = 0;
  /// Wait before the first attempt.
  std::chrono::milliseconds initial_delay{std::chrono::seconds(1)};
  /// Each further wait is the previous one times this.
  double backoff = 2.0;
  /// No wait is longer than this.
  std::chrono::milliseconds max_delay{std::chrono::seconds(30)};
  /// Each wait varies at random by up to this fraction, either way, so that
  /// many clients do not return at the same instant.
  double jitter = 0.2;
};

/// Options of connection::open: how to reach the server and speak HTTP to it.
struct connection_options {
  connection_options() = default;

  /// HTTP/1.0 connections cannot be upgraded to Websocket (ws_upgrade fails
  /// with error::upgrade_needs_http_1_1).
  http_version version = http_version::http_1_1;

  /// DNS resolution and TCP connect together; error::connect_timeout. Through
  /// a proxy, also the proxy's answer to CONNECT (error::proxy_timeout).
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(30)};
  /// The TLS handshake; error::tls_handshake_timeout.
  std::chrono::milliseconds tls_handshake_timeout{std::chrono::seconds(30)};
  /// From sending a request to the end of its response; error::request_timeout.
  std::chrono::milliseconds request_timeout{std::chrono::seconds(60)};

  /// Largest response head (status line and headers) accepted; error::header_too_large.
  std::size_t max_header_size = 64 * 1024;
  /// Largest response body accepted; error::body_too_large.
  std::size_t max_body_size = 64 * 1024 * 1024;

  /// TLS (wss:// and https://). By default wscoro makes a context per
  /// connection that trusts the system's CA store, verifies the peer's
  /// certificate and host name, sends SNI and offers ALPN "http/1.1".
  /// A context given here is used as it is for trust and verify mode;
  /// wscoro still checks the host name unless told not to.
  std::shared_ptr<asio::ssl::context> tls_context;
  /// A PEM file of extra CAs to trust besides the system store.
  std::string tls_ca_file;
  /// Turns off certificate and host name verification. Anyone on the path
  /// can then read and change the traffic: for tests only.
  bool insecure_skip_tls_verification = false;

  /// Connect to this Unix domain socket instead of resolving the URL's host
  /// (Gun's open_unix). The URL still gives the Host header and the target;
  /// its scheme must be ws:// or http://.
  std::string unix_socket_path;

  /// Reach the server through an HTTP proxy (Gun's connect + tunnel):
  /// "http://[user:password@]host[:port]", port 80 by default. wscoro
  /// connects to the proxy, asks it for a tunnel with
  /// `CONNECT host:port HTTP/1.1`, then speaks TLS (wss://, https://) or
  /// plain HTTP through the tunnel exactly as over a direct connection,
  /// verifying the server's certificate, not the proxy's. connect_timeout
  /// covers connecting to the proxy and its answer (error::proxy_timeout).
  /// Only http:// proxies are supported (no TLS to the proxy itself), and
  /// not together with unix_socket_path (error::proxy_with_unix_socket).
  /// A refusal is error::proxy_refused, or error::proxy_auth_required for
  /// a 407; connection::proxy_refusal() then holds the proxy's answer.
  /// Reconnects (websocket_options::retry) go through the proxy again.
  std::string proxy_url;
  /// Basic credentials for the proxy (Proxy-Authorization: Basic, RFC 7617),
  /// sent when proxy_username is not empty. User-info in proxy_url
  /// (percent-encoded) sets them too; these fields take precedence. The
  /// user name cannot contain ':'. They cross the network base64-encoded,
  /// which is to say in the clear.
  std::string proxy_username;
  std::string proxy_password;

  /// Observes the connection, its websocket and its reconnections (see
  /// wscoro/trace.hpp); none by default, and then tracing costs nothing.
  std::shared_ptr<wscoro::tracer> tracer;
};

/// permessage-deflate (RFC 7692): how messages are compressed, and what the
/// client allows the server to choose. Needs wscoro built with zlib (the
/// meson feature option `zlib`); without it an upgrade asking for
/// compression fails with error::compression_unavailable.
///
/// The server picks the parameters from the offer; a 101 that picks one the
/// client did not allow fails the upgrade (error::extension_parameter_rejected
/// and its neighbours). A server that declines the offer gets an
/// uncompressed session (upgraded::extensions is then empty).
struct deflate_options {
  deflate_options() = default;

  /// Offer "permessage-deflate" with no parameters at all, for servers that
  /// refuse any. The server may still limit its own window or ask for no
  /// context takeover; the window bits and no_context_takeover fields
  /// below are then not offered.
  bool compat = false;
  /// Largest LZ77 window (8..15 bits) the client compresses with; below 15
  /// it is offered as client_max_window_bits=N, else client_max_window_bits
  /// is offered without a value (the server may choose any). A window of 8
  /// is honoured by compressing with run-length matches only (zlib cannot
  /// produce a raw 256-byte window).
  int client_max_window_bits = 15;
  /// Largest window (8..15 bits) the server may compress with; below 15 it
  /// is offered as server_max_window_bits=N and the server must not exceed it.
  int server_max_window_bits = 15;
  /// The client compresses every message on its own, without the previous
  /// messages as context: less memory kept between messages, less compression.
  bool client_no_context_takeover = false;
  /// Ask the server to do the same (it must agree, or the upgrade fails).
  bool server_no_context_takeover = false;
  /// zlib compression level, 0 (store) to 9 (smallest); -1 is zlib's default (6).
  int level = -1;
  /// zlib memory level, 1 to 9: more memory, faster and better compression.
  int memory_level = 8;
  /// Messages shorter than this many bytes are sent uncompressed (RSV1
  /// clear), which RFC 7692 allows for any message.
  std::size_t min_size = 0;
};

/// Options of connection::ws_upgrade and of the websocket it gives.
struct websocket_options {
  websocket_options() = default;

  /// Subprotocols offered in Sec-WebSocket-Protocol, in order of preference
  /// (a sec-websocket-protocol header passed to ws_upgrade adds to these).
  std::vector<std::string> protocols;
  /// From sending the upgrade request to its complete response; error::handshake_timeout.
  std::chrono::milliseconds handshake_timeout{std::chrono::seconds(30)};
  /// How long the close handshake may take once a close frame is sent;
  /// then the connection is closed (error::closing_timeout when our close got no answer).
  std::chrono::milliseconds closing_timeout{std::chrono::seconds(15)};
  /// Largest message accepted, after reassembly of its fragments. A larger
  /// one closes the session with 1009 (error::message_too_big) before any
  /// memory beyond the limit is allocated.
  std::size_t max_message_size = 64 * 1024 * 1024;
  /// Pings are always answered with a pong. When true, neither pings nor
  /// pongs are delivered by receive().
  bool silence_pings = false;
  /// How many received frames may wait for receive() before the session
  /// stops reading from the socket (TCP flow control then slows the server).
  /// Gun calls this `flow`.
  std::size_t receive_queue_frames = 1024;
  /// The same limit in payload bytes: reading stops while this much waits
  /// (one message larger than this is still delivered whole).
  std::size_t receive_queue_bytes = 16 * 1024 * 1024;
  /// How many bytes of encoded frames may wait to be written before send()
  /// waits for the socket to drain.
  std::size_t send_queue_bytes = 4 * 1024 * 1024;

  /// After this long without receiving anything, send a ping; zero never pings.
  std::chrono::milliseconds keepalive{0};
  /// After a keepalive ping, how long the peer has to send anything (its
  /// pong, or any frame) before the connection is declared lost
  /// (error::pong_timeout); zero only pings.
  std::chrono::milliseconds pong_timeout{std::chrono::seconds(10)};

  /// Offer permessage-deflate compression (Gun's `compress`); none when empty.
  std::optional<deflate_options> compress;

  /// Reconnection after an unexpected loss. While the connection is down,
  /// send() fails with error::connection_down, or waits for it to come back
  /// when send_waits_while_down is set.
  retry_policy retry;
  bool send_waits_while_down = false;
};

}  // namespace wscoro
