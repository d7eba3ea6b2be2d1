#include <doctest/doctest.h>

#include <algorithm>
#include <span>
#include <string>
#include <vector>

#include "frame_test_util.hpp"
#include "wscoro/error.hpp"
#include "ws/decoder.hpp"

using namespace wscoro;
using wscoro::test::close_payload;
using wscoro::test::raw_frame;
using ws::decoder;
using ws::role;

namespace {

using outcome = wscoro::test::decoded;

outcome decode_all(const std::string& bytes, std::size_t chunk = 1 << 30, std::size_t limit = 1 << 24,
                   role r = role::client) {
  decoder d(r, limit);
  return wscoro::test::decode_in_chunks(d, bytes, chunk);
}

}  // namespace

TEST_CASE("decoder: unfragmented text and binary messages at every length boundary") {
  for (std::size_t n : {0u, 1u, 125u, 126u, 127u, 65535u, 65536u, 100000u}) {
    const std::string payload(n, 'q');
    for (std::size_t chunk : {std::size_t{1} << 30, std::size_t{7}}) {
      if (chunk == 7 && n > 70000) continue;  // byte-sized chunks of big payloads add nothing but time
      auto t = decode_all(raw_frame(0x81, payload), chunk);
      REQUIRE_FALSE(t.error);
      REQUIRE(t.events.size() == 1);
      CHECK(std::get<text>(t.events[0]).data == payload);
      auto b = decode_all(raw_frame(0x82, payload), chunk);
      REQUIRE(b.events.size() == 1);
      CHECK(std::get<binary>(b.events[0]).data == payload);
    }
  }
}

TEST_CASE("decoder: messages split into 1-byte chunks") {
  const std::string bytes = raw_frame(0x81, "Hello") + raw_frame(0x89, "p") + raw_frame(0x82, std::string(300, 'z'));
  auto r = decode_all(bytes, 1);
  REQUIRE_FALSE(r.error);
  REQUIRE(r.events.size() == 3);
  CHECK(std::get<text>(r.events[0]).data == "Hello");
  CHECK(std::get<ping>(r.events[1]).data == "p");
  CHECK(std::get<binary>(r.events[2]).data == std::string(300, 'z'));
}

TEST_CASE("decoder: a fragmented message is reassembled, with control frames between fragments") {
  const std::string bytes = raw_frame(0x01, "Hel") + raw_frame(0x89, "mid") + raw_frame(0x00, "") +
                            raw_frame(0x8A, "pong") + raw_frame(0x80, "lo");
  for (std::size_t chunk : {std::size_t{1} << 30, std::size_t{1}, std::size_t{3}}) {
    auto r = decode_all(bytes, chunk);
    REQUIRE_FALSE(r.error);
    REQUIRE(r.events.size() == 3);
    CHECK(std::get<ping>(r.events[0]).data == "mid");
    CHECK(std::get<pong>(r.events[1]).data == "pong");
    CHECK(std::get<text>(r.events[2]).data == "Hello");
  }
}

TEST_CASE("decoder: text split inside a multi-byte character across fragments is valid") {
  const std::string euro = "\xe2\x82\xac";
  auto r = decode_all(raw_frame(0x01, euro.substr(0, 1)) + raw_frame(0x00, euro.substr(1, 1)) +
                      raw_frame(0x80, euro.substr(2)));
  REQUIRE_FALSE(r.error);
  CHECK(std::get<text>(r.events.at(0)).data == euro);
}

TEST_CASE("decoder: control frame rules") {
  SUBCASE("ping and pong with 125-byte payloads") {
    auto r = decode_all(raw_frame(0x89, std::string(125, 'x')) + raw_frame(0x8A, std::string(125, 'y')));
    REQUIRE_FALSE(r.error);
    CHECK(std::get<ping>(r.events.at(0)).data.size() == 125);
    CHECK(std::get<pong>(r.events.at(1)).data.size() == 125);
  }
  SUBCASE("a 126-byte ping is rejected") {
    CHECK(decode_all(raw_frame(0x89, std::string(126, 'x'))).error == error::control_frame_too_large);
  }
  SUBCASE("a fragmented ping is rejected") {
    CHECK(decode_all(raw_frame(0x09, "a")).error == error::fragmented_control_frame);
  }
  SUBCASE("a fragmented close is rejected") {
    CHECK(decode_all(raw_frame(0x08, "")).error == error::fragmented_control_frame);
  }
}

TEST_CASE("decoder: reserved bits and opcodes") {
  CHECK(decode_all(raw_frame(0xC1, "x")).error == error::reserved_bits_set);  // RSV1
  CHECK(decode_all(raw_frame(0xA1, "x")).error == error::reserved_bits_set);  // RSV2
  CHECK(decode_all(raw_frame(0x91, "x")).error == error::reserved_bits_set);  // RSV3
  for (std::uint8_t op : {3, 4, 5, 6, 7, 11, 12, 13, 14, 15})
    CHECK(decode_all(raw_frame(static_cast<std::uint8_t>(0x80 | op), "")).error == error::reserved_opcode);
}

TEST_CASE("decoder: fragmentation errors") {
  CHECK(decode_all(raw_frame(0x80, "stray")).error == error::unexpected_continuation);
  CHECK(decode_all(raw_frame(0x00, "stray")).error == error::unexpected_continuation);
  CHECK(decode_all(raw_frame(0x01, "a") + raw_frame(0x81, "b")).error == error::expected_continuation);
  CHECK(decode_all(raw_frame(0x02, "a") + raw_frame(0x02, "b")).error == error::expected_continuation);
}

TEST_CASE("decoder: masking rules depend on the role") {
  CHECK(decode_all(raw_frame(0x81, "hi", "abcd")).error == error::masked_frame);
  CHECK(decode_all(raw_frame(0x81, "hi"), 1 << 30, 1 << 24, role::server).error == error::unmasked_frame);
  auto r = decode_all(raw_frame(0x81, "hello, server", "\x01\x02\x03\x04"), 3, 1 << 24, role::server);
  REQUIRE_FALSE(r.error);
  CHECK(std::get<text>(r.events.at(0)).data == "hello, server");
}

TEST_CASE("decoder: invalid UTF-8 fails fast, before the message is complete") {
  decoder d(role::client, 1 << 20);
  // The header declares 100 bytes; the second byte already makes the text invalid.
  std::string bytes = raw_frame(0x81, std::string(100, 'a')).substr(0, 2) + "\xf4\x90";
  auto r = d.decode(bytes);
  CHECK(r.error == error::invalid_utf8);
  CHECK(decode_all(raw_frame(0x81, "\xce\xba\xe1")).error == error::invalid_utf8);  // truncated at FIN
  CHECK(decode_all(raw_frame(0x01, "ok") + raw_frame(0x80, "\xc0\xaf")).error == error::invalid_utf8);
}

TEST_CASE("decoder: close frames") {
  SUBCASE("empty close reports no status") {
    auto r = decode_all(raw_frame(0x88, ""));
    CHECK(std::get<close_frame>(r.events.at(0)) == close_frame(close_code::no_status, ""));
  }
  SUBCASE("code and reason") {
    auto r = decode_all(raw_frame(0x88, close_payload(4001, "bye now")));
    CHECK(std::get<close_frame>(r.events.at(0)) == close_frame(4001, "bye now"));
  }
  SUBCASE("a 1-byte payload is a protocol error") {
    CHECK(decode_all(raw_frame(0x88, "\x03")).error == error::invalid_close_payload);
  }
  SUBCASE("codes allowed on the wire") {
    for (std::uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999,
                               4000, 4999}) {
      auto r = decode_all(raw_frame(0x88, close_payload(code)));
      CHECK_MESSAGE(!r.error, "code " << code);
    }
  }
  SUBCASE("codes not allowed on the wire") {
    for (std::uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
      auto r = decode_all(raw_frame(0x88, close_payload(code)));
      CHECK_MESSAGE(r.error == error::invalid_close_code, "code " << code);
    }
  }
  SUBCASE("a reason that is not UTF-8") {
    CHECK(decode_all(raw_frame(0x88, close_payload(1000, "\xff"))).error == error::invalid_utf8_close_reason);
  }
  SUBCASE("nothing is decoded after a close frame") {
    auto r = decode_all(raw_frame(0x88, close_payload(1000)) + raw_frame(0x81, "after"));
    CHECK_FALSE(r.error);
    CHECK(r.events.size() == 1);
  }
}

TEST_CASE("decoder: max_message_size is enforced before allocating") {
  CHECK_FALSE(decode_all(raw_frame(0x82, std::string(1000, 'x')), 1 << 30, 1000).error);
  CHECK(decode_all(raw_frame(0x82, std::string(1001, 'x')), 1 << 30, 1000).error == error::message_too_big);
  // Across fragments.
  CHECK(decode_all(raw_frame(0x02, std::string(600, 'x')) + raw_frame(0x80, std::string(401, 'x')), 1 << 30, 1000)
            .error == error::message_too_big);
  // A header declaring 2^62 bytes fails at once, with nothing reserved.
  const std::string huge("\x82\x7f\x40\x00\x00\x00\x00\x00\x00\x00", 10);
  decoder d(role::client, 1 << 20);
  auto r = d.decode(huge);
  CHECK(r.error == error::message_too_big);
}

TEST_CASE("decoder: close codes for failures") {
  CHECK(ws::close_code_for(error::invalid_utf8) == 1007);
  CHECK(ws::close_code_for(error::invalid_utf8_close_reason) == 1007);
  CHECK(ws::close_code_for(error::message_too_big) == 1009);
  CHECK(ws::close_code_for(error::reserved_opcode) == 1002);
  CHECK(ws::close_code_for(error::masked_frame) == 1002);
}

namespace {

// Decodes `bytes` as a reader that reads payload straight into the message
// whenever the decoder offers room: buffered reads of `chunk` bytes for
// headers, direct reads of up to `direct` bytes inside payloads.
outcome decode_reading_into_message(const std::string& bytes, std::size_t chunk, std::size_t direct,
                                    role r = role::client) {
  decoder d(r, 1 << 24);
  outcome out;
  std::string pending;
  std::size_t at = 0;
  bool committed = false;
  while (!out.error) {
    for (;;) {
      if (pending.empty() && !committed) break;
      committed = false;
      auto res = d.decode(pending);
      pending.erase(0, res.consumed);
      if (res.error) {
        out.error = res.error;
        return out;
      }
      if (!res.event) break;
      out.events.push_back(std::move(*res.event));
    }
    if (at == bytes.size()) break;
    if (pending.empty() && d.payload_to_come() > 0) {
      const std::span<char> space = d.payload_space(direct);
      REQUIRE(!space.empty());
      const std::size_t n = std::min(space.size(), bytes.size() - at);
      std::copy_n(bytes.data() + at, n, space.data());
      at += n;
      out.error = d.commit_payload(n);
      committed = true;
      continue;
    }
    pending += bytes.substr(at, chunk);
    at = std::min(bytes.size(), at + chunk);
  }
  return out;
}

}  // namespace

TEST_CASE("decoder: payload read straight into the message gives the same messages and errors") {
  std::string big_text;
  while (big_text.size() < 200000) big_text += "κόσμε-€-😀 ";
  std::string stream = raw_frame(0x81, big_text) + raw_frame(0x89, "ping") + raw_frame(0x02, std::string(70000, 'x')) +
                       raw_frame(0x80, std::string(100, 'y')) + raw_frame(0x82, "small");
  const outcome expected = decode_all(stream);
  REQUIRE(expected.events.size() == 4);
  for (std::size_t chunk : {7u, 1000u, 65536u}) {
    for (std::size_t direct : {1u, 13u, 4096u, 1u << 20}) {
      CAPTURE(chunk);
      CAPTURE(direct);
      const outcome got = decode_reading_into_message(stream, chunk, direct);
      CHECK_FALSE(got.error);
      CHECK(got.events == expected.events);
    }
  }

  // Masked (a server's decoder), at odd offsets of the key.
  const char key[] = {'\x12', '\x34', '\x56', '\x78'};
  const std::string masked = raw_frame(0x82, std::string(100001, 'm'), key);
  const outcome masked_got = decode_reading_into_message(masked, 5, 333, role::server);
  REQUIRE(masked_got.events.size() == 1);
  CHECK(masked_got.events[0] == frame(binary(std::string(100001, 'm'))));

  // Invalid UTF-8 read straight into a text message is still 1007's error.
  std::string bad = big_text;
  bad[150000] = '\xff';
  const outcome bad_got = decode_reading_into_message(raw_frame(0x81, bad), 1000, 4096);
  CHECK(bad_got.error == error::invalid_utf8);
}
