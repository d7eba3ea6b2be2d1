// Serialises an HTTP/1.x request head and body.
#pragma once

#include <string>
#include <string_view>
#include <system_error>

#include "wscoro/http.hpp"
#include "wscoro/options.hpp"

namespace wscoro::http {

/// Appends `req` to `out`, adding Host (`host_header`) and Content-Length
/// where the request lacks them. Fails with error::invalid_request, writing
/// nothing, when a method, target or header could split or forge a message.
std::error_code write_request(const request& req, std::string_view host_header, http_version version,
                              std::string& out);

}  // namespace wscoro::http
