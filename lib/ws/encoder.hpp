// Turns frames into bytes: header, then the payload masked in place in the
// output buffer (a client masks everything it sends).
#pragma once

#include <string>
#include <string_view>
#include <system_error>

#include "wscoro/frame.hpp"
#include "ws/decoder.hpp"
#include "ws/frame_header.hpp"
#include "ws/mask.hpp"

namespace wscoro::ws {

class encoder {
 public:
  explicit encoder(role r) noexcept : role_(r) {}

  /// Checks that `f` may be sent: control payloads of at most 125 bytes,
  /// UTF-8 text and close reasons, a close code allowed on the wire.
  static std::error_code validate(const frame& f) noexcept;

  /// Appends the encoding of `f` (already validated) to `out`.
  void encode(const frame& f, std::string& out);

  /// Appends one frame with the given opcode, FIN bit and payload.
  void encode_frame(opcode op, bool fin, std::string_view payload, std::string& out);

  /// Appends only the header of a frame, and masks `payload` in place: the
  /// caller writes the payload from its own storage after `out` (a gathered
  /// write), so that a large message is not copied into the output buffer.
  void encode_header_masking(opcode op, bool fin, std::string& payload, std::string& out);

 private:
  role role_;
};

}  // namespace wscoro::ws
