// permessage-deflate negotiation (RFC 7692 section 7.1), client side: the
// Sec-WebSocket-Extensions offer made from deflate_options, and the checks
// on the server's answer. No I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "wscoro/options.hpp"

namespace wscoro::ws {

/// The permessage-deflate parameters in force once the server answered.
struct deflate_parameters {
  int client_max_window_bits = 15;  ///< The window our compressor may use.
  int server_max_window_bits = 15;  ///< The window the server compresses with.
  bool client_no_context_takeover = false;
  bool server_no_context_takeover = false;

  /// The canonical Sec-WebSocket-Extensions form, naming only what differs
  /// from the defaults, e.g. "permessage-deflate; client_max_window_bits=10".
  std::string to_string() const;

  friend bool operator==(const deflate_parameters&, const deflate_parameters&) = default;
};

/// `options` with every number brought into its valid range (window bits
/// 8..15, level -1..9, memory level 1..9).
deflate_options clamped(deflate_options options) noexcept;

/// The Sec-WebSocket-Extensions value that offers permessage-deflate as
/// `options` (clamped) asks.
std::string deflate_offer(const deflate_options& options);

/// Checks `answer`, the server's Sec-WebSocket-Extensions fields combined,
/// against what was offered (`offer` null: no extension was). On success
/// `agreed` holds the parameters in force, or is empty when the server
/// declined the offer. Errors: unoffered_extension, duplicate_extension,
/// duplicate_extension_parameter, invalid_extension_parameter,
/// extension_parameter_rejected.
std::error_code accept_deflate_answer(std::string_view answer, const deflate_options* offer,
                                      std::optional<deflate_parameters>& agreed);

}  // namespace wscoro::ws
