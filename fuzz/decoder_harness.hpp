// The body of fuzz_decoder_client and fuzz_decoder_server.
//
// Input: byte 0 picks how the stream is cut into reads (see fuzz::chunker),
// byte 1 the message size limit (0x80 and up: 1 MiB; below: 4 * value
// bytes, so message_too_big is reachable), the rest is the byte stream.
//
// The stream is decoded as lib/session.cpp does (unconsumed bytes are fed
// again with the next read), every result is checked, and the events and
// the error must match (a) decoding the whole stream in one piece and (b)
// a straightforward reference decoder written from RFC 6455 below.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include "fuzz_common.hpp"
#include "wscoro/frame.hpp"
#include "ws/decoder.hpp"
#include "ws/deflate_codec.hpp"

namespace wscoro::fuzz {

inline std::size_t decoder_limit(std::uint8_t selector) noexcept {
  return (selector & 0x80) != 0 ? std::size_t{1} << 20 : std::size_t{selector} * 4;
}

/// Close codes a peer may send: RFC 6455 7.4.1, the IANA registry's
/// 1012-1014, and 3000-4999 for libraries and applications.
inline bool reference_close_code_ok(unsigned code) noexcept {
  switch (code) {
    case 1000: case 1001: case 1002: case 1003:
    case 1007: case 1008: case 1009: case 1010: case 1011:
    case 1012: case 1013: case 1014:
      return true;
    default:
      return code >= 3000 && code <= 4999;
  }
}

struct decode_outcome {
  std::vector<frame> events;
  std::error_code error;
  bool closed = false;
};

/// What every decode() result must satisfy.
inline void check_decode_result(const ws::decoder& d, const ws::decoder::result& r, std::string_view fed,
                                std::size_t limit) {
  FUZZ_CHECK(r.consumed <= fed.size());
  FUZZ_CHECK(!(r.event && r.error));
  if (r.error) {
    FUZZ_CHECK(d.finished());
    const auto code = ws::close_code_for(r.error);
    FUZZ_CHECK(code == 1002 || code == 1007 || code == 1009);
    return;
  }
  if (!r.event) {
    // Stopped for more input: all of it was taken but a partial header.
    FUZZ_CHECK(!d.finished());
    FUZZ_CHECK(fed.size() - r.consumed < ws::max_header_size);
    return;
  }
  FUZZ_CHECK(r.consumed > 0);
  const frame& f = *r.event;
  if (const auto* t = std::get_if<text>(&f)) {
    FUZZ_CHECK(ws::is_valid_utf8(t->data));
    FUZZ_CHECK(reference_valid_utf8(t->data));
    FUZZ_CHECK(t->data.size() <= limit);
  } else if (const auto* b = std::get_if<binary>(&f)) {
    FUZZ_CHECK(b->data.size() <= limit);
  } else if (const auto* pi = std::get_if<ping>(&f)) {
    FUZZ_CHECK(pi->data.size() <= 125);
  } else if (const auto* po = std::get_if<pong>(&f)) {
    FUZZ_CHECK(po->data.size() <= 125);
  } else if (const auto* c = std::get_if<close_frame>(&f)) {
    FUZZ_CHECK(d.finished());
    FUZZ_CHECK(c->reason.size() <= 123);
    FUZZ_CHECK(reference_valid_utf8(c->reason));
    if (c->code == close_code::no_status)
      FUZZ_CHECK(c->reason.empty());
    else
      FUZZ_CHECK(reference_close_code_ok(c->code));
  }
}

/// permessage-deflate as negotiated for a decoder: none when window_bits is 0.
struct deflate_setting {
  int window_bits = 0;
  bool no_context_takeover = false;
};

/// Decodes `stream` in the pieces `cut` gives, carrying unconsumed bytes
/// over to the next read as the session's read loop does.
inline decode_outcome decode_in_pieces(ws::role role, std::size_t limit, std::string_view stream, chunker cut,
                                       deflate_setting deflate = {}) {
  ws::decoder d(role, limit,
                deflate.window_bits != 0
                    ? std::make_unique<ws::message_inflater>(deflate.window_bits, deflate.no_context_takeover)
                    : nullptr);
  decode_outcome out;
  std::string pending;
  std::size_t at = 0;
  while (at < stream.size() && !d.finished()) {
    const std::size_t n = cut.next(stream.size() - at);
    pending.append(stream.substr(at, n));
    at += n;
    for (;;) {
      auto r = d.decode(pending);
      check_decode_result(d, r, pending, limit);
      pending.erase(0, r.consumed);
      if (r.error) {
        out.error = r.error;
        break;
      }
      if (!r.event) break;
      if (std::holds_alternative<close_frame>(*r.event)) out.closed = true;
      out.events.push_back(std::move(*r.event));
      if (d.finished()) break;
    }
  }
  FUZZ_CHECK(d.finished() == (out.closed || static_cast<bool>(out.error)));
  if (d.finished()) {
    // Nothing more is decoded, not even a well-formed frame.
    pending.append("\x82\x00\x82\x80\x00\x00\x00\x00", 8);
    const auto r = d.decode(pending);
    FUZZ_CHECK(r.consumed == 0 && !r.event && !r.error);
  }
  return out;
}

struct reference_outcome {
  std::vector<frame> events;
  bool error = false;
};

/// RFC 6455 section 5 as a receiver reads it, over the whole stream at
/// once. An incomplete frame at the end yields nothing, except that its
/// header is checked and, for text, the UTF-8 so far must be able to
/// continue validly (a receiver fails fast on invalid text).
inline reference_outcome reference_decode(ws::role role, std::size_t limit, std::string_view in) {
  reference_outcome out;
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(in[i]); };
  bool in_message = false;
  bool message_text = false;
  std::string message;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t avail = in.size() - pos;
    if (avail < 2) return out;
    const unsigned b0 = byte(pos);
    const unsigned b1 = byte(pos + 1);
    const bool fin = (b0 & 0x80) != 0;
    const unsigned rsv = b0 & 0x70;
    const unsigned op = b0 & 0x0F;
    const bool masked = (b1 & 0x80) != 0;
    const unsigned len7 = b1 & 0x7F;
    const std::size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    const std::size_t header = 2 + ext + (masked ? 4 : 0);
    if (avail < header) return out;
    std::uint64_t length = len7;
    if (ext != 0) {
      length = 0;
      for (std::size_t i = 0; i < ext; ++i) length = (length << 8) | byte(pos + 2 + i);
    }
    const bool minimal = ext == 0 || (ext == 2 ? length >= 126 : length > 0xFFFF);
    const bool control = op >= 8;
    const bool known = op <= 2 || (op >= 8 && op <= 10);
    bool ok = minimal && (length >> 63) == 0 && rsv == 0 && known && masked == (role == ws::role::server);
    if (ok && control) ok = fin && length <= 125;
    if (ok && !control)
      ok = (op == 0) == in_message && (in_message ? message.size() : 0) + length <= limit;
    if (!ok) {
      out.error = true;
      return out;
    }
    unsigned char key[4] = {0, 0, 0, 0};
    if (masked)
      for (std::size_t i = 0; i < 4; ++i) key[i] = byte(pos + 2 + ext + i);
    pos += header;
    const auto have = static_cast<std::size_t>(std::min<std::uint64_t>(length, in.size() - pos));
    std::string payload(in.substr(pos, have));
    for (std::size_t i = 0; i < payload.size(); ++i)
      payload[i] = static_cast<char>(static_cast<unsigned char>(payload[i]) ^ key[i % 4]);
    if (!control) {
      if (op != 0) {
        in_message = true;
        message_text = op == 1;
        message.clear();
      }
      message += payload;
      if (message_text && !reference_valid_utf8_prefix(message)) {
        out.error = true;
        return out;
      }
    }
    if (have < length) return out;  // the rest of the frame has not arrived
    pos += have;
    if (op == 9) {
      out.events.emplace_back(ping{payload});
    } else if (op == 10) {
      out.events.emplace_back(pong{payload});
    } else if (op == 8) {
      // Nothing after a close frame is read.
      if (payload.empty()) {
        out.events.emplace_back(close_frame{1005});
      } else if (payload.size() == 1) {
        out.error = true;
      } else {
        const unsigned code = (static_cast<unsigned>(static_cast<unsigned char>(payload[0])) << 8) |
                              static_cast<unsigned char>(payload[1]);
        std::string reason = payload.substr(2);
        if (!reference_close_code_ok(code) || !reference_valid_utf8(reason))
          out.error = true;
        else
          out.events.emplace_back(close_frame{static_cast<std::uint16_t>(code), std::move(reason)});
      }
      return out;
    } else if (fin) {
      if (message_text && !reference_valid_utf8(message)) {
        out.error = true;
        return out;
      }
      if (message_text)
        out.events.emplace_back(text{message});
      else
        out.events.emplace_back(binary{message});
      in_message = false;
    }
  }
}

inline int run_decoder(ws::role role, const std::uint8_t* data, std::size_t size) {
  input in(data, size);
  const chunker cut(in.take_byte());
  const std::size_t limit = decoder_limit(in.take_byte());
  const std::string_view stream = in.rest();

  const decode_outcome got = decode_in_pieces(role, limit, stream, cut);
  if (!cut.whole()) {
    const decode_outcome whole = decode_in_pieces(role, limit, stream, chunker(0));
    FUZZ_CHECK(whole.events == got.events);
    FUZZ_CHECK(whole.error == got.error);
  }
  const reference_outcome expected = reference_decode(role, limit, stream);
  FUZZ_CHECK(got.events == expected.events);
  FUZZ_CHECK(static_cast<bool>(got.error) == expected.error);
  return 0;
}

/// The decoder with permessage-deflate negotiated. Input: byte 0 the
/// chunking, byte 1 the limit (as run_decoder), byte 2 the inflater (low 3
/// bits + 8: window bits; 0x08: no context takeover), then the stream.
/// Every result must hold the decoder's invariants (inflated messages
/// within the limit, text valid UTF-8), whatever the cuts.
inline int run_deflate_decoder(ws::role role, const std::uint8_t* data, std::size_t size) {
  input in(data, size);
  const chunker cut(in.take_byte());
  const std::size_t limit = decoder_limit(in.take_byte());
  const std::uint8_t setting = in.take_byte();
  const deflate_setting deflate{8 + (setting & 7), (setting & 8) != 0};
  const std::string_view stream = in.rest();

  const decode_outcome got = decode_in_pieces(role, limit, stream, cut, deflate);
  if (!cut.whole()) {
    const decode_outcome whole = decode_in_pieces(role, limit, stream, chunker(0), deflate);
    FUZZ_CHECK(whole.events == got.events);
    FUZZ_CHECK(whole.error == got.error);
  }
  return 0;
}

}  // namespace wscoro::fuzz
