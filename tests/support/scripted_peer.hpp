// An in-process TCP server on 127.0.0.1 whose every byte the test scripts:
// the misbehaving peers of the session tests. It speaks the server role
// with wscoro's own sans-I/O core where a test wants well-formed frames.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wscoro/frame.hpp"
#include "ws/decoder.hpp"
#include "ws/encoder.hpp"

namespace wscoro::test {

class scripted_server {
 public:
  explicit scripted_server(const asio::any_io_executor& ex);
  unsigned short port() const;
  /// scheme://127.0.0.1:port + path
  std::string url(std::string_view path = "/", std::string_view scheme = "ws") const;
  asio::awaitable<asio::ip::tcp::socket> accept();

 private:
  asio::ip::tcp::acceptor acceptor_;
};

/// Reads up to and including the blank line ending a request head.
asio::awaitable<std::string> read_request_head(asio::ip::tcp::socket& s);

/// The value of header `name` in a raw head, or empty.
std::string header_value(std::string_view head, std::string_view name);

/// A complete 101 answer to `request_head`, with `extra` header lines
/// ("Name: value\r\n" each) before the blank line.
std::string switching_protocols(std::string_view request_head, std::string_view extra = {});

asio::awaitable<void> write_all(asio::ip::tcp::socket& s, std::string_view bytes);

/// Accepts one connection and answers its upgrade request with a valid 101.
asio::awaitable<asio::ip::tcp::socket> accept_upgrade(scripted_server& server, std::string_view extra = {});

/// Frames the client sent, decoded in the server role; empty at EOF or on a
/// protocol violation by the client.
class client_frames {
 public:
  /// With an inflater, permessage-deflate was negotiated.
  explicit client_frames(std::unique_ptr<ws::message_inflater> inflater = nullptr)
      : decoder_(ws::role::server, 64 * 1024 * 1024, std::move(inflater)) {}
  asio::awaitable<std::optional<frame>> next(asio::ip::tcp::socket& s);
  std::error_code error() const { return error_; }
  /// Bytes received after the last frame returned, not yet a whole frame.
  const std::string& leftover() const { return buffer_; }

 private:
  ws::decoder decoder_;
  std::string buffer_;
  std::error_code error_;
};

/// Every frame the client sends up to and including its close frame (or
/// until EOF); then answers with `answer` and closes the connection, as a
/// server ends a close handshake.
asio::awaitable<std::vector<frame>> frames_until_close(asio::ip::tcp::socket& s,
                                                       const close_frame& answer = close_frame(1000));

/// Reads and discards until the client closes the connection.
asio::awaitable<void> wait_for_eof(asio::ip::tcp::socket& s);

/// Unmasked frame bytes as a server sends them.
std::string server_frame(const frame& f);

}  // namespace wscoro::test
