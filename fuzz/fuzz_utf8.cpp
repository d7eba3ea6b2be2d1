// ws::utf8_validator, fed in pieces and a byte at a time, and
// ws::is_valid_utf8 against the reference checker in fuzz_common.hpp.
//
// Input: byte 0 picks the pieces (fuzz::chunker); the rest is the text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_common.hpp"
#include "fuzz_targets.hpp"
#include "ws/utf8.hpp"

int fuzz_utf8_one(const std::uint8_t* data, std::size_t size) {
  using namespace wscoro;
  using namespace wscoro::fuzz;
  input in(data, size);
  chunker cut(in.take_byte());
  const std::string_view s = in.rest();
  const utf8_reference ref = check_utf8_reference(s);

  FUZZ_CHECK(ws::is_valid_utf8(s) == ref.valid);

  // In pieces: each feed succeeds exactly while what came so far can still
  // become valid UTF-8, so it fails with the piece holding the first bad byte.
  ws::utf8_validator v;
  bool ok = true;
  for (std::size_t at = 0; at < s.size();) {
    const std::size_t n = cut.next(s.size() - at);
    ok = v.feed(s.substr(at, n));
    at += n;
    FUZZ_CHECK(ok == (ref.good_prefix >= at));
    if (!ok) break;
  }
  if (ok) FUZZ_CHECK(v.complete() == ref.valid);

  // A byte at a time: the first rejected byte is the first bad one.
  v.reset();
  std::size_t accepted = 0;
  while (accepted < s.size() && v.feed(s.substr(accepted, 1))) ++accepted;
  FUZZ_CHECK(accepted == ref.good_prefix);
  if (accepted == s.size()) FUZZ_CHECK(v.complete() == ref.valid);

  // reset() forgets an unfinished or failed sequence.
  v.reset();
  FUZZ_CHECK(v.complete());
  FUZZ_CHECK(v.feed("ok") && v.complete());
  FUZZ_CHECK(v.feed(s) == (ref.good_prefix == s.size()));
  return 0;
}

WSCORO_FUZZ_ENTRY(fuzz_utf8_one)
