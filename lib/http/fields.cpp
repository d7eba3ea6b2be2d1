#include "wscoro/http.hpp"

#include "http/tokens.hpp"

namespace wscoro {
namespace {

constexpr char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::optional<std::string_view> fields::find(std::string_view name) const {
  for (const header& h : list_)
    if (iequals(h.name, name)) return h.value;
  return std::nullopt;
}

std::optional<std::string> fields::combined(std::string_view name) const {
  std::optional<std::string> out;
  for (const header& h : list_) {
    if (!iequals(h.name, name)) continue;
    if (out) {
      out->append(", ");
      out->append(h.value);
    } else {
      out = h.value;
    }
  }
  return out;
}

std::size_t fields::count(std::string_view name) const {
  std::size_t n = 0;
  for (const header& h : list_) n += iequals(h.name, name) ? 1 : 0;
  return n;
}

namespace http {

std::string_view trim(std::string_view s) noexcept {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

std::vector<std::string_view> split_list(std::string_view list) {
  std::vector<std::string_view> out;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto element = trim(list.substr(0, comma));
    if (!element.empty()) out.push_back(element);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

bool list_contains(std::string_view list, std::string_view token) {
  for (std::string_view element : split_list(list))
    if (iequals(element, token)) return true;
  return false;
}

}  // namespace http
}  // namespace wscoro
