// The client's checks on an upgrade response: the input is parsed as an
// HTTP response and, when it is a 101, judged by ws::check_upgrade_response
// against a fixed offer (the RFC 6455 example key; "chat" and "superchat").
// Whatever it accepts is re-checked here with independent helpers.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_common.hpp"
#include "fuzz_targets.hpp"
#include "http/response_parser.hpp"
#include "ws/handshake.hpp"

namespace wscoro::fuzz {
namespace {

constexpr std::string_view offer_key = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view rfc_accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";  // RFC 6455 section 1.3

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool same_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string_view strip(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The non-empty elements of every field called `name`, as comma-separated lists.
std::vector<std::string_view> list_elements(const fields& f, std::string_view name) {
  std::vector<std::string_view> out;
  for (const header& h : f) {
    if (!same_ignoring_case(h.name, name)) continue;
    std::string_view rest = h.value;
    for (;;) {
      const auto comma = rest.find(',');
      const auto element = strip(rest.substr(0, comma));
      if (!element.empty()) out.push_back(element);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return out;
}

bool has_element(const fields& f, std::string_view name, std::string_view token) {
  for (std::string_view e : list_elements(f, name))
    if (same_ignoring_case(e, token)) return true;
  return false;
}

std::size_t field_count(const fields& f, std::string_view name) {
  std::size_t n = 0;
  for (const header& h : f) n += same_ignoring_case(h.name, name) ? 1 : 0;
  return n;
}

}  // namespace
}  // namespace wscoro::fuzz

int fuzz_handshake_one(const std::uint8_t* data, std::size_t size) {
  using namespace wscoro;
  using namespace wscoro::fuzz;
  static const ws::handshake_offer offer{std::string(offer_key), {"chat", "superchat"}, {}};
  static const std::string expected_accept = ws::accept_for(offer_key);
  FUZZ_CHECK(expected_accept == rfc_accept);

  http::response_parser parser(8192, 65536);
  parser.start(false);
  const auto r = parser.feed(std::string_view(reinterpret_cast<const char*>(data), size));
  if (r.error || !parser.switching_protocols()) return 0;
  const response& head = parser.get();
  FUZZ_CHECK(head.status == 101);

  for (const std::string& p : ws::offered_protocols(head.headers)) {
    FUZZ_CHECK(!p.empty());
    FUZZ_CHECK(p.find(',') == std::string::npos);
    FUZZ_CHECK(strip(p) == p);
  }

  std::string protocol = "left over";
  std::optional<ws::deflate_parameters> deflate;
  if (ws::check_upgrade_response(head, offer, protocol, deflate)) return 0;

  const fields& f = head.headers;
  FUZZ_CHECK(has_element(f, "upgrade", "websocket"));
  FUZZ_CHECK(has_element(f, "connection", "upgrade"));
  FUZZ_CHECK(field_count(f, "sec-websocket-accept") == 1);
  for (const header& h : f)
    if (same_ignoring_case(h.name, "sec-websocket-accept")) FUZZ_CHECK(strip(h.value) == expected_accept);
  const auto selected = list_elements(f, "sec-websocket-protocol");
  if (protocol.empty()) {
    FUZZ_CHECK(field_count(f, "sec-websocket-protocol") == 0);
  } else {
    FUZZ_CHECK(protocol == "chat" || protocol == "superchat");
    FUZZ_CHECK(selected.size() == 1 && selected.front() == protocol);
  }
  FUZZ_CHECK(list_elements(f, "sec-websocket-extensions").empty());
  return 0;
}

WSCORO_FUZZ_ENTRY(fuzz_handshake_one)
