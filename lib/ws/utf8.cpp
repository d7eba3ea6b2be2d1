#include "ws/utf8.hpp"

#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

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


#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define WSCORO_UTF8_AVX2 1

// The "lookup" algorithm of Keiser and Lemire (Validating UTF-8 In Less Than
// One Instruction Per Byte, 2021): every error is a property of a byte and
// the one before it, found with three 16-entry table lookups, plus a check
// that the 2nd/3rd continuation bytes of 3- and 4-byte sequences are there.
// Each flag names a kind of error; a pair of bytes is bad when all three
// lookups agree on one flag.
namespace lookup {
constexpr std::uint8_t too_short = 1 << 0;   // lead followed by lead or ASCII
constexpr std::uint8_t too_long = 1 << 1;    // ASCII followed by continuation
constexpr std::uint8_t overlong_3 = 1 << 2;  // E0 80..9F
constexpr std::uint8_t too_large = 1 << 3;   // above U+10FFFF
constexpr std::uint8_t surrogate = 1 << 4;   // ED A0..BF
constexpr std::uint8_t overlong_2 = 1 << 5;  // C0, C1
constexpr std::uint8_t too_large_1000 = 1 << 6;
constexpr std::uint8_t overlong_4 = 1 << 6;  // F0 80..8F
constexpr std::uint8_t two_conts = 1 << 7;   // continuation after continuation
constexpr std::uint8_t carry = too_short | too_long | two_conts;
}  // namespace lookup

__attribute__((target("avx2"))) inline __m256i table16(std::uint8_t t0, std::uint8_t t1, std::uint8_t t2,
                                                        std::uint8_t t3, std::uint8_t t4, std::uint8_t t5,
                                                        std::uint8_t t6, std::uint8_t t7, std::uint8_t t8,
                                                        std::uint8_t t9, std::uint8_t t10, std::uint8_t t11,
                                                        std::uint8_t t12, std::uint8_t t13, std::uint8_t t14,
                                                        std::uint8_t t15) {
  return _mm256_setr_epi8(char(t0), char(t1), char(t2), char(t3), char(t4), char(t5), char(t6), char(t7),
                          char(t8), char(t9), char(t10), char(t11), char(t12), char(t13), char(t14), char(t15),
                          char(t0), char(t1), char(t2), char(t3), char(t4), char(t5), char(t6), char(t7),
                          char(t8), char(t9), char(t10), char(t11), char(t12), char(t13), char(t14), char(t15));
}

struct avx2_checker {
  __m256i error;
  __m256i previous;
  __m256i previous_incomplete;

  __attribute__((target("avx2"))) avx2_checker()
      : error(_mm256_setzero_si256()), previous(error), previous_incomplete(error) {}

  // The 32 bytes that end N bytes before the end of `input`.
  template <int N>
  __attribute__((target("avx2"))) static __m256i shifted(__m256i input, __m256i before) {
    return _mm256_alignr_epi8(input, _mm256_permute2x128_si256(before, input, 0x21), 16 - N);
  }

  __attribute__((target("avx2"))) static __m256i high_nibbles(__m256i v) {
    return _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0F));
  }

  __attribute__((target("avx2"))) void check(__m256i input) {
    using namespace lookup;
    const __m256i prev1 = shifted<1>(input, previous);
    const __m256i byte_1_high = _mm256_shuffle_epi8(
        table16(too_long, too_long, too_long, too_long, too_long, too_long, too_long, too_long, two_conts,
                two_conts, two_conts, two_conts, too_short | overlong_2, too_short,
                too_short | overlong_3 | surrogate, too_short | too_large | too_large_1000 | overlong_4),
        high_nibbles(prev1));
    const std::uint8_t big = carry | too_large | too_large_1000;
    const __m256i byte_1_low = _mm256_shuffle_epi8(
        table16(carry | overlong_3 | overlong_2 | overlong_4, carry | overlong_2, carry, carry, carry | too_large,
                big, big, big, big, big, big, big, big, big | surrogate, big, big),
        _mm256_and_si256(prev1, _mm256_set1_epi8(0x0F)));
    const std::uint8_t cont = too_long | overlong_2 | two_conts;
    const __m256i byte_2_high = _mm256_shuffle_epi8(
        table16(too_short, too_short, too_short, too_short, too_short, too_short, too_short, too_short,
                cont | overlong_3 | too_large_1000 | overlong_4, cont | overlong_3 | too_large,
                cont | surrogate | too_large, cont | surrogate | too_large, too_short, too_short, too_short,
                too_short),
        high_nibbles(input));
    const __m256i special = _mm256_and_si256(_mm256_and_si256(byte_1_high, byte_1_low), byte_2_high);

    // Bytes 3 and 4 of a sequence must be continuations (0x80 in `special`
    // marks exactly the continuation bytes the pair check expected).
    const __m256i third = _mm256_subs_epu8(shifted<2>(input, previous), _mm256_set1_epi8(char(0xE0 - 0x80)));
    const __m256i fourth = _mm256_subs_epu8(shifted<3>(input, previous), _mm256_set1_epi8(char(0xF0 - 0x80)));
    const __m256i must_continue =
        _mm256_and_si256(_mm256_or_si256(third, fourth), _mm256_set1_epi8(char(0x80)));
    error = _mm256_or_si256(error, _mm256_xor_si256(must_continue, special));

    // A lead byte in the last three positions needs bytes from the next block.
    const __m256i max_complete = _mm256_setr_epi8(
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, char(0xF0 - 1), char(0xE0 - 1), char(0xC0 - 1));
    previous_incomplete = _mm256_subs_epu8(input, max_complete);
    previous = input;
  }

  // An all-ASCII block is valid unless the block before ended mid-sequence.
  __attribute__((target("avx2"))) void check_ascii(__m256i input) {
    error = _mm256_or_si256(error, previous_incomplete);
    previous_incomplete = _mm256_setzero_si256();
    previous = input;
  }

  __attribute__((target("avx2"))) bool failed() const { return !_mm256_testz_si256(error, error); }
};

// Validates whole 64-byte blocks from a character boundary; returns how
// many bytes it covered (0 when a block is invalid is told by `ok`). The
// last character may run past the covered bytes: the caller re-checks it.
__attribute__((target("avx2"))) std::size_t validate_blocks_avx2(const unsigned char* p, std::size_t n, bool& ok) {
  avx2_checker checker;
  std::size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 32));
    if (_mm256_movemask_epi8(_mm256_or_si256(a, b)) == 0) {
      checker.check_ascii(b);
    } else {
      checker.check(a);
      checker.check(b);
    }
    // Checked every 1 KiB so that a bad byte early in a long text stops early.
    if ((i & 1023) == 1023 - 63 && checker.failed()) break;
  }
  ok = !checker.failed();
  return i;
}

bool cpu_has_avx2() noexcept {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}
#endif

// Start of the last character in p[0, end) when it needs bytes at or after
// `end`; `end` otherwise.
std::size_t unfinished_tail(const unsigned char* p, std::size_t end) noexcept {
  for (std::size_t back = 1; back <= 3 && back <= end; ++back) {
    const unsigned char c = p[end - back];
    if ((c & 0xC0) == 0x80) continue;  // a continuation: look further back
    if (c < 0xC0) return end;          // ASCII ends a character
    const std::size_t length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    return length > back ? end - back : end;
  }
  return end;
}

}  // namespace

bool utf8_validator::feed(std::string_view bytes) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  if (pending_ != 0) {
    i = n < pending_ ? n : pending_;
    if (!feed_scalar(p, i)) return false;
  }
#ifdef WSCORO_UTF8_AVX2
  if (n - i >= 64 && cpu_has_avx2()) {
    bool ok = false;
    const std::size_t covered = validate_blocks_avx2(p + i, n - i, ok);
    if (!ok) return false;
    i += unfinished_tail(p + i, covered);
  }
#endif
  return feed_scalar(p + i, n - i);
}

bool utf8_validator::feed_scalar(const unsigned char* p, std::size_t n) noexcept {
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
