// Which close codes may travel in a close frame (RFC 6455 section 7.4).
#pragma once

#include <cstdint>

namespace wscoro::ws {

/// True for a code a peer may send: the defined codes 1000-1003, 1007-1014
/// (1012-1014 registered with IANA since), and 3000-4999 for libraries and
/// applications. 1004-1006 and 1015 are reserved or local-only.
constexpr bool is_valid_wire_close_code(std::uint16_t code) noexcept {
  if (code >= 3000 && code <= 4999) return true;
  if (code >= 1000 && code <= 1003) return true;
  return code >= 1007 && code <= 1014;
}

/// A close reason travels after the 2-byte code in a 125-byte payload.
inline constexpr std::size_t max_close_reason_size = 123;

}  // namespace wscoro::ws
