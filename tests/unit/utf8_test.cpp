#include <doctest/doctest.h>

#include <string>

#include "ws/utf8.hpp"

using wscoro::ws::is_valid_utf8;
using wscoro::ws::utf8_validator;

TEST_CASE("utf8: valid text of 1 to 4 byte sequences") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain ASCII, long enough to take the word-at-a-time path of the validator"));
  CHECK(is_valid_utf8("\xc2\x80"));                  // U+0080
  CHECK(is_valid_utf8("\xdf\xbf"));                  // U+07FF
  CHECK(is_valid_utf8("\xe0\xa0\x80"));              // U+0800
  CHECK(is_valid_utf8("\xed\x9f\xbf"));              // U+D7FF
  CHECK(is_valid_utf8("\xee\x80\x80"));              // U+E000
  CHECK(is_valid_utf8("\xef\xbf\xbf"));              // U+FFFF
  CHECK(is_valid_utf8("\xf0\x90\x80\x80"));          // U+10000
  CHECK(is_valid_utf8("\xf4\x8f\xbf\xbf"));          // U+10FFFF
  CHECK(is_valid_utf8("κόσμε Hello-µ@ßöäüàá-UTF-8!!"));
}

TEST_CASE("utf8: invalid sequences are rejected") {
  CHECK_FALSE(is_valid_utf8("\x80"));                // lone continuation
  CHECK_FALSE(is_valid_utf8("\xc0\xaf"));            // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xc1\xbf"));            // overlong
  CHECK_FALSE(is_valid_utf8("\xe0\x80\xaf"));        // overlong 3-byte
  CHECK_FALSE(is_valid_utf8("\xf0\x80\x80\xaf"));    // overlong 4-byte
  CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));        // U+D800 surrogate
  CHECK_FALSE(is_valid_utf8("\xed\xbf\xbf"));        // U+DFFF surrogate
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));    // U+110000
  CHECK_FALSE(is_valid_utf8("\xf5\x80\x80\x80"));    // lead byte F5
  CHECK_FALSE(is_valid_utf8("\xff"));
  CHECK_FALSE(is_valid_utf8("\xce\xba\xe1\xbd"));    // truncated at the end
  CHECK_FALSE(is_valid_utf8("abc\xe1\xbd" "def"));   // interrupted sequence
}

TEST_CASE("utf8: every split of every multi-byte sequence gives the same verdict") {
  const std::string samples[] = {
      "\xc2\x80", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf",
      "a\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5z", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe0\x80\xaf",
  };
  for (const std::string& s : samples) {
    const bool whole = is_valid_utf8(s);
    for (std::size_t cut = 0; cut <= s.size(); ++cut) {
      for (std::size_t cut2 = cut; cut2 <= s.size(); ++cut2) {
        utf8_validator v;
        const bool ok = v.feed(s.substr(0, cut)) && v.feed(s.substr(cut, cut2 - cut)) && v.feed(s.substr(cut2)) &&
                        v.complete();
        CHECK_MESSAGE(ok == whole, "sample of " << s.size() << " bytes split at " << cut << "," << cut2);
      }
    }
  }
}

TEST_CASE("utf8: fails fast at the first byte that cannot be valid") {
  utf8_validator v;
  CHECK(v.feed("\xf4"));
  CHECK_FALSE(v.feed("\x90"));  // F4 90 is already above U+10FFFF: no need to wait for more bytes
  utf8_validator w;
  CHECK(w.feed("\xed"));
  CHECK_FALSE(w.feed("\xa0"));  // a surrogate, known at its second byte
  utf8_validator x;
  CHECK(x.feed("\xe0"));
  CHECK_FALSE(x.feed("\x9f"));  // overlong, known at its second byte
  utf8_validator y;
  CHECK(y.feed("\xce"));
  CHECK_FALSE(y.complete());    // unfinished but not yet wrong
}

TEST_CASE("utf8: a non-ASCII byte after a long ASCII run is still checked") {
  for (std::size_t prefix = 0; prefix < 70; ++prefix) {
    std::string s(prefix, 'a');
    CHECK(is_valid_utf8(s + "\xc3\xa9"));
    CHECK_FALSE(is_valid_utf8(s + "\xc3"));
    CHECK_FALSE(is_valid_utf8(s + "\xff" + std::string(40, 'b')));
  }
}

namespace {

// How many leading bytes of `s` a validator fed one byte at a time accepts:
// single bytes never reach the 64-byte block path, so this is the byte state
// machine's verdict, to hold the block path against.
std::size_t accepted_byte_by_byte(const std::string& s, bool& complete) {
  utf8_validator v;
  std::size_t n = 0;
  while (n < s.size() && v.feed(std::string_view(s).substr(n, 1))) ++n;
  complete = v.complete();
  return n;
}

}  // namespace

TEST_CASE("utf8: the 64-byte block path agrees with the byte state machine on long mixed text") {
  // Characters of every length and every boundary code point, plus single
  // corruptions at every kind of position, in texts of 64 to 4 KiB.
  const std::string pieces[] = {
      "a", "~", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbf",
      "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"};
  const char bad_bytes[] = {'\x80', '\xbf', '\xc0', '\xc1', '\xe0', '\xed', '\xf0', '\xf4', '\xf5', '\xff', 'A'};
  std::uint32_t seed = 12345;
  const auto next = [&seed] {
    seed = seed * 1664525u + 1013904223u;
    return seed >> 8;
  };
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    const std::size_t target = 64 + next() % 4032;
    const bool ascii_runs = round % 3 == 0;  // long ASCII stretches between characters
    while (text.size() < target) {
      text += pieces[next() % std::size(pieces)];
      if (ascii_runs && next() % 8 == 0) text.append(next() % 200, 'x');
    }
    if (round % 2 == 1) text[next() % text.size()] = bad_bytes[next() % std::size(bad_bytes)];

    bool complete = false;
    const std::size_t good = accepted_byte_by_byte(text, complete);
    const bool valid = good == text.size() && complete;
    CAPTURE(round);
    CHECK(is_valid_utf8(text) == valid);

    // In two pieces cut anywhere: the first piece fails exactly when it holds the first bad byte.
    const std::size_t cut = next() % text.size();
    utf8_validator v;
    const bool first_ok = v.feed(std::string_view(text).substr(0, cut));
    CHECK(first_ok == (good >= cut));
    if (first_ok) {
      const bool second_ok = v.feed(std::string_view(text).substr(cut));
      CHECK(second_ok == (good == text.size()));
      if (second_ok) CHECK(v.complete() == complete);
    }
  }
}
