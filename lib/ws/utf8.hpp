// Incremental UTF-8 validation (RFC 3629, Unicode table 3-7): bytes may
// arrive in any split, and a sequence that can no longer become valid is
// rejected at its first bad byte. Long runs are checked 64 bytes at a time
// with AVX2 where the CPU has it, and by a byte state machine otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wscoro::ws {

class utf8_validator {
 public:
  /// Feeds more bytes; false as soon as they cannot be part of valid UTF-8.
  bool feed(std::string_view bytes) noexcept;
  /// True when no multi-byte sequence is left unfinished.
  bool complete() const noexcept { return pending_ == 0; }
  void reset() noexcept { pending_ = 0; }

 private:
  bool feed_scalar(const unsigned char* p, std::size_t n) noexcept;

  std::uint8_t pending_ = 0;  // continuation bytes still expected
  std::uint8_t low_ = 0x80;   // range of the next continuation byte
  std::uint8_t high_ = 0xBF;
};

/// Whole-string check.
inline bool is_valid_utf8(std::string_view s) noexcept {
  utf8_validator v;
  return v.feed(s) && v.complete();
}

}  // namespace wscoro::ws
