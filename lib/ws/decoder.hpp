// Turns received bytes into whole messages and control frames, enforcing
// every RFC 6455 rule a receiver must check. No I/O: bytes in, events out.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "wscoro/frame.hpp"
#include "ws/deflate_codec.hpp"
#include "ws/frame_header.hpp"
#include "ws/utf8.hpp"

namespace wscoro::ws {

/// Which end of the connection this decoder serves: a client receives
/// unmasked frames from a server, a server masked frames from a client.
enum class role { client, server };

class decoder {
 public:
  struct result {
    std::size_t consumed = 0;     ///< Bytes of the input used; the rest must be fed again.
    std::optional<frame> event;   ///< A complete message or control frame.
    std::error_code error;        ///< A protocol violation; the decoder then stops.
  };

  /// With an inflater, permessage-deflate was negotiated: a message whose
  /// first frame has RSV1 set is inflated, and max_message_size bounds its
  /// inflated size.
  decoder(role r, std::size_t max_message_size, std::unique_ptr<message_inflater> inflater = nullptr) noexcept
      : role_(r), max_message_size_(max_message_size), inflater_(std::move(inflater)) {}

  /// Consumes bytes until one event is complete, an error is found, or the
  /// input runs out. A partial header is left unconsumed. After an error,
  /// or after a close frame, nothing more is decoded.
  result decode(std::string_view in);

  /// Offers a string whose capacity later messages may use, so that large
  /// messages do not each allocate (and fault in) fresh memory. A few are
  /// kept, up to a bound in bytes; the rest are freed.
  void offer_storage(std::string&& storage) noexcept;

  /// Inside the payload of a data frame: room at the end of the message for
  /// up to `most` of the bytes still to come, so that the caller can read
  /// them from the socket straight into the message instead of through its
  /// read buffer. Empty elsewhere. commit_payload() must follow.
  std::span<char> payload_space(std::size_t most);
  /// How many payload bytes of the current data frame are still to come
  /// (0 in a compressed message: its bytes go through the inflater).
  std::uint64_t payload_to_come() const noexcept {
    return in_frame_ && !finished_ && !is_control(header_.op()) && !message_is_compressed_ ? remaining_ : 0;
  }
  /// Takes `n` bytes the caller put at the start of payload_space(); the
  /// rest of that room is given back. Then decode() goes on as usual (with
  /// no input, it finishes the frame when its payload is complete).
  std::error_code commit_payload(std::size_t n);

  /// True once a close frame or an error was decoded.
  bool finished() const noexcept { return finished_; }

 private:
  std::error_code check_header() const noexcept;
  void begin_frame();
  std::error_code take_payload(std::string_view bytes);
  std::error_code check_payload(std::string& sink, std::size_t start);
  std::error_code inflate_payload(std::string_view bytes);
  std::error_code check_text(std::size_t from);
  result finish_frame(std::size_t consumed);

  role role_;
  std::size_t max_message_size_;
  std::unique_ptr<message_inflater> inflater_;
  bool finished_ = false;

  bool in_frame_ = false;
  frame_header header_;
  std::uint64_t remaining_ = 0;
  std::size_t mask_offset_ = 0;

  bool in_message_ = false;
  bool message_is_text_ = false;
  bool message_is_compressed_ = false;
  std::string message_;
  std::size_t space_start_ = 0;  // where payload_space() began in message_
  std::vector<std::string> spares_;  // see offer_storage
  std::size_t spare_bytes_ = 0;
  std::string unmasked_;  // a masked compressed payload, unmasked before inflating
  utf8_validator utf8_;
  std::string control_;
};

/// The close code RFC 6455 asks for when failing a connection with `ec`
/// (1002 protocol error, 1007 invalid data, 1009 too big).
std::uint16_t close_code_for(std::error_code ec) noexcept;

}  // namespace wscoro::ws
