// An HTTP/1.1 connection (TCP, TLS or Unix socket) that can be upgraded to Websocket.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "wscoro/http.hpp"
#include "wscoro/options.hpp"
#include "wscoro/upgrade.hpp"

namespace wscoro {

namespace detail {
struct connection_state;
}

/// One connection to one server, as Gun's connection process: open it,
/// send HTTP requests on it, upgrade it to Websocket.
///
/// Thread safety: call its member functions from its executor only.
class connection {
 public:
  /// Resolves, connects and (for wss:// and https://) completes the TLS
  /// handshake. Accepted URLs: ws://, wss://, http://, https:// with an
  /// optional port and target; the target given to ws_upgrade and request
  /// is independent of it. Throws std::system_error on failure.
  ///
  /// Like every operation here, it takes its arguments by value: the
  /// awaitable starts only when awaited, so it keeps its own copies and the
  /// caller's strings may be gone by then.
  static asio::awaitable<connection> open(asio::any_io_executor ex, std::string url,
                                          connection_options options);
  static asio::awaitable<connection> open(asio::any_io_executor ex, std::string url);
  /// As above; on failure sets `ec` and returns a connection that is not open.
  static asio::awaitable<connection> open(asio::any_io_executor ex, std::string url,
                                          connection_options options, std::error_code& ec);

  connection(connection&&) noexcept;
  connection& operator=(connection&&) noexcept;
  ~connection();

  asio::any_io_executor get_executor() const;

  /// Sends one request and reads its whole response (Content-Length,
  /// chunked, or until the server closes). Host is added when missing.
  /// After a response that does not keep the connection alive, the
  /// connection is closed. Throws std::system_error on failure.
  asio::awaitable<response> request(wscoro::request req);
  asio::awaitable<response> request(wscoro::request req, std::error_code& ec);

  /// Upgrades the connection to Websocket (RFC 6455 section 4). The library
  /// sets Upgrade, Connection, Sec-WebSocket-Key and -Version; `extra`
  /// headers go out as given (a sec-websocket-protocol header among them
  /// offers those subprotocols). Never throws for a failed upgrade: the
  /// result says upgraded, refused or failed. After `upgraded` the
  /// connection belongs to the websocket; after `refused` it stays usable
  /// for HTTP where the response allows.
  asio::awaitable<upgrade_result> ws_upgrade(std::string target, fields extra,
                                             websocket_options options);
  asio::awaitable<upgrade_result> ws_upgrade(std::string target, fields extra = {});

  /// The target (path and query) of the URL given to open; "/" when it had none.
  const std::string& target() const noexcept;

  /// After open failed with error::proxy_refused or proxy_auth_required:
  /// the proxy's answer to CONNECT (status, reason and headers; its body is
  /// not read). Null otherwise.
  const response* proxy_refusal() const noexcept;

  /// True while requests can be sent.
  bool is_open() const noexcept;

  /// Closes the connection at once, without waiting for anything.
  void close() noexcept;

 private:
  explicit connection(std::shared_ptr<detail::connection_state> state) noexcept;
  std::shared_ptr<detail::connection_state> state_;
};

}  // namespace wscoro
