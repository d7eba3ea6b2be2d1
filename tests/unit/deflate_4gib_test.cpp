// permessage-deflate with one message of 4 GiB and more, by hand.
#include <doctest/doctest.h>

#include <string>

#include "wscoro/error.hpp"
#include "ws/deflate_codec.hpp"

using namespace wscoro;

// The real thing, a message longer than 4 GiB, which a cast to unsigned int
// once cut to 5 bytes. Not in the suite (about 10 GB of memory and a
// minute): `ninja -C build tests/deflate_4gib_test && build/tests/deflate_4gib_test`.
// The suite tests the same code path with small pieces (deflate_test.cpp).
TEST_CASE("deflate codec: a message of 4 GiB and more round trips whole") {
  const std::size_t size = (std::size_t{1} << 32) + 5;
  std::string compressed;
  {
    const std::string message(size, 'a');
    ws::message_deflater out(15, false, 1, 8);
    out.compress(message, compressed);
  }
  ws::message_inflater in(15, false);
  std::string inflated;
  REQUIRE_FALSE(in.inflate(compressed, inflated, size));
  REQUIRE_FALSE(in.finish(inflated, size));
  CHECK(inflated.size() == size);
  CHECK(inflated.find_first_not_of('a') == std::string::npos);
}

