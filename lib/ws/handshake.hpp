// The client side of the RFC 6455 section 4 opening handshake: the key it
// sends and the checks it makes on a 101 response.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "wscoro/http.hpp"
#include "wscoro/options.hpp"
#include "ws/deflate_negotiation.hpp"

namespace wscoro::ws {

/// A fresh Sec-WebSocket-Key: base64 of 16 random bytes.
std::string make_key();

/// The Sec-WebSocket-Accept a server must answer to `key`.
std::string accept_for(std::string_view key);

/// What the client offered in its upgrade request.
struct handshake_offer {
  std::string key;
  std::vector<std::string> protocols;
  std::optional<deflate_options> deflate;  ///< permessage-deflate, when offered
};

/// The subprotocols named by every Sec-WebSocket-Protocol field in `f`.
std::vector<std::string> offered_protocols(const fields& f);

/// Validates a 101 response against the offer. On success returns an empty
/// error, sets `protocol` to the selected subprotocol (or empty) and
/// `deflate` to the permessage-deflate parameters agreed (or empty).
std::error_code check_upgrade_response(const response& head, const handshake_offer& offer,
                                       std::string& protocol, std::optional<deflate_parameters>& deflate);

}  // namespace wscoro::ws
