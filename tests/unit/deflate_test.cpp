// permessage-deflate: the negotiation rules of RFC 7692 section 7.1, the
// codec of section 7.2, and the decoder's RSV1 rules. Compressed input is
// made with zlib directly, independently of the deflater under test.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "../support/payloads.hpp"
#include "frame_test_util.hpp"
#include "wscoro/error.hpp"
#include "ws/decoder.hpp"
#include "ws/deflate_codec.hpp"
#include "ws/deflate_negotiation.hpp"
#include "ws/encoder.hpp"
#include "ws/handshake.hpp"

#if WSCORO_HAVE_ZLIB
#include <zlib.h>
#endif

using namespace wscoro;
using wscoro::test::noise;
using wscoro::test::raw_frame;

namespace {

std::error_code answer(std::string_view header, const deflate_options& offer,
                       std::optional<ws::deflate_parameters>& agreed) {
  return ws::accept_deflate_answer(header, &offer, agreed);
}

std::error_code answer(std::string_view header, const deflate_options& offer) {
  std::optional<ws::deflate_parameters> agreed;
  return ws::accept_deflate_answer(header, &offer, agreed);
}

deflate_options limited(int client_bits, int server_bits) {
  deflate_options o;
  o.client_max_window_bits = client_bits;
  o.server_max_window_bits = server_bits;
  return o;
}

}  // namespace

TEST_CASE("deflate negotiation: the offer says what the options ask") {
  CHECK(ws::deflate_offer(deflate_options()) == "permessage-deflate; client_max_window_bits");
  deflate_options all = limited(9, 10);
  all.client_no_context_takeover = true;
  all.server_no_context_takeover = true;
  CHECK(ws::deflate_offer(all) ==
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; "
        "client_max_window_bits=9");
  all.compat = true;
  CHECK(ws::deflate_offer(all) == "permessage-deflate");
  // Out-of-range numbers are brought into range.
  CHECK(ws::deflate_offer(limited(3, 20)) == "permessage-deflate; client_max_window_bits=8");
  const auto c = ws::clamped(limited(99, 0));
  CHECK(c.client_max_window_bits == 15);
  CHECK(c.server_max_window_bits == 8);
}

TEST_CASE("deflate negotiation: answers the offer allows, and the parameters in force") {
  const deflate_options offer;
  std::optional<ws::deflate_parameters> agreed;

  SUBCASE("no answer: the server declined, nothing is compressed") {
    CHECK_FALSE(answer("", offer, agreed));
    CHECK_FALSE(agreed);
    CHECK_FALSE(answer(" , ,", offer, agreed));
    CHECK_FALSE(agreed);
  }
  SUBCASE("the bare extension: every default") {
    REQUIRE_FALSE(answer("permessage-deflate", offer, agreed));
    REQUIRE(agreed);
    CHECK(*agreed == ws::deflate_parameters());
    CHECK(agreed->to_string() == "permessage-deflate");
  }
  SUBCASE("limits and flags, names in any case, quoted values, spaces") {
    REQUIRE_FALSE(answer(" Permessage-Deflate ;server_max_window_bits=12 ; CLIENT_MAX_WINDOW_BITS=\"11\"; "
                         "server_no_context_takeover;client_no_context_takeover ",
                         offer, agreed));
    REQUIRE(agreed);
    CHECK(agreed->server_max_window_bits == 12);
    CHECK(agreed->client_max_window_bits == 11);
    CHECK(agreed->server_no_context_takeover);
    CHECK(agreed->client_no_context_takeover);
    CHECK(agreed->to_string() ==
          "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; "
          "client_max_window_bits=11");
  }
  SUBCASE("the server may ask for client_no_context_takeover unasked, and limit its own window unasked") {
    REQUIRE_FALSE(answer("permessage-deflate; client_no_context_takeover; server_max_window_bits=8", offer, agreed));
    CHECK(agreed->client_no_context_takeover);
    CHECK(agreed->server_max_window_bits == 8);
  }
  SUBCASE("our own client window limit holds when the server allows more") {
    REQUIRE_FALSE(answer("permessage-deflate; client_max_window_bits=13", limited(10, 15), agreed));
    CHECK(agreed->client_max_window_bits == 10);
    REQUIRE_FALSE(answer("permessage-deflate", limited(10, 15), agreed));
    CHECK(agreed->client_max_window_bits == 10);
  }
  SUBCASE("a server window up to the one offered") {
    REQUIRE_FALSE(answer("permessage-deflate; server_max_window_bits=10", limited(15, 10), agreed));
    CHECK(agreed->server_max_window_bits == 10);
    REQUIRE_FALSE(answer("permessage-deflate; server_max_window_bits=9", limited(15, 10), agreed));
    CHECK(agreed->server_max_window_bits == 9);
  }
  SUBCASE("our client_no_context_takeover holds whatever the answer") {
    deflate_options o;
    o.client_no_context_takeover = true;
    REQUIRE_FALSE(answer("permessage-deflate", o, agreed));
    CHECK(agreed->client_no_context_takeover);
  }
  SUBCASE("compat: no parameter offered, the server may still limit itself") {
    deflate_options o = limited(9, 9);
    o.compat = true;
    o.server_no_context_takeover = true;  // not offered in compat mode, so not required
    REQUIRE_FALSE(answer("permessage-deflate; server_max_window_bits=14; server_no_context_takeover", o, agreed));
    CHECK(agreed->server_max_window_bits == 14);
    CHECK(agreed->client_max_window_bits == 15);
    CHECK(agreed->server_no_context_takeover);
  }
}

TEST_CASE("deflate negotiation: every answer the client did not allow fails with its own error") {
  const deflate_options offer;
  std::optional<ws::deflate_parameters> agreed;

  // Extensions.
  CHECK(answer("x-webkit-deflate-frame", offer) == error::unoffered_extension);
  CHECK(answer("permessage-deflate, x-other", offer) == error::unoffered_extension);
  CHECK(ws::accept_deflate_answer("permessage-deflate", nullptr, agreed) == error::unoffered_extension);
  CHECK(answer("permessage-deflate, permessage-deflate", offer) == error::duplicate_extension);

  // Parameters.
  CHECK(answer("permessage-deflate; server_no_context_takeover; server_no_context_takeover", offer) ==
        error::duplicate_extension_parameter);
  CHECK(answer("permessage-deflate; client_max_window_bits=10; Client_Max_Window_Bits=10", offer) ==
        error::duplicate_extension_parameter);
  CHECK(answer("permessage-deflate; mystery", offer) == error::invalid_extension_parameter);
  CHECK(answer("permessage-deflate; server_no_context_takeover=1", offer) == error::invalid_extension_parameter);
  CHECK(answer("permessage-deflate; client_no_context_takeover=\"\"", offer) == error::invalid_extension_parameter);
  CHECK(answer("permessage-deflate; client_max_window_bits", offer) == error::invalid_extension_parameter);
  for (const char* bad : {"7", "16", "0", "010", "08", "9a", "-9", "\"\"", "1e1", "150"}) {
    INFO("window bits " << bad);
    CHECK(answer(std::string("permessage-deflate; server_max_window_bits=") + bad, offer) ==
          error::invalid_extension_parameter);
    CHECK(answer(std::string("permessage-deflate; client_max_window_bits=") + bad, offer) ==
          error::invalid_extension_parameter);
  }
  // Malformed lists.
  for (const char* bad : {"permessage-deflate;", "permessage-deflate; =9", "permessage-deflate; a=", ";",
                          "permessage-deflate; server_max_window_bits=\"9", "permessage-deflate server_no",
                          "permessage-deflate; server_max_window_bits=9 9", "\"permessage-deflate\""}) {
    INFO("answer " << bad);
    CHECK(answer(bad, offer) == error::invalid_extension_parameter);
  }

  // Valid parameters the offer did not allow.
  CHECK(answer("permessage-deflate; server_max_window_bits=11", limited(15, 10)) ==
        error::extension_parameter_rejected);
  CHECK(answer("permessage-deflate", limited(15, 10)) == error::extension_parameter_rejected);
  deflate_options no_takeover;
  no_takeover.server_no_context_takeover = true;
  CHECK(answer("permessage-deflate", no_takeover) == error::extension_parameter_rejected);
  CHECK_FALSE(answer("permessage-deflate; server_no_context_takeover", no_takeover));
  deflate_options compat;
  compat.compat = true;
  CHECK(answer("permessage-deflate; client_max_window_bits=15", compat) == error::extension_parameter_rejected);

  // A failed answer leaves nothing agreed, even when a first part was fine.
  CHECK(answer("permessage-deflate; mystery", offer, agreed));
  CHECK_FALSE(agreed);
  CHECK(answer("permessage-deflate, permessage-deflate", offer, agreed));
  CHECK_FALSE(agreed);
  CHECK(answer("permessage-deflate, x-other", offer, agreed));
  CHECK_FALSE(agreed);
}

TEST_CASE("deflate negotiation: the 101 check applies it") {
  response head;
  head.status = 101;
  head.headers.add("Upgrade", "websocket");
  head.headers.add("Connection", "Upgrade");
  head.headers.add("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  head.headers.add("Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits=10");
  ws::handshake_offer offer{"dGhlIHNhbXBsZSBub25jZQ==", {}, {}};
  std::string protocol;
  std::optional<ws::deflate_parameters> deflate;
  CHECK(ws::check_upgrade_response(head, offer, protocol, deflate) == error::unoffered_extension);
  offer.deflate = deflate_options();
  REQUIRE_FALSE(ws::check_upgrade_response(head, offer, protocol, deflate));
  REQUIRE(deflate);
  CHECK(deflate->server_max_window_bits == 10);
  offer.deflate->server_max_window_bits = 9;
  CHECK(ws::check_upgrade_response(head, offer, protocol, deflate) == error::extension_parameter_rejected);
  CHECK_FALSE(deflate);
}

#if WSCORO_HAVE_ZLIB

namespace {

// Raw DEFLATE made by zlib itself: a sync flush with its tail stripped, as
// permessage-deflate sends, or a final block (BFINAL) when `final_block`.
// With a `dictionary`, the data may refer back into it, as a message refers
// back into the ones before it under context takeover.
std::string zlib_deflate(std::string_view data, int window_bits = 15, bool final_block = false,
                         std::string_view dictionary = {}) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  if (!dictionary.empty())
    REQUIRE(deflateSetDictionary(&z, reinterpret_cast<const Bytef*>(dictionary.data()),
                                 static_cast<uInt>(dictionary.size())) == Z_OK);
  std::string out(data.size() + data.size() / 100 + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, final_block ? Z_FINISH : Z_SYNC_FLUSH);
  REQUIRE((final_block ? rc == Z_STREAM_END : rc == Z_OK));
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  if (!final_block) {
    REQUIRE(out.size() >= 4);
    CHECK(out.substr(out.size() - 4) == std::string("\x00\x00\xff\xff", 4));
    out.resize(out.size() - 4);
  }
  return out;
}

// Inflates with zlib itself, with exactly `window_bits` of window; empty on error.
std::optional<std::string> zlib_inflate(std::string data, int window_bits) {
  data.append("\x00\x00\xff\xff", 4);
  z_stream z{};
  REQUIRE(inflateInit2(&z, -window_bits) == Z_OK);
  std::string out(1 << 22, '\0');
  z.next_in = reinterpret_cast<Bytef*>(data.data());
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_SYNC_FLUSH);
  inflateEnd(&z);
  if (rc != Z_OK && rc != Z_STREAM_END) return std::nullopt;
  out.resize(out.size() - z.avail_out);
  return out;
}

// Text that compresses like real data: words repeating at varied distances.
std::string words(std::size_t size, unsigned seed = 1) {
  static const char* const vocabulary[] = {"price", "quantity", "symbol", "bid", "ask", "timestamp",
                                           "user", "message", "channel", "42", "1.0375", "EURUSD"};
  std::string s;
  unsigned x = seed;
  while (s.size() < size) {
    x = x * 1103515245u + 12345u;
    s += vocabulary[(x >> 16) % 12];
    s += (x & 0x100) ? ' ' : ',';
  }
  s.resize(size);
  return s;
}

std::string inflate_whole(ws::message_inflater& in, std::string_view compressed, std::size_t limit = 1 << 26) {
  std::string out;
  REQUIRE_FALSE(in.inflate(compressed, out, limit));
  REQUIRE_FALSE(in.finish(out, limit));
  return out;
}

// One message fed to the inflater `chunk` bytes at a time, as frames and reads cut it.
std::string inflate_in_chunks(ws::message_inflater& in, std::string_view compressed, std::size_t chunk) {
  std::string out;
  for (std::size_t at = 0; at < compressed.size(); at += chunk)
    REQUIRE_FALSE(in.inflate(compressed.substr(at, chunk), out, 1 << 26));
  REQUIRE_FALSE(in.finish(out, 1 << 26));
  return out;
}

}  // namespace

TEST_CASE("deflate codec: round trips at every size, with and without context takeover") {
  for (bool takeover : {true, false}) {
    ws::message_deflater out(15, !takeover, -1, 8);
    ws::message_inflater in(15, !takeover);
    for (std::size_t n : {0u, 1u, 2u, 125u, 126u, 1000u, 65535u, 65536u, 70000u, 1u << 20}) {
      for (const std::string& message : {words(n, static_cast<unsigned>(n)), noise(n)}) {
        INFO("takeover " << takeover << ", size " << n);
        std::string compressed;
        out.compress(message, compressed);
        if (n == 0) CHECK(compressed == std::string(1, '\0'));  // RFC 7692 7.2.3.6
        CHECK(inflate_whole(in, compressed) == message);
        // zlib, keeping no context, follows every message when there is none to keep.
        if (!takeover) CHECK(zlib_inflate(compressed, 15) == message);
      }
    }
  }
}

TEST_CASE("deflate codec: context takeover shrinks a repeated message; without it, each message stands alone") {
  const std::string message = words(2000);
  ws::message_deflater keeping(15, false, -1, 8);
  std::string first, second;
  keeping.compress(message, first);
  keeping.compress(message, second);
  CHECK(second.size() * 10 < first.size());
  // An inflater that forgets its window cannot follow the second one.
  ws::message_inflater forgetting(15, true);
  CHECK(inflate_whole(forgetting, first) == message);
  std::string out;
  std::error_code ec = forgetting.inflate(second, out, 1 << 20);
  if (!ec) ec = forgetting.finish(out, 1 << 20);
  CHECK(ec == error::invalid_compressed_data);

  ws::message_deflater resetting(15, true, -1, 8);
  std::string a, b;
  resetting.compress(message, a);
  resetting.compress(message, b);
  CHECK(a == b);
}

TEST_CASE("deflate codec: what zlib and other senders produce inflates, fed in any split") {
  const std::string message = words(100000, 3);
  const std::string compressed = zlib_deflate(message);
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
    ws::message_inflater in(15, false);
    std::string out;
    for (std::size_t at = 0; at < compressed.size(); at += chunk)
      REQUIRE_FALSE(in.inflate(std::string_view(compressed).substr(at, chunk), out, 1 << 20));
    REQUIRE_FALSE(in.finish(out, 1 << 20));
    CHECK(out == message);
  }
  SUBCASE("a sender that ends its message with a final block (BFINAL) and nothing after it") {
    ws::message_inflater in(15, false);
    CHECK(inflate_whole(in, zlib_deflate("first", 15, true)) == "first");
    CHECK(inflate_whole(in, zlib_deflate("second")) == "second");
  }
  SUBCASE("bytes after a final block that are not DEFLATE") {
    ws::message_inflater in(15, false);
    std::string out;
    // 0xff: a block of the reserved type 11.
    CHECK(in.inflate(zlib_deflate("end", 15, true) + "\xff", out, 1 << 20) == error::invalid_compressed_data);
  }
  SUBCASE("data that is not DEFLATE") {
    ws::message_inflater in(15, false);
    std::string out;
    CHECK(in.inflate(std::string("\xff\xff\xff\xff", 4), out, 1 << 20) == error::invalid_compressed_data);
  }
}

TEST_CASE("deflate codec: a final block (BFINAL) followed by more DEFLATE data, as RFC 7692 7.2.3.4 allows") {
  // The RFC's example: "Hello" in a block with BFINAL set, then 00, the
  // header of an empty stored block that the 00 00 ff ff tail completes.
  const std::string rfc_hello("\xf3\x48\xcd\xc9\xc9\x07\x00\x00", 8);
  for (bool takeover : {true, false}) {
    for (std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{7}, std::size_t{8}}) {
      INFO("takeover " << takeover << ", chunk " << chunk);
      ws::message_inflater in(15, !takeover);
      CHECK(inflate_in_chunks(in, rfc_hello, chunk) == "Hello");
      CHECK(inflate_in_chunks(in, zlib_deflate("and the next message"), chunk) == "and the next message");
    }
  }

  // Context takeover: a final block ends zlib's stream, not the LZ77 history
  // that later messages may refer back into.
  const std::string first = words(3000, 5);
  const std::string second = first.substr(100, 2000) + " and something new";
  const std::string second_compressed = zlib_deflate(second, 15, false, first);
  REQUIRE(second_compressed.size() < 200);         // it is mostly references to `first`...
  CHECK_FALSE(zlib_inflate(second_compressed, 15));  // ...which do not inflate without it
  for (std::size_t chunk : {std::size_t{1}, std::size_t{5}, std::size_t{1} << 20}) {
    INFO("chunk " << chunk);
    SUBCASE("the final block followed by an empty stored block") {
      ws::message_inflater in(15, false);
      CHECK(inflate_in_chunks(in, zlib_deflate(first, 15, true) + std::string(1, '\0'), chunk) == first);
      CHECK(inflate_in_chunks(in, second_compressed, chunk) == second);
    }
    SUBCASE("the message ending right at its final block") {
      ws::message_inflater in(15, false);
      CHECK(inflate_in_chunks(in, zlib_deflate(first, 15, true), chunk) == first);
      CHECK(inflate_in_chunks(in, second_compressed, chunk) == second);
    }
    SUBCASE("two streams in one message, the second referring back into the first") {
      ws::message_inflater in(15, true);
      CHECK(inflate_in_chunks(in, zlib_deflate(first, 15, true) + second_compressed, chunk) == first + second);
    }
  }
  SUBCASE("without context takeover the window is still forgotten between messages") {
    ws::message_inflater in(15, true);
    CHECK(inflate_whole(in, zlib_deflate(first, 15, true) + std::string(1, '\0')) == first);
    std::string out;
    std::error_code ec = in.inflate(second_compressed, out, 1 << 20);
    if (!ec) ec = in.finish(out, 1 << 20);
    CHECK(ec == error::invalid_compressed_data);
  }
}

TEST_CASE("deflate codec: a compression bomb stops at the limit without allocating past it") {
  const std::string zeros(16 << 20, '\0');
  const std::string bomb = zlib_deflate(zeros);
  CHECK(bomb.size() < 20000);
  for (std::size_t limit : {std::size_t{0}, std::size_t{1000}, std::size_t{1} << 20}) {
    INFO("limit " << limit);
    ws::message_inflater in(15, false);
    std::string out;
    std::error_code ec = in.inflate(bomb, out, limit);
    if (!ec) ec = in.finish(out, limit);
    CHECK(ec == error::message_too_big);
    CHECK(out.size() <= limit);
    CHECK(out.capacity() <= std::max<std::size_t>(limit, 15));  // 15: an empty string's own buffer
  }
  SUBCASE("exactly the limit passes; one byte more does not") {
    const std::string message = words(5000);
    const std::string compressed = zlib_deflate(message);
    ws::message_inflater exact(15, false);
    CHECK(inflate_whole(exact, compressed, message.size()) == message);
    ws::message_inflater short_by_one(15, false);
    std::string out;
    std::error_code ec = short_by_one.inflate(compressed, out, message.size() - 1);
    if (!ec) ec = short_by_one.finish(out, message.size() - 1);
    CHECK(ec == error::message_too_big);
  }
}

TEST_CASE("deflate codec: a negotiated 8-bit window is safe both ways") {
  // Repeats 300 bytes apart: a 9-bit window would reach back to them.
  std::string message;
  for (int i = 0; i < 400; ++i) message += noise(300, static_cast<unsigned>(i % 3));
  ws::message_deflater eight(8, false, 9, 9);
  std::string compressed;
  eight.compress(message, compressed);
  CHECK(zlib_inflate(compressed, 8) == message);  // a strict 256-byte window follows it
  eight.compress(message, compressed);            // and the next one, with context kept
  CHECK(compressed.size() < message.size());

  // A peer whose zlib silently compresses with 9 bits after agreeing on 8.
  const std::string nine = zlib_deflate(message, 9);
  ws::message_inflater in(8, false);
  CHECK(inflate_whole(in, nine) == message);
}

TEST_CASE("deflate codec: whether a message inflates does not depend on how it was cut") {
  // A peer that agreed on a 9-bit (512-byte) window but refers 3000 bytes
  // back. zlib alone would follow it when it arrives whole (the reference
  // lands in the same output buffer) and refuse it byte by byte (the window
  // only keeps 512 bytes): the close code would follow TCP segmentation.
  const std::string block = noise(3000, 11);
  const std::string message = block + block;
  const std::string far_back = zlib_deflate(message, 15);
  REQUIRE(far_back.size() < 3200);  // the second half is a reference 3000 bytes back
  for (std::size_t chunk : {std::size_t{1}, std::size_t{100}, std::size_t{1} << 20}) {
    INFO("chunk " << chunk);
    ws::message_inflater in(9, false);
    CHECK(inflate_in_chunks(in, far_back, chunk) == message);
  }
  // A reference before the start of the data is refused however it is cut.
  const std::string before_start = zlib_deflate("xyz" + block.substr(0, 100), 15, false, block);
  for (std::size_t chunk : {std::size_t{1}, std::size_t{1} << 20}) {
    INFO("chunk " << chunk);
    ws::message_inflater in(9, false);
    std::string out;
    std::error_code ec;
    for (std::size_t at = 0; at < before_start.size() && !ec; at += chunk)
      ec = in.inflate(std::string_view(before_start).substr(at, chunk), out, 1 << 20);
    if (!ec) ec = in.finish(out, 1 << 20);
    CHECK(ec == error::invalid_compressed_data);
  }
}

TEST_CASE("deflate codec: buffers longer than zlib's unsigned int counts go in pieces") {
  // zlib counts bytes in `unsigned int`; the codec hands it longer buffers
  // in pieces of at most ws::zlib_max_piece bytes. The same loop runs here
  // with pieces of a few bytes, so that no test needs 4 GiB.
  const std::string message = words(100000, 9) + noise(5000, 9);
  for (std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
    INFO("piece " << piece);
    ws::message_deflater out(15, false, -1, 8, piece);
    std::string first, second;
    out.compress(message, first);
    out.compress(message, second);
    CHECK(zlib_inflate(first, 15) == message);  // zlib itself follows every piece
    ws::message_inflater taking_over(15, false);  // and context takeover goes on
    CHECK(inflate_whole(taking_over, first) == message);
    CHECK(inflate_whole(taking_over, second) == message);

    ws::message_inflater in(15, false, piece);
    CHECK(inflate_whole(in, zlib_deflate(message)) == message);  // one call, many pieces
    // A final block in the middle of a piece, and the limit, hold as well.
    CHECK(inflate_whole(in, zlib_deflate("Hello", 15, true) + std::string(1, '\0')) == "Hello");
    std::string bomb_out;
    ws::message_inflater small(15, false, piece);
    CHECK(small.inflate(zlib_deflate(std::string(1 << 20, 'a')), bomb_out, 1000) == error::message_too_big);
    CHECK(bomb_out.size() <= 1000);
  }
}

namespace {

// Decodes `bytes` fed `chunk` bytes at a time, with deflate negotiated.
wscoro::test::decoded decode_deflated(const std::string& bytes, std::size_t chunk = 1 << 30,
                                      std::size_t limit = 1 << 24, ws::role r = ws::role::client,
                                      bool no_context_takeover = false) {
  ws::decoder d(r, limit, std::make_unique<ws::message_inflater>(15, no_context_takeover));
  return wscoro::test::decode_in_chunks(d, bytes, chunk);
}

}  // namespace

TEST_CASE("decoder with deflate: compressed messages, whole and fragmented, among plain ones") {
  const std::string message = words(3000);
  const std::string compressed = zlib_deflate(message);
  const std::string third = compressed.substr(0, compressed.size() / 3);
  const std::string rest = compressed.substr(compressed.size() / 3);
  std::string stream = raw_frame(0xC1, compressed)            // compressed text
                       + raw_frame(0x82, "plain")             // uncompressed binary
                       + raw_frame(0x42, third)               // compressed, fragmented...
                       + raw_frame(0x89, "ping in between")   // ...with a control frame inside
                       + raw_frame(0x00, rest.substr(0, 1)) + raw_frame(0x80, rest.substr(1))
                       + raw_frame(0xC1, std::string(1, '\0'));  // an empty message
  for (std::size_t chunk : {std::size_t{1} << 30, std::size_t{1}, std::size_t{5}}) {
    INFO("chunk " << chunk);
    auto r = decode_deflated(stream, chunk);
    REQUIRE_FALSE(r.error);
    REQUIRE(r.events.size() == 5);
    CHECK(std::get<text>(r.events[0]).data == message);
    CHECK(std::get<binary>(r.events[1]).data == "plain");
    CHECK(std::get<ping>(r.events[2]).data == "ping in between");
    CHECK(std::get<binary>(r.events[3]).data == message);
    CHECK(std::get<text>(r.events[4]).data.empty());
  }
  SUBCASE("masked, in the server role") {
    auto r = decode_deflated(raw_frame(0xC1, compressed, "\x01\x02\x03\x04"), 9, 1 << 24, ws::role::server);
    REQUIRE_FALSE(r.error);
    REQUIRE(r.events.size() == 1);
    CHECK(std::get<text>(r.events[0]).data == message);
  }
  SUBCASE("a compressed frame longer than max_message_size that inflates within it") {
    const std::string incompressible = noise(1000);
    const std::string bigger = zlib_deflate(incompressible);
    REQUIRE(bigger.size() > incompressible.size());
    auto r = decode_deflated(raw_frame(0xC2, bigger), 1 << 30, incompressible.size());
    REQUIRE_FALSE(r.error);
    CHECK(std::get<binary>(r.events.at(0)).data == incompressible);
  }
}

TEST_CASE("decoder with deflate: RFC 7692 7.2.3.4's frame, \"Hello\" in a final block") {
  const std::string frame("\xc1\x08\xf3\x48\xcd\xc9\xc9\x07\x00\x00", 10);
  for (std::size_t chunk : {std::size_t{1} << 30, std::size_t{1}, std::size_t{3}}) {
    INFO("chunk " << chunk);
    auto r = decode_deflated(frame + raw_frame(0xC1, zlib_deflate("Hello again", 15, false, "Hello")), chunk);
    REQUIRE_FALSE(r.error);
    REQUIRE(r.events.size() == 2);
    CHECK(std::get<text>(r.events[0]).data == "Hello");
    CHECK(std::get<text>(r.events[1]).data == "Hello again");
  }
}

TEST_CASE("decoder with deflate: RSV1 only on a data message's first frame") {
  const std::string compressed = zlib_deflate("hello");
  auto on_continuation = decode_deflated(raw_frame(0x41, compressed) + raw_frame(0xC0, ""));
  CHECK(on_continuation.error == error::compressed_continuation);
  CHECK(ws::close_code_for(on_continuation.error) == 1002);
  auto on_ping = decode_deflated(raw_frame(0xC9, "x"));
  CHECK(on_ping.error == error::compressed_control_frame);
  CHECK(ws::close_code_for(on_ping.error) == 1002);
  CHECK(decode_deflated(raw_frame(0xC8, "")).error == error::compressed_control_frame);
  CHECK(decode_deflated(raw_frame(0xCA, "")).error == error::compressed_control_frame);
  // RSV2 and RSV3 stay reserved.
  CHECK(decode_deflated(raw_frame(0xE1, compressed)).error == error::reserved_bits_set);
  CHECK(decode_deflated(raw_frame(0x91, "x")).error == error::reserved_bits_set);
  // Without deflate negotiated, RSV1 is a reserved bit as before.
  ws::decoder plain(ws::role::client, 1 << 20);
  CHECK(plain.decode(raw_frame(0xC1, compressed)).error == error::reserved_bits_set);
}

TEST_CASE("decoder with deflate: UTF-8 is checked after inflating; bad data and bombs close") {
  const std::string bad = "valid start \xce\xba\xe1\xbd\xb9\xcf\x83 then \xed\xa0\x80 a surrogate";
  auto r = decode_deflated(raw_frame(0xC1, zlib_deflate(bad)), 1);
  CHECK(r.error == error::invalid_utf8);
  CHECK(ws::close_code_for(r.error) == 1007);
  // A sequence left unfinished at the end of the inflated message.
  CHECK(decode_deflated(raw_frame(0xC1, zlib_deflate("ends in \xe1\xbd"))).error == error::invalid_utf8);
  // The same bytes as binary are fine.
  CHECK_FALSE(decode_deflated(raw_frame(0xC2, zlib_deflate(bad))).error);

  auto garbage = decode_deflated(raw_frame(0xC2, std::string("\xff\xff\xff\xff", 4)));
  CHECK(garbage.error == error::invalid_compressed_data);
  CHECK(ws::close_code_for(garbage.error) == 1007);

  const std::string bomb = zlib_deflate(std::string(8 << 20, 'a'));
  auto big = decode_deflated(raw_frame(0xC2, bomb), 1 << 30, 1 << 20);
  CHECK(big.error == error::message_too_big);
  CHECK(ws::close_code_for(big.error) == 1009);
  // Spread over fragments, the limit holds for the message as a whole.
  const std::string whole = zlib_deflate(std::string(1200 << 10, 'a'));
  const std::string half = whole.substr(0, whole.size() / 2);
  auto fragments = decode_deflated(raw_frame(0x42, half) + raw_frame(0x80, whole.substr(half.size())), 1 << 30,
                                   1 << 20);
  CHECK(fragments.error == error::message_too_big);
}

TEST_CASE("encoder with deflate: RSV1 on compressed messages only, never on control frames") {
  ws::encoder plain(ws::role::server);
  ws::encoder deflating(ws::role::server, std::make_unique<ws::message_deflater>(15, false, -1, 8), 10);
  const std::string message = words(500);
  std::string out;
  deflating.encode(text(message), out);
  CHECK(static_cast<unsigned char>(out[0]) == 0xC1);
  CHECK(out.size() < message.size());
  auto r = decode_deflated(out);
  REQUIRE_FALSE(r.error);
  CHECK(std::get<text>(r.events.at(0)).data == message);

  for (const frame& f : {frame(ping("p")), frame(pong("p")), frame(close_frame(1000, "bye"))}) {
    std::string control, expected;
    deflating.encode(f, control);
    plain.encode(f, expected);
    CHECK(control == expected);
  }
  // Below min_size: sent as it is.
  std::string small;
  deflating.encode(binary("tiny"), small);
  CHECK(small == raw_frame(0x82, "tiny"));
  // Many messages with context kept decode in order.
  ws::encoder keeping(ws::role::server, std::make_unique<ws::message_deflater>(15, false, -1, 8));
  std::string stream;
  for (int i = 0; i < 50; ++i) keeping.encode(text(words(200 + i, static_cast<unsigned>(i))), stream);
  auto many = decode_deflated(stream, 3);
  REQUIRE_FALSE(many.error);
  REQUIRE(many.events.size() == 50);
  for (int i = 0; i < 50; ++i)
    CHECK(std::get<text>(many.events[static_cast<std::size_t>(i)]).data == words(200 + i, static_cast<unsigned>(i)));
}

#endif  // WSCORO_HAVE_ZLIB
