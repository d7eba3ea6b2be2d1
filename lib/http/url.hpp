// The URLs connection::open accepts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace wscoro::http {

struct url {
  std::string scheme;   ///< Lower-cased: ws, wss, http or https.
  bool tls = false;     ///< wss or https.
  std::string host;     ///< Without brackets for an IPv6 literal.
  std::uint16_t port = 0;
  std::string target;   ///< Path and query, "/" when the URL has none.
  std::string host_header;  ///< Host as a request sends it: brackets, and the port unless the default.
};

std::error_code parse_url(std::string_view text, url& out);

}  // namespace wscoro::http
