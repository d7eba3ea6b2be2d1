// How the samples print a received frame or event: one line each.
#pragma once

#include <wscoro/event.hpp>
#include <wscoro/frame.hpp>

#include <string>
#include <variant>

namespace samples {

inline std::string describe(const wscoro::frame& f) {
  struct visitor {
    std::string operator()(const wscoro::text& t) const { return "text: " + t.data; }
    std::string operator()(const wscoro::binary& b) const {
      static constexpr char hex[] = "0123456789abcdef";
      std::string out = "binary: " + std::to_string(b.data.size()) + " bytes";
      if (!b.data.empty() && b.data.size() <= 32) {
        out += " [";
        for (unsigned char c : b.data) out += {hex[c >> 4], hex[c & 15]};
        out += "]";
      }
      return out;
    }
    std::string operator()(const wscoro::ping& p) const { return "ping: " + p.data; }
    std::string operator()(const wscoro::pong& p) const { return "pong: " + p.data; }
    std::string operator()(const wscoro::close_frame& c) const {
      return "close: " + std::to_string(c.code) + (c.reason.empty() ? "" : " " + c.reason);
    }
  };
  return std::visit(visitor{}, f);
}

/// Frames as above; the transitions of a reconnecting session too.
inline std::string describe(const wscoro::event& e) {
  if (const auto* d = std::get_if<wscoro::down>(&e))
    return "down: " + d->reason.message() + " (" + std::to_string(d->unsent_frames) + " frames unsent)";
  if (const auto* u = std::get_if<wscoro::up>(&e))
    return "up again" + (u->protocol.empty() ? std::string() : "; subprotocol " + u->protocol);
  std::string out;
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (!std::is_same_v<T, wscoro::down> && !std::is_same_v<T, wscoro::up>) out = describe(wscoro::frame(v));
      },
      e);
  return out;
}

}  // namespace samples
