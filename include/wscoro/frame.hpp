// The frames a websocket sends and receives: plain structs in one variant.
//
// Each has a constructor rather than being an aggregate: GCC 12 miscompiles
// aggregate temporaries built inside a co_await expression, which is
// exactly where `co_await ws.send(wscoro::text{"hi"})` builds them.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace wscoro {

/// Close status codes of RFC 6455 section 7.4.1 that users commonly name.
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t unsupported_data = 1003;
/// Never on the wire: a close frame without a status code is reported with
/// this code, and sending close_frame{no_status} sends an empty close frame.
inline constexpr std::uint16_t no_status = 1005;
inline constexpr std::uint16_t invalid_payload = 1007;
inline constexpr std::uint16_t policy_violation = 1008;
inline constexpr std::uint16_t message_too_big = 1009;
inline constexpr std::uint16_t mandatory_extension = 1010;
inline constexpr std::uint16_t internal_error = 1011;
}  // namespace close_code

/// A complete text message; its data is valid UTF-8.
struct text {
  text() = default;
  explicit text(std::string payload) : data(std::move(payload)) {}
  std::string data;
  friend bool operator==(const text&, const text&) = default;
};

/// A complete binary message.
struct binary {
  binary() = default;
  explicit binary(std::string payload) : data(std::move(payload)) {}
  std::string data;
  friend bool operator==(const binary&, const binary&) = default;
};

/// A ping control frame (payload at most 125 bytes).
struct ping {
  ping() = default;
  explicit ping(std::string payload) : data(std::move(payload)) {}
  std::string data;
  friend bool operator==(const ping&, const ping&) = default;
};

/// A pong control frame (payload at most 125 bytes).
struct pong {
  pong() = default;
  explicit pong(std::string payload) : data(std::move(payload)) {}
  std::string data;
  friend bool operator==(const pong&, const pong&) = default;
};

/// A close control frame. Sending one is a deliberate close.
struct close_frame {
  explicit close_frame(std::uint16_t status = close_code::normal, std::string why = {})
      : code(status), reason(std::move(why)) {}
  std::uint16_t code;
  std::string reason;  ///< UTF-8, at most 123 bytes.
  friend bool operator==(const close_frame&, const close_frame&) = default;
};

using frame = std::variant<text, binary, ping, pong, close_frame>;

}  // namespace wscoro
