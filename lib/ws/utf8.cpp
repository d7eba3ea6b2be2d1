#include "ws/utf8.hpp"

#include <cstring>

namespace wscoro::ws {
namespace {

// Length of the leading run of ASCII bytes, a word at a time.
std::size_t ascii_prefix(const unsigned char* p, std::size_t n) noexcept {
  constexpr std::uint64_t high_bits = 0x8080808080808080ULL;
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    std::uint64_t w[4];
    std::memcpy(w, p + i, 32);
    if ((w[0] | w[1] | w[2] | w[3]) & high_bits) break;
  }
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (w & high_bits) break;
  }
  while (i < n && p[i] < 0x80) ++i;
  return i;
}

}  // namespace

bool utf8_validator::feed(std::string_view bytes) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  while (i < n) {
    if (pending_ == 0) {
      i += ascii_prefix(p + i, n - i);
      if (i == n) break;
      const unsigned char lead = p[i++];
      low_ = 0x80;
      high_ = 0xBF;
      if (lead >= 0xC2 && lead <= 0xDF) {
        pending_ = 1;
      } else if (lead == 0xE0) {
        pending_ = 2;
        low_ = 0xA0;  // no overlong 3-byte forms
      } else if ((lead >= 0xE1 && lead <= 0xEC) || lead == 0xEE || lead == 0xEF) {
        pending_ = 2;
      } else if (lead == 0xED) {
        pending_ = 2;
        high_ = 0x9F;  // no UTF-16 surrogates
      } else if (lead == 0xF0) {
        pending_ = 3;
        low_ = 0x90;  // no overlong 4-byte forms
      } else if (lead >= 0xF1 && lead <= 0xF3) {
        pending_ = 3;
      } else if (lead == 0xF4) {
        pending_ = 3;
        high_ = 0x8F;  // nothing above U+10FFFF
      } else {
        return false;  // continuation byte, overlong C0/C1, or F5..FF
      }
    } else {
      const unsigned char c = p[i++];
      if (c < low_ || c > high_) return false;
      low_ = 0x80;
      high_ = 0xBF;
      --pending_;
    }
  }
  return true;
}

}  // namespace wscoro::ws
