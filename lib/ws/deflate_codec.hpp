// The permessage-deflate codec (RFC 7692 section 7.2): raw DEFLATE with
// each message ending in a sync flush whose 00 00 ff ff tail is not sent.
// With context takeover, one LZ77 window spans the messages; without, each
// message starts afresh. No I/O.
#pragma once

#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace wscoro::ws {

/// zlib counts input and output bytes in `unsigned int`: longer buffers are
/// handed to it in pieces of at most this many bytes.
inline constexpr std::size_t zlib_max_piece = std::numeric_limits<unsigned int>::max();

/// True when wscoro was built with zlib; without it the classes below throw
/// std::logic_error when constructed.
bool deflate_available() noexcept;

/// Compresses the messages we send.
class message_deflater {
 public:
  /// `window_bits` 8..15 (8 is honoured by run-length matches only: zlib
  /// has no raw 256-byte window); `level` -1..9; `memory_level` 1..9.
  /// `max_piece` is lowered by tests only, to run the piece loop on small data.
  message_deflater(int window_bits, bool no_context_takeover, int level, int memory_level,
                   std::size_t max_piece = zlib_max_piece);
  ~message_deflater();
  message_deflater(message_deflater&&) noexcept;
  message_deflater& operator=(message_deflater&&) noexcept;

  /// Replaces `out` with the payload of `message` compressed, without the
  /// 00 00 ff ff tail (an empty message gives the single byte 00).
  void compress(std::string_view message, std::string& out);

 private:
  struct stream;
  std::unique_ptr<stream> z_;
};

/// Inflates the messages we receive, never growing a message past a limit.
class message_inflater {
 public:
  /// `window_bits` 8..15 as negotiated: the peer's promise. Inflating uses
  /// zlib's largest window regardless, so that whether a message inflates
  /// never depends on how its bytes were cut (see deflate_codec.cpp).
  /// `max_piece`: as for message_deflater.
  message_inflater(int window_bits, bool no_context_takeover, std::size_t max_piece = zlib_max_piece);
  ~message_inflater();
  message_inflater(message_inflater&&) noexcept;
  message_inflater& operator=(message_inflater&&) noexcept;

  /// Inflates `in`, the next compressed bytes of a message, appending to
  /// `out`. Fails with error::message_too_big as soon as `out` would grow
  /// past `limit` bytes (nothing past it is allocated), and with
  /// error::invalid_compressed_data on data that is not DEFLATE.
  std::error_code inflate(std::string_view in, std::string& out, std::size_t limit);

  /// Ends the message: inflates the 00 00 ff ff tail the sender left out,
  /// and forgets the window when there is no context takeover.
  std::error_code finish(std::string& out, std::size_t limit);

 private:
  /// inflate() for at most max_piece bytes: what zlib can take in one go.
  std::error_code inflate_piece(std::string_view in, std::string& out, std::size_t limit);

  struct stream;
  std::unique_ptr<stream> z_;
};

}  // namespace wscoro::ws
