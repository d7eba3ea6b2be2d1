// Small helpers for HTTP's comma-separated header lists (RFC 9110 5.6.1).
#pragma once

#include <string_view>
#include <vector>

namespace wscoro::http {

/// `s` without leading and trailing spaces and tabs.
std::string_view trim(std::string_view s) noexcept;

/// The non-empty, trimmed elements of a comma-separated list.
std::vector<std::string_view> split_list(std::string_view list);

/// True when the list holds `token`, ignoring ASCII case.
bool list_contains(std::string_view list, std::string_view token);

}  // namespace wscoro::http
