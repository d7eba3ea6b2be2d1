// The RFC 6455 section 5.2 frame header: opcode, flags, length and mask key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <system_error>

#include "ws/mask.hpp"

namespace wscoro::ws {

enum class opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

inline bool is_control(opcode op) noexcept { return (static_cast<unsigned>(op) & 0x8) != 0; }

struct frame_header {
  bool fin = true;
  bool rsv1 = false;
  bool rsv2 = false;
  bool rsv3 = false;
  std::uint8_t raw_opcode = 0;  // as on the wire, reserved values included
  bool masked = false;
  std::uint64_t length = 0;
  mask_key key{};

  opcode op() const noexcept { return static_cast<opcode>(raw_opcode); }
};

/// The largest encoded header: 2 + 8 (length) + 4 (mask key) bytes.
inline constexpr std::size_t max_header_size = 14;

/// Decodes a header from the start of `in`. Returns its size, or 0 when
/// `in` does not hold a whole header yet. Sets `ec` (and returns 0) for a
/// length that is not minimally encoded or has its top bit set.
std::size_t decode_header(std::string_view in, frame_header& out, std::error_code& ec) noexcept;

/// Writes `h` to `out` (room for max_header_size bytes); returns its size.
std::size_t encode_header(const frame_header& h, char* out) noexcept;

}  // namespace wscoro::ws
