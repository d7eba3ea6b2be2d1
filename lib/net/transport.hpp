// The byte stream under a connection: plain TCP, TLS over TCP, or a Unix
// domain socket.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <memory>
#include <system_error>
#include <variant>

#include "wscoro/http.hpp"
#include "wscoro/options.hpp"
#include "http/url.hpp"

namespace wscoro::net {

class transport {
 public:
  using tcp_socket = asio::ip::tcp::socket;
  using tls_stream = asio::ssl::stream<tcp_socket>;
  using unix_socket = asio::local::stream_protocol::socket;

  explicit transport(tcp_socket socket);
  explicit transport(unix_socket socket);
  transport(tcp_socket socket, std::shared_ptr<asio::ssl::context> context);

  asio::any_io_executor get_executor();

  /// Reads what is available (at least one byte). End of stream is
  /// asio::error::eof; a TLS stream the peer ended with a TCP FIN but no
  /// close_notify is error::tls_truncated (what follows may have been cut
  /// off: only a caller whose data delimits itself may take it as an end).
  asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer, std::error_code& ec);
  /// Writes all of `buffer`; gives how much was written.
  asio::awaitable<std::size_t> write(asio::const_buffer buffer, std::error_code& ec);

  /// Reads what is available (at least one byte), then calls
  /// handler(std::error_code, std::size_t). Over TLS, a cut without
  /// close_notify is asio::ssl::error::stream_truncated.
  template <class Handler>
  void async_read_some(asio::mutable_buffer buffer, Handler&& handler) {
    visit_stream([&](auto& s) { s.async_read_some(buffer, std::forward<Handler>(handler)); });
  }

  /// Writes all of `buffers` (a buffer sequence), then calls
  /// handler(std::error_code, std::size_t).
  template <class Buffers, class Handler>
  void async_write(const Buffers& buffers, Handler&& handler) {
    visit_stream([&](auto& s) { asio::async_write(s, buffers, std::forward<Handler>(handler)); });
  }

  /// Closes at once; pending operations complete with operation_aborted.
  /// For an abort: over TLS the peer sees a truncation.
  void close() noexcept;
  /// Ends the connection politely: over TLS, sends close_notify and waits at
  /// most `bound` for the peer's before closing TCP. That goes on in the
  /// background; this transport is closed at once. Plain sockets just close.
  void close_gracefully(std::chrono::milliseconds bound) noexcept;
  bool is_open() const noexcept;

  tls_stream* tls() noexcept {
    auto* held = std::get_if<std::unique_ptr<tls_stream>>(&stream_);
    return held ? held->get() : nullptr;
  }

 private:
  std::shared_ptr<asio::ssl::context> context_;  // outlives the TLS stream using it
  // The TLS stream is held apart: it is several times the size of a socket,
  // and plain connections should not carry its space.
  std::variant<tcp_socket, std::unique_ptr<tls_stream>, unix_socket> stream_;

  /// Calls f with the socket or the TLS stream, whichever this is.
  template <class F>
  decltype(auto) visit_stream(F&& f) {
    return std::visit(
        [&](auto& s) -> decltype(auto) {
          if constexpr (std::is_same_v<std::decay_t<decltype(s)>, std::unique_ptr<tls_stream>>) {
            return f(*s);
          } else {
            return f(s);
          }
        },
        stream_);
  }
  template <class F>
  decltype(auto) visit_stream(F&& f) const {
    return const_cast<transport*>(this)->visit_stream(std::forward<F>(f));
  }
};

/// Resolves the URL's host and connects (or connects to unix_socket_path,
/// or opens a tunnel through proxy_url), within connect_timeout; for a TLS
/// URL, completes the handshake with verification (tls_handshake_timeout).
/// When the proxy refuses the tunnel, its answer goes to `proxy_refusal`.
/// (A coroutine: `url` and `options` are its own copies.)
asio::awaitable<std::unique_ptr<transport>> connect(asio::any_io_executor ex, http::url url,
                                                    connection_options options, std::error_code& ec,
                                                    response* proxy_refusal = nullptr);

}  // namespace wscoro::net
