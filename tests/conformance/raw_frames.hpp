// Raw Websocket frame bytes as a (possibly misbehaving) server sends them:
// any opcode, flags, length encoding and optional masking, so that the
// conformance cases can break every rule on purpose.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wscoro::conformance {

inline constexpr std::uint8_t rsv1 = 0x40;
inline constexpr std::uint8_t rsv2 = 0x20;
inline constexpr std::uint8_t rsv3 = 0x10;

inline constexpr std::uint8_t op_continuation = 0x0;
inline constexpr std::uint8_t op_text = 0x1;
inline constexpr std::uint8_t op_binary = 0x2;
inline constexpr std::uint8_t op_close = 0x8;
inline constexpr std::uint8_t op_ping = 0x9;
inline constexpr std::uint8_t op_pong = 0xA;

/// How a raw frame is put on the wire besides its opcode and payload.
struct wire_options {
  bool fin = true;
  std::uint8_t rsv = 0;  ///< any of rsv1 | rsv2 | rsv3
  /// 7, 16 or 64: force that length encoding; 0: the minimal one.
  int length_form = 0;
  bool masked = false;  ///< a server must never mask
  /// The length the header declares; by default the payload's size. A larger
  /// value leaves the frame unfinished (the rest is never sent).
  std::optional<std::uint64_t> declared_length;
  /// The whole 64-bit length field as sent (overrides declared_length).
  std::optional<std::uint64_t> raw_length64;
};

/// A frame's bytes: header, then the payload (masked when asked).
inline std::string wire(std::uint8_t opcode, std::string_view payload, const wire_options& o = wire_options()) {
  std::string out;
  out.push_back(static_cast<char>((o.fin ? 0x80 : 0) | (o.rsv & 0x70) | (opcode & 0x0F)));
  const std::uint64_t length = o.raw_length64 ? *o.raw_length64 : o.declared_length.value_or(payload.size());
  int form = o.length_form;
  if (o.raw_length64) form = 64;
  if (form == 0) form = length < 126 ? 7 : length <= 0xFFFF ? 16 : 64;
  const unsigned char mask_bit = o.masked ? 0x80 : 0;
  if (form == 7) {
    out.push_back(static_cast<char>(mask_bit | (length & 0x7F)));
  } else if (form == 16) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>((length >> 8) & 0xFF));
    out.push_back(static_cast<char>(length & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((length >> (56 - 8 * i)) & 0xFF));
  }
  if (o.masked) {
    const unsigned char key[4] = {0x37, 0xFA, 0x21, 0x3D};
    for (unsigned char k : key) out.push_back(static_cast<char>(k));
    for (std::size_t i = 0; i < payload.size(); ++i)
      out.push_back(static_cast<char>(static_cast<unsigned char>(payload[i]) ^ key[i % 4]));
  } else {
    out.append(payload);
  }
  return out;
}

inline wire_options fin(bool f) {
  wire_options o;
  o.fin = f;
  return o;
}

inline wire_options with_rsv(std::uint8_t bits, bool f = true) {
  wire_options o;
  o.fin = f;
  o.rsv = bits;
  return o;
}

inline std::string text_frame(std::string_view payload, bool is_final = true) {
  return wire(op_text, payload, fin(is_final));
}
inline std::string binary_frame(std::string_view payload, bool is_final = true) {
  return wire(op_binary, payload, fin(is_final));
}
inline std::string continuation_frame(std::string_view payload, bool is_final) {
  return wire(op_continuation, payload, fin(is_final));
}
inline std::string ping_frame(std::string_view payload) { return wire(op_ping, payload); }
inline std::string pong_frame(std::string_view payload) { return wire(op_pong, payload); }

/// A close frame with a 2-byte code (any value, valid or not) and a reason.
inline std::string close_with_code(std::uint16_t code, std::string_view reason = {}) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason);
  return wire(op_close, payload);
}

/// A message of `op` split into frames of at most `size` payload bytes
/// (at least one frame, so an empty payload gives one empty frame); the
/// first frame carries `first_rsv` (rsv1: a compressed message).
inline std::string fragmented(std::uint8_t op, std::string_view payload, std::size_t size,
                              std::uint8_t first_rsv = 0) {
  std::string out;
  std::size_t at = 0;
  bool first = true;
  do {
    const std::string_view part = payload.substr(at, size);
    at += part.size();
    wire_options o = fin(at >= payload.size());
    if (first) o.rsv = first_rsv;
    out += wire(first ? op : op_continuation, part, o);
    first = false;
  } while (at < payload.size());
  return out;
}

/// A message of `op` split into fragments at the given byte offsets.
inline std::string split_at(std::uint8_t op, std::string_view payload, std::initializer_list<std::size_t> cuts) {
  std::string out;
  std::size_t from = 0;
  bool first = true;
  for (std::size_t cut : cuts) {
    out += wire(first ? op : op_continuation, payload.substr(from, cut - from), fin(false));
    first = false;
    from = cut;
  }
  out += wire(first ? op : op_continuation, payload.substr(from), fin(true));
  return out;
}

}  // namespace wscoro::conformance
