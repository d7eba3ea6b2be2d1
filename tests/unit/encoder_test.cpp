#include <doctest/doctest.h>

#include "wscoro/error.hpp"
#include "ws/decoder.hpp"
#include "ws/encoder.hpp"

using namespace wscoro;

namespace {

frame decode_one(const std::string& bytes, ws::role r) {
  ws::decoder d(r, 1 << 26);
  auto res = d.decode(bytes);
  REQUIRE_FALSE(res.error);
  REQUIRE(res.consumed == bytes.size());
  REQUIRE(res.event);
  return *res.event;
}

}  // namespace

TEST_CASE("encoder: a client masks every frame and a server-role decoder reads it back") {
  ws::encoder enc(ws::role::client);
  const frame frames[] = {text("hello"), binary(std::string(70000, '\x01')), ping("p"), pong(""),
                          close_frame(1000, "bye"), text(""), binary(std::string(126, 'b'))};
  for (const frame& f : frames) {
    std::string out;
    enc.encode(f, out);
    CHECK((static_cast<unsigned char>(out[1]) & 0x80) != 0);  // MASK bit
    CHECK(decode_one(out, ws::role::server) == f);
  }
}

TEST_CASE("encoder: a server does not mask") {
  ws::encoder enc(ws::role::server);
  std::string out;
  enc.encode(text("abc"), out);
  CHECK(out == std::string("\x81\x03" "abc", 5));
}

TEST_CASE("encoder: sending close with no_status sends an empty close frame") {
  ws::encoder enc(ws::role::server);
  std::string out;
  enc.encode(close_frame(close_code::no_status), out);
  CHECK(out == std::string("\x88\x00", 2));
}

TEST_CASE("encoder: validate refuses what RFC 6455 does not allow") {
  CHECK_FALSE(ws::encoder::validate(ping(std::string(125, 'x'))));
  CHECK(ws::encoder::validate(ping(std::string(126, 'x'))) == error::invalid_frame_to_send);
  CHECK(ws::encoder::validate(pong(std::string(200, 'x'))) == error::invalid_frame_to_send);
  CHECK(ws::encoder::validate(text("\xc0\xaf")) == error::invalid_utf8_to_send);
  CHECK_FALSE(ws::encoder::validate(binary("\xc0\xaf")));
  CHECK(ws::encoder::validate(close_frame(1005)) == std::error_code{});
  CHECK(ws::encoder::validate(close_frame(1005, "reason without code")) == error::invalid_frame_to_send);
  CHECK(ws::encoder::validate(close_frame(1006)) == error::invalid_frame_to_send);
  CHECK(ws::encoder::validate(close_frame(999)) == error::invalid_frame_to_send);
  CHECK(ws::encoder::validate(close_frame(1000, std::string(123, 'r'))) == std::error_code{});
  CHECK(ws::encoder::validate(close_frame(1000, std::string(124, 'r'))) == error::invalid_frame_to_send);
  CHECK(ws::encoder::validate(close_frame(4000, "\xff")) == error::invalid_utf8_to_send);
}

TEST_CASE("encoder: frames append to what the buffer holds") {
  ws::encoder enc(ws::role::server);
  std::string out = "prefix";
  enc.encode(text("a"), out);
  enc.encode(binary("b"), out);
  CHECK(out == std::string("prefix\x81\x01" "a\x82\x01" "b", 12));
}
