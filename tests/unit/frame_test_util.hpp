// Builds raw frames byte by byte for the unit tests, independently of the
// encoder under test.
#pragma once

#include <cstdint>
#include <string>

namespace wscoro::test {

/// A frame as a server sends it (unmasked), or masked with `key` when given.
inline std::string raw_frame(std::uint8_t first_byte, const std::string& payload, const char* key = nullptr) {
  std::string out(1, static_cast<char>(first_byte));
  const unsigned char mask_bit = key ? 0x80 : 0;
  const std::uint64_t n = payload.size();
  if (n < 126) {
    out.push_back(static_cast<char>(mask_bit | n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  }
  if (!key) return out + payload;
  out.append(key, 4);
  for (std::size_t i = 0; i < payload.size(); ++i) out.push_back(static_cast<char>(payload[i] ^ key[i % 4]));
  return out;
}

inline std::string close_payload(std::uint16_t code, const std::string& reason = {}) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xFF));
  return p + reason;
}

}  // namespace wscoro::test
