#include "http/request_writer.hpp"

#include "wscoro/error.hpp"

namespace wscoro::http {
namespace {

bool is_token_char(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_token_char(c)) return false;
  return true;
}

bool is_field_value(std::string_view s) noexcept {
  for (char c : s)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

bool is_target(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7F) return false;
  return true;
}

}  // namespace

std::error_code write_request(const request& req, std::string_view host_header, http_version version,
                              std::string& out) {
  if (!is_token(req.method) || !is_target(req.target)) return error::invalid_request;
  for (const header& h : req.headers)
    if (!is_token(h.name) || !is_field_value(h.value)) return error::invalid_request;

  out.append(req.method).append(" ").append(req.target);
  out.append(version == http_version::http_1_0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
  if (!req.headers.contains("host")) out.append("Host: ").append(host_header).append("\r\n");
  for (const header& h : req.headers) out.append(h.name).append(": ").append(h.value).append("\r\n");
  if (!req.body.empty() && !req.headers.contains("content-length") &&
      !req.headers.contains("transfer-encoding"))
    out.append("Content-Length: ").append(std::to_string(req.body.size())).append("\r\n");
  out.append("\r\n");
  out.append(req.body);
  return {};
}

}  // namespace wscoro::http
