// The sans-I/O parts of tunnelling through an HTTP proxy: the proxy URL and
// credentials, the CONNECT request, and how its answer is read and judged.
#include <doctest/doctest.h>

#include "wscoro/error.hpp"
#include "http/response_parser.hpp"
#include "http/url.hpp"
#include "net/proxy.hpp"

using namespace wscoro;

namespace {

connection_options via(std::string proxy_url) {
  connection_options o;
  o.proxy_url = std::move(proxy_url);
  return o;
}

http::url server(std::string_view text) {
  http::url u;
  REQUIRE_FALSE(http::parse_url(text, u));
  return u;
}

}  // namespace

TEST_CASE("proxy URL: host, port (80 by default) and Basic credentials from user-info or fields") {
  net::proxy p;
  REQUIRE_FALSE(net::parse_proxy(via("http://proxy.example:3128"), p));
  CHECK(p.address.host == "proxy.example");
  CHECK(p.address.port == 3128);
  CHECK(p.authorization.empty());

  REQUIRE_FALSE(net::parse_proxy(via("HTTP://[::1]/"), p));
  CHECK(p.address.host == "::1");
  CHECK(p.address.port == 80);

  REQUIRE_FALSE(net::parse_proxy(via("http://user:secret@127.0.0.1:8080"), p));
  CHECK(p.address.host == "127.0.0.1");
  CHECK(p.address.port == 8080);
  CHECK(p.authorization == "Basic dXNlcjpzZWNyZXQ=");

  // Percent-encoded user-info; the password may hold ':' and '@'.
  REQUIRE_FALSE(net::parse_proxy(via("http://al%20ice:p%40ss:word@127.0.0.1:8080"), p));
  CHECK(p.authorization == "Basic YWwgaWNlOnBAc3M6d29yZA==");

  // A user name without password.
  REQUIRE_FALSE(net::parse_proxy(via("http://user@127.0.0.1:8080"), p));
  CHECK(p.authorization == "Basic dXNlcjo=");

  // The fields take precedence over user-info.
  auto o = via("http://user:wrong@127.0.0.1:8080");
  o.proxy_username = "al ice";
  o.proxy_password = "p@ss:word";
  REQUIRE_FALSE(net::parse_proxy(o, p));
  CHECK(p.address.port == 8080);
  CHECK(p.authorization == "Basic YWwgaWNlOnBAc3M6d29yZA==");
}

TEST_CASE("proxy URL: what cannot be used is invalid_proxy_url") {
  net::proxy p;
  for (const char* bad : {"https://127.0.0.1:8443", "socks5://127.0.0.1:1080", "127.0.0.1:3128", "http://",
                          "http://user:pw@", "http://127.0.0.1:99999", "http://%zz@127.0.0.1:3128",
                          "http://user:%4@127.0.0.1:3128"}) {
    CAPTURE(bad);
    CHECK(net::parse_proxy(via(bad), p) == error::invalid_proxy_url);
  }
  auto o = via("http://127.0.0.1:3128");
  o.proxy_username = "a:b";  // RFC 7617: the user-id cannot hold a colon
  CHECK(net::parse_proxy(o, p) == error::invalid_proxy_url);
}

TEST_CASE("CONNECT request: authority-form target with the port, Host, and Proxy-Authorization when given") {
  net::proxy p;
  REQUIRE_FALSE(net::parse_proxy(via("http://user:secret@127.0.0.1:3128"), p));
  CHECK(net::connect_request(server("wss://example.org/chat"), p) ==
        "CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n"
        "Proxy-Authorization: Basic dXNlcjpzZWNyZXQ=\r\n\r\n");
  REQUIRE_FALSE(net::parse_proxy(via("http://127.0.0.1:3128"), p));
  CHECK(net::connect_request(server("ws://[2001:db8::1]:8080/"), p) ==
        "CONNECT [2001:db8::1]:8080 HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n\r\n");
  CHECK(net::tunnel_authority(server("http://127.0.0.1/x")) == "127.0.0.1:80");
}

TEST_CASE("CONNECT answer: parsing stops at the head; the bytes after it are the tunnel's") {
  for (const char* head : {"HTTP/1.1 200 Connection established\r\n\r\n",
                           // RFC 9110 9.3.6: framing headers of a 2xx to CONNECT are ignored
                           "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
                           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                           "HTTP/1.0 200 OK\r\nProxy-Agent: test\r\n\r\n",
                           "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"}) {
    CAPTURE(head);
    const std::string tunnel_bytes = "\x16\x03\x01 or HTTP/1.1 200 OK from the server";
    http::response_parser parser(8192, 0);
    parser.start_tunnel();
    const std::string in = std::string(head) + tunnel_bytes;
    const auto r = parser.feed(in);
    REQUIRE_FALSE(r.error);
    CHECK(parser.done());
    CHECK(in.substr(r.consumed) == tunnel_bytes);
    CHECK_FALSE(net::tunnel_verdict(parser.get()));
  }
}

TEST_CASE("CONNECT answer: 407 asks for credentials, other statuses refuse; limits and garbage") {
  http::response_parser parser(8192, 0);
  parser.start_tunnel();
  auto r = parser.feed(
      "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\n"
      "Content-Length: 5\r\n\r\nhello");
  REQUIRE_FALSE(r.error);
  CHECK(parser.done());
  CHECK(parser.get().body.empty());  // a refusal's body is not read
  CHECK(parser.get().headers.find("proxy-authenticate") == "Basic realm=\"x\"");
  CHECK(net::tunnel_verdict(parser.get()) == error::proxy_auth_required);

  for (unsigned status : {101u, 301u, 403u, 502u}) {
    response answer;
    answer.status = status;
    CHECK(net::tunnel_verdict(answer) == error::proxy_refused);
  }

  http::response_parser small(64, 0);
  small.start_tunnel();
  r = small.feed("HTTP/1.1 200 OK\r\nX-Padding: " + std::string(100, 'p') + "\r\n\r\n");
  CHECK(r.error == error::header_too_large);

  parser.start_tunnel();
  r = parser.feed("\x16\x03\x01 this is no HTTP at all\r\n\r\n");
  CHECK(r.error == error::bad_response);
}
