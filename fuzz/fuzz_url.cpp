// http::parse_url: never crashes; what it accepts is well-formed, and the
// URL rebuilt from the parts it returns parses to the same parts.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_common.hpp"
#include "fuzz_targets.hpp"
#include "http/url.hpp"
#include "wscoro/error.hpp"

namespace wscoro::fuzz {
namespace {

void check_url(const http::url& u) {
  FUZZ_CHECK(u.scheme == "ws" || u.scheme == "wss" || u.scheme == "http" || u.scheme == "https");
  FUZZ_CHECK(u.tls == (u.scheme == "wss" || u.scheme == "https"));
  FUZZ_CHECK(!u.host.empty());
  FUZZ_CHECK(u.port != 0);
  FUZZ_CHECK(!u.target.empty() && u.target.front() == '/');
  FUZZ_CHECK(u.target.find('#') == std::string::npos);
  for (char c : u.target) FUZZ_CHECK(static_cast<unsigned char>(c) > ' ' && c != 0x7F);
  for (char c : u.host) {
    FUZZ_CHECK(static_cast<unsigned char>(c) > ' ' && c != 0x7F);
    FUZZ_CHECK(c != '/' && c != '\\' && c != '@' && c != '?' && c != '#');
  }
  const std::uint16_t default_port = u.tls ? 443 : 80;
  const bool bracketed = u.host.find(':') != std::string::npos;
  std::string host_header = bracketed ? "[" + u.host + "]" : u.host;
  if (u.port != default_port) host_header += ":" + std::to_string(u.port);
  FUZZ_CHECK(u.host_header == host_header);
}

}  // namespace
}  // namespace wscoro::fuzz

int fuzz_url_one(const std::uint8_t* data, std::size_t size) {
  using namespace wscoro;
  using namespace wscoro::fuzz;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  http::url u;
  if (const auto ec = http::parse_url(text, u)) {
    FUZZ_CHECK(ec == error::invalid_url || ec == error::unsupported_scheme);
    return 0;
  }
  check_url(u);

  http::url again;
  FUZZ_CHECK(!http::parse_url(u.scheme + "://" + u.host_header + u.target, again));
  FUZZ_CHECK(again.scheme == u.scheme && again.host == u.host && again.port == u.port &&
             again.target == u.target && again.host_header == u.host_header);
  return 0;
}

WSCORO_FUZZ_ENTRY(fuzz_url_one)
