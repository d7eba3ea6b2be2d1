// The three outcomes of connection::ws_upgrade.
#pragma once

#include <system_error>
#include <variant>

#include "wscoro/http.hpp"
#include "wscoro/websocket.hpp"

namespace wscoro {

/// The server switched protocols and every check passed.
struct upgraded {
  websocket socket;
  std::string protocol;  ///< The selected subprotocol, or empty.
  fields headers;        ///< The 101 response's headers.
  /// The negotiated extension with the parameters in force, in a canonical
  /// form, e.g. "permessage-deflate; server_no_context_takeover;
  /// client_max_window_bits=12"; empty: messages are not compressed.
  std::string extensions;
};

/// The server answered with something other than 101: the whole response.
struct refused {
  wscoro::response response;
};

/// The upgrade could not happen: a wscoro::error (HTTP/1.0 connection, bad
/// accept key, unoffered subprotocol, timeout...) or a transport error.
struct failed {
  std::error_code error;
};

using upgrade_result = std::variant<upgraded, refused, failed>;

}  // namespace wscoro
