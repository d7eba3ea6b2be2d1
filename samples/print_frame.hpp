// How the samples print a received frame: one line each.
#pragma once

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

}  // namespace samples
