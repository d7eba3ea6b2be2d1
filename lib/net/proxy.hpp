// Tunnelling through an HTTP proxy with CONNECT (RFC 9110 9.3.6): turns a
// TCP connection to the proxy into a byte stream to the server, over which
// TLS or HTTP then run as over a direct connection.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <cstddef>
#include <string>
#include <system_error>

#include "wscoro/http.hpp"
#include "wscoro/options.hpp"
#include "http/url.hpp"

namespace wscoro::net {

struct proxy {
  http::url address;           ///< The proxy's host and port.
  std::string authorization;   ///< "Basic <base64>", or empty without credentials.
};

/// Reads connection_options::proxy_url and the proxy credentials;
/// error::invalid_proxy_url when they cannot be used.
std::error_code parse_proxy(const connection_options& options, proxy& out);

/// `host:port` as CONNECT names the server (authority-form, always with the
/// port, an IPv6 address in brackets).
std::string tunnel_authority(const http::url& server);

/// The CONNECT request for `server`, with Host and, when there are
/// credentials, Proxy-Authorization.
std::string connect_request(const http::url& server, const proxy& p);

/// What a complete answer to CONNECT means: a 2xx opens the tunnel, a 407
/// asks for credentials, anything else refuses.
std::error_code tunnel_verdict(const response& answer) noexcept;

/// Sends CONNECT on `socket`, connected to the proxy, and reads the answer's
/// head and not one byte more: what follows it belongs to the tunnel and
/// stays in the socket for whoever reads next (the TLS handshake, or the
/// HTTP response parser). `answer` receives the head (status 0 when none
/// arrived complete).
asio::awaitable<std::error_code> open_tunnel(asio::ip::tcp::socket& socket, const http::url& server,
                                             const proxy& p, std::size_t max_header_size, response& answer);

}  // namespace wscoro::net
