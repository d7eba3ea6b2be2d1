#include "http/url.hpp"

#include <charconv>

#include "wscoro/error.hpp"
#include "wscoro/http.hpp"

namespace wscoro::http {

std::error_code parse_url(std::string_view text, url& out) {
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return error::invalid_url;
  std::string scheme;
  for (char c : text.substr(0, scheme_end))
    scheme.push_back(static_cast<char>((c >= 'A' && c <= 'Z') ? c + 32 : c));
  std::uint16_t default_port = 0;
  if (scheme == "ws" || scheme == "http") {
    default_port = 80;
  } else if (scheme == "wss" || scheme == "https") {
    default_port = 443;
  } else {
    return error::unsupported_scheme;
  }
  out.scheme = scheme;
  out.tls = default_port == 443;

  std::string_view rest = text.substr(scheme_end + 3);
  const auto target_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, target_start);
  std::string_view target = target_start == std::string_view::npos ? "" : rest.substr(target_start);
  if (const auto hash = target.find('#'); hash != std::string_view::npos) target = target.substr(0, hash);
  if (authority.find('@') != std::string_view::npos) return error::invalid_url;  // no user-info

  std::string_view host;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return error::invalid_url;
    host = authority.substr(1, close - 1);
    // Brackets hold an IPv6 address, and only that.
    if (host.find(':') == std::string_view::npos || host.find('[') != std::string_view::npos)
      return error::invalid_url;
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return error::invalid_url;
      port = after.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    // A name or IPv4 address: an IPv6 address must be in brackets.
    if (host.find_first_of(":[]") != std::string_view::npos) return error::invalid_url;
  }
  if (host.empty()) return error::invalid_url;
  for (char c : host)
    if (c <= ' ' || c == '/' || c == '\\' || c == 0x7F) return error::invalid_url;

  out.port = default_port;
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535)
      return error::invalid_url;
    out.port = static_cast<std::uint16_t>(value);
  }
  out.host = std::string(host);
  const bool ipv6 = host.find(':') != std::string_view::npos;
  out.host_header = ipv6 ? "[" + out.host + "]" : out.host;
  if (out.port != default_port) out.host_header += ":" + std::to_string(out.port);

  out.target = target.empty() ? "/" : std::string(target);
  if (out.target.front() == '?') out.target.insert(0, "/");
  for (char c : out.target)
    if (c <= ' ' || c == 0x7F) return error::invalid_url;
  return {};
}

}  // namespace wscoro::http
