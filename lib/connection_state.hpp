// The state behind a wscoro::connection, and the upgrade handshake that
// both connection::ws_upgrade and a reconnecting session run.
#pragma once

#include <asio/awaitable.hpp>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "wscoro/error.hpp"
#include "wscoro/http.hpp"
#include "wscoro/options.hpp"
#include "wscoro/upgrade.hpp"
#include "http/response_parser.hpp"
#include "http/url.hpp"
#include "net/transport.hpp"
#include "ws/deflate_negotiation.hpp"

namespace wscoro::detail {

struct connection_state : std::enable_shared_from_this<connection_state> {
  connection_state(asio::any_io_executor ex, http::url u, connection_options o)
      : executor(std::move(ex)),
        url(std::move(u)),
        options(std::move(o)),
        parser(options.max_header_size, options.max_body_size) {}

  /// A 101 that passed every check: the transport and the bytes received
  /// after the 101 (in `received`) are the caller's to take.
  struct switched {
    std::string protocol;
    fields headers;
    std::optional<ws::deflate_parameters> deflate;  ///< permessage-deflate, when agreed
  };
  using handshake_result = std::variant<switched, refused, failed>;

  /// Sends the upgrade request and checks the answer (RFC 6455 section 4).
  /// Coroutines start when awaited: they take their arguments by value.
  asio::awaitable<handshake_result> handshake(std::string target, fields extra, websocket_options options);
  /// The handshake itself; handshake() adds its trace.
  asio::awaitable<handshake_result> upgrade(std::string target, fields extra, websocket_options options);

  /// Writes a request and reads its response into `parser`; a 101 stops
  /// after its head, leaving what follows in `received`.
  asio::awaitable<std::error_code> exchange(request req, bool head_request, std::chrono::milliseconds timeout,
                                            error timeout_error);
  asio::awaitable<std::error_code> read_response();
  std::error_code usable() const;
  /// Aborts: for timeouts, cancellation and failures mid-exchange.
  void close() noexcept {
    if (transport) transport->close();
  }
  /// Ends the connection politely (TLS close_notify, bounded by
  /// tls_close_bound); for a deliberate close and a response that ends it.
  void close_gracefully() noexcept {
    if (transport) transport->close_gracefully(tls_close_bound);
  }
  /// How long an HTTP connection being closed waits for the server's
  /// close_notify after sending its own; short, as nothing more is expected.
  static constexpr std::chrono::milliseconds tls_close_bound{1000};

  asio::any_io_executor executor;
  http::url url;
  connection_options options;
  std::unique_ptr<net::transport> transport;
  http::response_parser parser;
  std::string received;  // bytes read past the last parsed response
  response proxy_refusal;  // the proxy's answer when it refused the tunnel; status 0 otherwise
  bool upgraded = false;
};

/// What a session needs to open the same connection and upgrade it again.
struct reconnect_plan {
  http::url url;
  connection_options connection;
  std::string target;
  fields extra;
  websocket_options options;  ///< The session's, for the upgrade handshake.
};

}  // namespace wscoro::detail
