// Turns frames into bytes: header, then the payload masked in place in the
// output buffer (a client masks everything it sends).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "wscoro/frame.hpp"
#include "ws/decoder.hpp"
#include "ws/deflate_codec.hpp"
#include "ws/frame_header.hpp"
#include "ws/mask.hpp"

namespace wscoro::ws {

class encoder {
 public:
  /// With a deflater, permessage-deflate was negotiated: text and binary
  /// messages of at least `min_compressed_size` bytes go out compressed
  /// (RSV1 set on their frame).
  explicit encoder(role r, std::unique_ptr<message_deflater> deflater = nullptr,
                   std::size_t min_compressed_size = 0) noexcept
      : role_(r), deflater_(std::move(deflater)), min_compressed_size_(min_compressed_size) {}

  /// Checks that `f` may be sent: control payloads of at most 125 bytes,
  /// UTF-8 text and close reasons, a close code allowed on the wire.
  static std::error_code validate(const frame& f) noexcept;

  /// Appends the encoding of `f` (already validated) to `out`.
  void encode(const frame& f, std::string& out);

  /// Appends one frame with the given opcode, FIN bit and payload; RSV1
  /// set when `compressed`.
  void encode_frame(opcode op, bool fin, std::string_view payload, std::string& out, bool compressed = false);

  /// True when encode() compresses a text or binary message of this size.
  bool compresses(std::size_t message_size) const noexcept {
    return deflater_ && message_size >= min_compressed_size_;
  }

  /// Appends only the header of a frame, and masks `payload` in place: the
  /// caller writes the payload from its own storage after `out` (a gathered
  /// write), so that a large message is not copied into the output buffer.
  void encode_header_masking(opcode op, bool fin, std::string& payload, std::string& out);

 private:
  void encode_message(opcode op, std::string_view payload, std::string& out);

  role role_;
  std::unique_ptr<message_deflater> deflater_;
  std::size_t min_compressed_size_;
  std::string compressed_;  // reused for every compressed message
};

}  // namespace wscoro::ws
