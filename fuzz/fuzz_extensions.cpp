// The permessage-deflate answer check (ws::accept_deflate_answer).
//
// Input: byte 0 picks the offer (0x01 compat, 0x02 client_no_context_takeover,
// 0x04 server_no_context_takeover, 0x08 a server window limit, 0x10 a client
// window limit, the high bits the limits' size), the rest is the server's
// Sec-WebSocket-Extensions value. An accepted answer must respect the
// offer, and its canonical form must be accepted again with the same result.
#include <optional>
#include <string>

#include "fuzz_common.hpp"
#include "fuzz_targets.hpp"
#include "wscoro/error.hpp"
#include "ws/deflate_negotiation.hpp"

int fuzz_extensions_one(const std::uint8_t* data, std::size_t size) {
  using namespace wscoro;
  fuzz::input in(data, size);
  const std::uint8_t pick = in.take_byte();
  deflate_options offer;
  offer.compat = (pick & 0x01) != 0;
  offer.client_no_context_takeover = (pick & 0x02) != 0;
  offer.server_no_context_takeover = (pick & 0x04) != 0;
  const int bits = 8 + (pick >> 5);
  if (pick & 0x08) offer.server_max_window_bits = bits;
  if (pick & 0x10) offer.client_max_window_bits = bits;

  std::optional<ws::deflate_parameters> agreed;
  const std::error_code ec = ws::accept_deflate_answer(in.rest(), &offer, agreed);
  if (ec) {
    FUZZ_CHECK(!agreed);
    FUZZ_CHECK(ec == error::unoffered_extension || ec == error::duplicate_extension ||
               ec == error::duplicate_extension_parameter || ec == error::invalid_extension_parameter ||
               ec == error::extension_parameter_rejected);
    return 0;
  }
  if (!agreed) return 0;  // declined
  const ws::deflate_parameters& p = *agreed;
  FUZZ_CHECK(p.client_max_window_bits >= 8 && p.client_max_window_bits <= 15);
  FUZZ_CHECK(p.server_max_window_bits >= 8 && p.server_max_window_bits <= 15);
  if (!offer.compat) {
    FUZZ_CHECK(p.server_max_window_bits <= offer.server_max_window_bits);
    FUZZ_CHECK(p.client_max_window_bits <= offer.client_max_window_bits);
    if (offer.server_no_context_takeover) FUZZ_CHECK(p.server_no_context_takeover);
    if (offer.client_no_context_takeover) FUZZ_CHECK(p.client_no_context_takeover);
  }
  // The canonical form says the same to a client that offered everything.
  deflate_options open;
  std::optional<ws::deflate_parameters> again;
  FUZZ_CHECK(!ws::accept_deflate_answer(p.to_string(), &open, again));
  FUZZ_CHECK(again && *again == p);
  return 0;
}

WSCORO_FUZZ_ENTRY(fuzz_extensions_one)
