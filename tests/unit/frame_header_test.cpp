#include <doctest/doctest.h>

#include <string>

#include "wscoro/error.hpp"
#include "ws/frame_header.hpp"

using namespace wscoro::ws;
using wscoro::error;

namespace {

frame_header roundtrip(const frame_header& h, std::size_t& size) {
  char buffer[max_header_size];
  size = encode_header(h, buffer);
  frame_header out;
  std::error_code ec;
  // Every shorter prefix is "need more", never an error.
  for (std::size_t cut = 0; cut < size; ++cut) {
    CHECK(decode_header(std::string_view(buffer, cut), out, ec) == 0);
    CHECK_FALSE(ec);
  }
  CHECK(decode_header(std::string_view(buffer, size), out, ec) == size);
  CHECK_FALSE(ec);
  return out;
}

}  // namespace

TEST_CASE("frame header: every length boundary encodes minimally and decodes back") {
  struct boundary {
    std::uint64_t length;
    std::size_t unmasked_size;
  };
  const boundary cases[] = {
      {0, 2},     {1, 2},          {125, 2},          {126, 4},          {127, 4},
      {65535, 4}, {65536, 10},     {65537, 10},       {(1ULL << 32) - 1, 10},
      {1ULL << 32, 10}, {(1ULL << 32) + 5, 10},  {(1ULL << 63) - 1, 10},
  };
  for (const boundary& b : cases) {
    for (bool masked : {false, true}) {
      frame_header h;
      h.raw_opcode = 2;
      h.length = b.length;
      h.masked = masked;
      h.key = {9, 8, 7, 6};
      std::size_t size = 0;
      const frame_header out = roundtrip(h, size);
      CHECK(size == b.unmasked_size + (masked ? 4 : 0));
      CHECK(out.length == b.length);
      CHECK(out.masked == masked);
      if (masked) CHECK(out.key == h.key);
    }
  }
}

TEST_CASE("frame header: flags and opcode survive a round trip") {
  frame_header h;
  h.fin = false;
  h.rsv1 = true;
  h.rsv3 = true;
  h.raw_opcode = 0xB;
  std::size_t size = 0;
  const frame_header out = roundtrip(h, size);
  CHECK_FALSE(out.fin);
  CHECK(out.rsv1);
  CHECK_FALSE(out.rsv2);
  CHECK(out.rsv3);
  CHECK(out.raw_opcode == 0xB);
}

TEST_CASE("frame header: non-minimal lengths and a 64-bit length with its top bit are errors") {
  frame_header out;
  std::error_code ec;
  const std::string len16_small("\x82\x7e\x00\x7d", 4);  // 125 in the 16-bit form
  CHECK(decode_header(len16_small, out, ec) == 0);
  CHECK(ec == error::non_minimal_length);

  ec = {};
  const std::string len64_small("\x82\x7f\x00\x00\x00\x00\x00\x00\xff\xff", 10);  // 65535 in the 64-bit form
  CHECK(decode_header(len64_small, out, ec) == 0);
  CHECK(ec == error::non_minimal_length);

  ec = {};
  const std::string len64_top("\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00", 10);  // 2^63
  CHECK(decode_header(len64_top, out, ec) == 0);
  CHECK(ec == error::length_too_large);
}
