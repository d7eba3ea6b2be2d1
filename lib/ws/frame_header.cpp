#include "ws/frame_header.hpp"

#include <cstring>

#include "wscoro/error.hpp"

namespace wscoro::ws {

std::size_t decode_header(std::string_view in, frame_header& out, std::error_code& ec) noexcept {
  if (in.size() < 2) return 0;
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const unsigned char b0 = p[0];
  const unsigned char b1 = p[1];
  const unsigned length7 = b1 & 0x7F;
  const std::size_t length_bytes = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
  const bool masked = (b1 & 0x80) != 0;
  const std::size_t size = 2 + length_bytes + (masked ? 4 : 0);
  if (in.size() < size) return 0;

  std::uint64_t length = length7;
  if (length_bytes == 2) {
    length = (std::uint64_t{p[2]} << 8) | p[3];
    if (length < 126) {
      ec = error::non_minimal_length;
      return 0;
    }
  } else if (length_bytes == 8) {
    length = 0;
    for (std::size_t i = 0; i < 8; ++i) length = (length << 8) | p[2 + i];
    if (length >> 63) {
      ec = error::length_too_large;
      return 0;
    }
    if (length <= 0xFFFF) {
      ec = error::non_minimal_length;
      return 0;
    }
  }
  out.fin = (b0 & 0x80) != 0;
  out.rsv1 = (b0 & 0x40) != 0;
  out.rsv2 = (b0 & 0x20) != 0;
  out.rsv3 = (b0 & 0x10) != 0;
  out.raw_opcode = b0 & 0x0F;
  out.masked = masked;
  out.length = length;
  if (masked) std::memcpy(out.key.data(), p + 2 + length_bytes, 4);
  return size;
}

std::size_t encode_header(const frame_header& h, char* out) noexcept {
  auto* p = reinterpret_cast<unsigned char*>(out);
  p[0] = static_cast<unsigned char>((h.fin ? 0x80 : 0) | (h.rsv1 ? 0x40 : 0) | (h.rsv2 ? 0x20 : 0) |
                                    (h.rsv3 ? 0x10 : 0) | (h.raw_opcode & 0x0F));
  const unsigned char mask_bit = h.masked ? 0x80 : 0;
  std::size_t size = 2;
  if (h.length < 126) {
    p[1] = static_cast<unsigned char>(mask_bit | h.length);
  } else if (h.length <= 0xFFFF) {
    p[1] = mask_bit | 126;
    p[2] = static_cast<unsigned char>(h.length >> 8);
    p[3] = static_cast<unsigned char>(h.length);
    size = 4;
  } else {
    p[1] = mask_bit | 127;
    for (std::size_t i = 0; i < 8; ++i) p[2 + i] = static_cast<unsigned char>(h.length >> (56 - 8 * i));
    size = 10;
  }
  if (h.masked) {
    std::memcpy(p + size, h.key.data(), 4);
    size += 4;
  }
  return size;
}

}  // namespace wscoro::ws
