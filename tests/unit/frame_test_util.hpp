// Builds raw frames byte by byte for the unit tests, independently of the
// encoder under test.
#pragma once

#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include "wscoro/frame.hpp"
#include "ws/decoder.hpp"

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

struct decoded {
  std::vector<frame> events;
  std::error_code error;
};

/// Feeds `bytes` to `d` in chunks of `chunk` bytes, carrying unconsumed
/// bytes over as a reader loop does, until the end or an error.
inline decoded decode_in_chunks(ws::decoder& d, const std::string& bytes, std::size_t chunk) {
  decoded out;
  std::string pending;
  for (std::size_t at = 0; at < bytes.size() && !out.error; at += chunk) {
    pending += bytes.substr(at, chunk);
    for (;;) {
      auto res = d.decode(pending);
      pending.erase(0, res.consumed);
      if (res.error) {
        out.error = res.error;
        break;
      }
      if (!res.event) break;
      out.events.push_back(std::move(*res.event));
    }
  }
  return out;
}

}  // namespace wscoro::test
