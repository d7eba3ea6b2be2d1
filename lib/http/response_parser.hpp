// Reads one HTTP/1.x response from bytes with llhttp: the status, headers
// and de-chunked body, or the head of a 101 after which the bytes belong
// to another protocol. No I/O: the caller feeds what it read.
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

#include "wscoro/http.hpp"

namespace wscoro::http {

class response_parser {
 public:
  response_parser(std::size_t max_header_size, std::size_t max_body_size) noexcept;
  response_parser(const response_parser&) = delete;
  response_parser& operator=(const response_parser&) = delete;

  /// Prepares for the response to a new request; a HEAD response has no body.
  void start(bool head_request) noexcept;
  /// Prepares for the answer to a CONNECT request. Parsing stops at the end
  /// of the head whatever the status: a 2xx has no body (RFC 9110 9.3.6),
  /// the bytes after it are the tunnel's; a refusal's body is not wanted.
  void start_tunnel() noexcept;

  struct result {
    std::size_t consumed = 0;  ///< Bytes used; after a 101 the rest is the upgraded protocol's.
    std::error_code error;
  };
  /// Feeds bytes; stops at the end of the response (done()) or at an error.
  result feed(std::string_view in);
  /// The peer closed the connection: ends a body delimited by the close,
  /// or reports error::connection_closed for an incomplete response.
  std::error_code finish();

  bool done() const noexcept { return done_; }
  /// The response was a 101 Switching Protocols; nothing after its head was parsed.
  bool switching_protocols() const noexcept { return done_ && response_.status == 101; }
  /// Whether the connection may carry another request after this response.
  bool keep_alive() const noexcept { return keep_alive_; }

  response& get() noexcept { return response_; }

 private:
  friend struct parser_callbacks;
  std::error_code note_head_bytes(std::size_t n) noexcept;

  llhttp_t parser_;
  std::size_t max_header_size_;
  std::size_t max_body_size_;
  bool head_request_ = false;
  bool connect_request_ = false;
  bool done_ = false;
  bool keep_alive_ = false;
  std::size_t head_bytes_ = 0;      // reported by llhttp's callbacks
  std::size_t head_bytes_fed_ = 0;  // fed while no head was complete
  std::string field_name_;
  std::string field_value_;
  std::error_code callback_error_;
  response response_;
};

}  // namespace wscoro::http
