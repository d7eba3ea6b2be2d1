// Shared by the fuzz targets: invariant checks, input splitting, and a
// reference UTF-8 checker written independently of ws::utf8_validator.
//
// Each target defines `int fuzz_<name>_one(const std::uint8_t*, std::size_t)`
// and ends with WSCORO_FUZZ_ENTRY(fuzz_<name>_one). Built for libFuzzer
// (WSCORO_LIBFUZZER defined) that macro adds LLVMFuzzerTestOneInput and a
// broken invariant aborts; built for the replay test it adds nothing and a
// broken invariant throws fuzz::invariant_violation, which the replay reports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

namespace wscoro::fuzz {

struct invariant_violation : std::logic_error {
  using std::logic_error::logic_error;
};

[[noreturn]] inline void invariant_failed(const char* expr, const char* file, int line) {
#if defined(WSCORO_LIBFUZZER)
  std::fprintf(stderr, "%s:%d: fuzz invariant violated: %s\n", file, line, expr);
  std::abort();
#else
  throw invariant_violation(std::string(file) + ":" + std::to_string(line) +
                            ": fuzz invariant violated: " + expr);
#endif
}

#define FUZZ_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::wscoro::fuzz::invariant_failed(#cond, __FILE__, __LINE__))

/// The fuzzer's bytes: a few leading bytes choose parameters, the rest is data.
class input {
 public:
  input(const std::uint8_t* data, std::size_t size) noexcept
      : bytes_(reinterpret_cast<const char*>(data), size) {}

  /// The next byte as a parameter (0 once the input is used up).
  std::uint8_t take_byte() noexcept {
    if (bytes_.empty()) return 0;
    const auto b = static_cast<std::uint8_t>(bytes_.front());
    bytes_.remove_prefix(1);
    return b;
  }
  std::string_view rest() const noexcept { return bytes_; }

 private:
  std::string_view bytes_;
};

/// Cuts data into the pieces a reader would receive, from one seed byte:
/// top two bits 00 the whole input at once, 01 a fixed size of 1..64
/// bytes, 10 single bytes, 11 pseudo-random sizes of 1..64 bytes.
class chunker {
 public:
  explicit chunker(std::uint8_t seed) noexcept : seed_(seed), state_(seed * 2654435761u + 1) {}

  bool whole() const noexcept { return (seed_ >> 6) == 0; }

  /// The size of the next piece, out of `left` bytes (left > 0).
  std::size_t next(std::size_t left) noexcept {
    std::size_t n = left;
    switch (seed_ >> 6) {
      case 1:
        n = (seed_ & 0x3F) + 1u;
        break;
      case 2:
        n = 1;
        break;
      case 3:
        state_ = state_ * 1103515245u + 12345u;
        n = ((state_ >> 16) % ((seed_ & 0x3Fu) + 1u)) + 1u;
        break;
      default:
        break;
    }
    return n < left ? n : left;
  }

 private:
  std::uint8_t seed_;
  std::uint32_t state_;
};

/// Reference UTF-8 (RFC 3629): how far `s` is a prefix of some valid UTF-8
/// string, and whether it is valid as a whole. A sequence is judged by the
/// range of code points its bytes so far can still become, so a byte is
/// "bad" exactly when no continuation could make the sequence valid.
struct utf8_reference {
  std::size_t good_prefix = 0;  ///< Bytes before the first bad byte (size when none).
  bool valid = false;           ///< No bad byte and no unfinished sequence.
};

inline utf8_reference check_utf8_reference(std::string_view s) noexcept {
  utf8_reference out;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto lead = static_cast<unsigned char>(s[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    std::size_t need;
    std::uint32_t cp;
    std::uint32_t min;
    if ((lead & 0xE0) == 0xC0) {
      need = 2, cp = lead & 0x1Fu, min = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      need = 3, cp = lead & 0x0Fu, min = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      need = 4, cp = lead & 0x07u, min = 0x10000;
    } else {
      out.good_prefix = i;
      return out;
    }
    for (std::size_t k = 1;; ++k) {
      // After k bytes of `need`: the code points still reachable.
      const std::size_t free_bits = 6 * (need - k);
      const std::uint32_t lo = cp << free_bits;
      const std::uint32_t hi = lo | ((std::uint32_t{1} << free_bits) - 1);
      const bool possible = lo <= 0x10FFFF && hi >= min && !(lo >= 0xD800 && hi <= 0xDFFF);
      if (!possible) {
        out.good_prefix = i + k - 1;
        return out;
      }
      if (k == need) break;
      if (i + k == s.size()) {
        out.good_prefix = s.size();
        return out;  // unfinished, but could still be completed
      }
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) {
        out.good_prefix = i + k;
        return out;
      }
      cp = (cp << 6) | (c & 0x3Fu);
    }
    i += need;
  }
  out.good_prefix = s.size();
  out.valid = true;
  return out;
}

inline bool reference_valid_utf8(std::string_view s) noexcept { return check_utf8_reference(s).valid; }
inline bool reference_valid_utf8_prefix(std::string_view s) noexcept {
  return check_utf8_reference(s).good_prefix == s.size();
}

}  // namespace wscoro::fuzz

#if defined(WSCORO_LIBFUZZER)
#define WSCORO_FUZZ_ENTRY(fn)                                                           \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size); \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) { \
    return fn(data, size);                                                              \
  }
#else
#define WSCORO_FUZZ_ENTRY(fn)
#endif
