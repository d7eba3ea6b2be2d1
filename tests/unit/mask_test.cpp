#include <doctest/doctest.h>

#include <set>
#include <string>

#include "ws/mask.hpp"

using namespace wscoro::ws;

namespace {

std::string mask_bytewise(std::string s, mask_key key, std::size_t offset) {
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(s[i] ^ key[(offset + i) % 4]);
  return s;
}

}  // namespace

TEST_CASE("mask: RFC 6455 5.7 example, 'Hello' masked with 37 fa 21 3d") {
  std::string hello = "Hello";
  apply_mask(hello.data(), hello.size(), {0x37, 0xfa, 0x21, 0x3d});
  CHECK(hello == std::string("\x7f\x9f\x4d\x51\x58", 5));
}

TEST_CASE("mask: matches a byte-wise reference for every size, offset and alignment") {
  const mask_key key{0xa1, 0x02, 0xf3, 0x7c};
  std::string source;
  for (int i = 0; i < 300; ++i) source.push_back(static_cast<char>(i * 7 + 3));
  for (std::size_t align = 0; align < 8; ++align) {
    for (std::size_t size : {0u, 1u, 3u, 4u, 7u, 8u, 9u, 31u, 32u, 33u, 64u, 65u, 200u}) {
      for (std::size_t offset = 0; offset < 4; ++offset) {
        std::string buffer = source.substr(0, align + size);
        apply_mask(buffer.data() + align, size, key, offset);
        CHECK(buffer.substr(align) == mask_bytewise(source.substr(align, size), key, offset));
        CHECK(buffer.substr(0, align) == source.substr(0, align));
      }
    }
  }
}

TEST_CASE("mask: masking in pieces equals masking at once") {
  const mask_key key{1, 2, 3, 4};
  std::string whole(1000, 'x');
  std::string pieces = whole;
  apply_mask(whole.data(), whole.size(), key);
  std::size_t at = 0;
  for (std::size_t step : {1u, 2u, 5u, 13u, 64u, 3u, 912u}) {
    apply_mask(pieces.data() + at, step, key, at);
    at += step;
  }
  REQUIRE(at == pieces.size());
  CHECK(pieces == whole);
}

TEST_CASE("mask: keys are not repeated") {
  std::set<std::array<unsigned char, 4>> seen;
  for (int i = 0; i < 500; ++i) seen.insert(next_mask_key());
  CHECK(seen.size() >= 495);  // 500 draws from 2^32: a collision is very unlikely
}
