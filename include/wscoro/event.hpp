// What websocket::receive_event() yields: every frame, and the down/up
// transitions of a session that reconnects after a loss.
#pragma once

#include <cstddef>
#include <string>
#include <system_error>
#include <variant>

#include "wscoro/frame.hpp"
#include "wscoro/http.hpp"

namespace wscoro {

/// The connection was lost unexpectedly and the retry policy is
/// re-establishing it (Gun's gun_down). Frames received before the loss
/// have all been delivered before this event.
struct down {
  explicit down(std::error_code why = {}, std::size_t unsent = 0) : reason(why), unsent_frames(unsent) {}
  std::error_code reason;
  /// Frames queued by send() that had not been completely written when the
  /// connection was lost: they may not have reached the server.
  std::size_t unsent_frames;
  friend bool operator==(const down&, const down&) = default;
};

/// The session is upgraded again after a down (Gun's gun_up).
struct up {
  explicit up(std::string selected = {}, fields response_headers = {}, std::string negotiated_extensions = {})
      : protocol(std::move(selected)),
        headers(std::move(response_headers)),
        extensions(std::move(negotiated_extensions)) {}
  std::string protocol;  ///< The subprotocol the server selected this time.
  fields headers;        ///< The new 101 response's headers.
  std::string extensions;  ///< The extension negotiated this time, as upgraded::extensions.
  friend bool operator==(const up&, const up&) = default;
};

using event = std::variant<text, binary, ping, pong, close_frame, down, up>;

}  // namespace wscoro
