#include "net/proxy.hpp"

#include <openssl/evp.h>

#include <array>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "wscoro/error.hpp"
#include "http/request_writer.hpp"
#include "http/response_parser.hpp"

namespace wscoro::net {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 2.1: user-info carries reserved characters percent-encoded.
bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int high = hex_value(in[i + 1]);
    const int low = hex_value(in[i + 2]);
    if (high < 0 || low < 0) return false;
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return true;
}

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace

std::error_code parse_proxy(const connection_options& options, proxy& out) {
  std::string_view text = options.proxy_url;
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos || !iequals(text.substr(0, scheme_end), "http"))
    return error::invalid_proxy_url;
  const std::string_view rest = text.substr(scheme_end + 3);
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  std::string user;
  std::string password;
  std::string without_userinfo(text);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    const auto colon = userinfo.find(':');
    if (!percent_decode(userinfo.substr(0, colon), user)) return error::invalid_proxy_url;
    if (colon != std::string_view::npos && !percent_decode(userinfo.substr(colon + 1), password))
      return error::invalid_proxy_url;
    without_userinfo = "http://" + std::string(rest.substr(at + 1));
  }
  if (http::parse_url(without_userinfo, out.address)) return error::invalid_proxy_url;
  if (!options.proxy_username.empty()) {
    user = options.proxy_username;
    password = options.proxy_password;
  }
  // RFC 7617 2: the user-id ends at the first colon.
  if (user.find(':') != std::string::npos) return error::invalid_proxy_url;
  out.authorization = user.empty() ? std::string() : "Basic " + base64(user + ":" + password);
  return {};
}

std::string tunnel_authority(const http::url& server) {
  const bool ipv6 = server.host.find(':') != std::string::npos;
  return (ipv6 ? "[" + server.host + "]" : server.host) + ":" + std::to_string(server.port);
}

std::string connect_request(const http::url& server, const proxy& p) {
  const std::string authority = tunnel_authority(server);
  request req("CONNECT", authority);
  if (!p.authorization.empty()) req.headers.add("Proxy-Authorization", p.authorization);
  std::string out;
  // Host and target are checked by parse_url, the credentials are base64.
  (void)http::write_request(req, authority, http_version::http_1_1, out);
  return out;
}

std::error_code tunnel_verdict(const response& answer) noexcept {
  if (answer.status >= 200 && answer.status < 300) return {};
  if (answer.status == 407) return error::proxy_auth_required;
  return error::proxy_refused;
}

asio::awaitable<std::error_code> open_tunnel(asio::ip::tcp::socket& socket, const http::url& server,
                                             const proxy& p, std::size_t max_header_size, response& answer) {
  using asio::redirect_error;
  using asio::use_awaitable;
  const auto closed_by_proxy = [](std::error_code ec) {
    return ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
  };
  const std::string out = connect_request(server, p);
  std::error_code ec;
  co_await asio::async_write(socket, asio::buffer(out), redirect_error(use_awaitable, ec));
  if (ec) co_return closed_by_proxy(ec) ? std::error_code(error::proxy_closed) : ec;

  http::response_parser parser(max_header_size, 0);
  parser.start_tunnel();
  std::array<char, 4096> peeked;
  while (!parser.done()) {
    // Peek, and take from the socket only what the parser used: a proxy
    // may send the server's first bytes in the same segment as its head,
    // and they must reach the TLS stream or the HTTP parser, unread.
    const std::size_t n = co_await socket.async_receive(asio::buffer(peeked), asio::socket_base::message_peek,
                                                         redirect_error(use_awaitable, ec));
    if (ec) co_return closed_by_proxy(ec) ? std::error_code(error::proxy_closed) : ec;
    const auto r = parser.feed(std::string_view(peeked.data(), n));
    if (r.error) co_return error::proxy_bad_response;
    asio::read(socket, asio::buffer(peeked.data(), r.consumed), ec);  // already here: does not block
    if (ec) co_return ec;
  }
  answer = std::move(parser.get());
  co_return tunnel_verdict(answer);
}

}  // namespace wscoro::net
