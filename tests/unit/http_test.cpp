#include <doctest/doctest.h>

#include "wscoro/error.hpp"
#include "http/request_writer.hpp"
#include "http/response_parser.hpp"
#include "http/url.hpp"

using namespace wscoro;

TEST_CASE("url: schemes, ports, targets, IPv6") {
  http::url u;
  REQUIRE_FALSE(http::parse_url("ws://example.org", u));
  CHECK(u.host == "example.org");
  CHECK(u.port == 80);
  CHECK_FALSE(u.tls);
  CHECK(u.target == "/");
  CHECK(u.host_header == "example.org");

  REQUIRE_FALSE(http::parse_url("WSS://example.org:8443/chat?room=1#frag", u));
  CHECK(u.scheme == "wss");
  CHECK(u.tls);
  CHECK(u.port == 8443);
  CHECK(u.target == "/chat?room=1");
  CHECK(u.host_header == "example.org:8443");

  REQUIRE_FALSE(http::parse_url("https://[::1]:9000", u));
  CHECK(u.host == "::1");
  CHECK(u.host_header == "[::1]:9000");

  REQUIRE_FALSE(http::parse_url("http://h?q", u));
  CHECK(u.target == "/?q");

  REQUIRE_FALSE(http::parse_url("wss://h:443/", u));
  CHECK(u.host_header == "h");
}

TEST_CASE("url: bad URLs have named errors") {
  http::url u;
  CHECK(http::parse_url("example.org", u) == error::invalid_url);
  CHECK(http::parse_url("ftp://example.org", u) == error::unsupported_scheme);
  CHECK(http::parse_url("ws://", u) == error::invalid_url);
  CHECK(http::parse_url("ws://h:0", u) == error::invalid_url);
  CHECK(http::parse_url("ws://h:65536", u) == error::invalid_url);
  CHECK(http::parse_url("ws://h:80x", u) == error::invalid_url);
  CHECK(http::parse_url("ws://user@h", u) == error::invalid_url);
  CHECK(http::parse_url("ws://[::1", u) == error::invalid_url);
  CHECK(http::parse_url("ws://h/a b", u) == error::invalid_url);
}

TEST_CASE("request writer: Host and Content-Length are added, headers kept in order") {
  std::string out;
  request req("POST", "/submit", {{"X-A", "1"}, {"x-b", "two"}}, "body!");
  REQUIRE_FALSE(http::write_request(req, "example.org:8080", http_version::http_1_1, out));
  CHECK(out ==
        "POST /submit HTTP/1.1\r\nHost: example.org:8080\r\nX-A: 1\r\nx-b: two\r\nContent-Length: 5\r\n\r\nbody!");

  out.clear();
  request own_host("GET", "/", {{"host", "other"}});
  REQUIRE_FALSE(http::write_request(own_host, "example.org", http_version::http_1_0, out));
  CHECK(out == "GET / HTTP/1.0\r\nhost: other\r\n\r\n");
}

TEST_CASE("request writer: header injection is refused and nothing is written") {
  std::string out;
  CHECK(http::write_request(request("GET", "/", {{"X", "a\r\nEvil: 1"}}), "h", http_version::http_1_1, out) ==
        error::invalid_request);
  CHECK(http::write_request(request("GET", "/", {{"Bad Name", "v"}}), "h", http_version::http_1_1, out) ==
        error::invalid_request);
  CHECK(http::write_request(request("GET", "/a b", {}), "h", http_version::http_1_1, out) == error::invalid_request);
  CHECK(http::write_request(request("GE T", "/", {}), "h", http_version::http_1_1, out) == error::invalid_request);
  CHECK(out.empty());
}

namespace {

struct parsed {
  std::error_code error;
  std::size_t consumed = 0;
  bool done = false;
};

parsed parse_in_chunks(http::response_parser& p, const std::string& bytes, std::size_t chunk, bool eof = false) {
  parsed out;
  std::string pending;
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    pending += bytes.substr(at, chunk);
    auto r = p.feed(pending);
    out.consumed += r.consumed;
    pending.erase(0, r.consumed);
    if (r.error) {
      out.error = r.error;
      return out;
    }
    if (p.done()) break;
  }
  if (eof && !p.done()) out.error = p.finish();
  out.done = p.done();
  return out;
}

}  // namespace

TEST_CASE("response parser: Content-Length, chunked and read-until-close bodies, in any chunking") {
  for (std::size_t chunk : {std::size_t{1}, std::size_t{5}, std::size_t{4096}}) {
    http::response_parser p(8192, 1 << 20);
    p.start(false);
    auto r = parse_in_chunks(p, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Thing: a\r\nX-Thing: b\r\n\r\nhello", chunk);
    REQUIRE_FALSE(r.error);
    CHECK(r.done);
    CHECK(p.get().status == 200);
    CHECK(p.get().reason == "OK");
    CHECK(p.get().body == "hello");
    CHECK(p.get().headers.combined("x-thing") == "a, b");
    CHECK(p.keep_alive());

    p.start(false);
    r = parse_in_chunks(p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", chunk);
    REQUIRE_FALSE(r.error);
    CHECK(r.done);
    CHECK(p.get().body == "abcde");

    p.start(false);
    r = parse_in_chunks(p, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end", chunk, true);
    REQUIRE_FALSE(r.error);
    CHECK(r.done);
    CHECK(p.get().body == "until the end");
    CHECK_FALSE(p.keep_alive());
  }
}

TEST_CASE("response parser: a HEAD response has no body; HTTP/1.0 does not keep alive") {
  http::response_parser p(8192, 1 << 20);
  p.start(true);
  auto r = parse_in_chunks(p, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", 4096);
  CHECK(r.done);
  CHECK(p.get().body.empty());

  p.start(false);
  r = parse_in_chunks(p, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 4096);
  CHECK(r.done);
  CHECK(p.get().version_minor == 0);
  CHECK_FALSE(p.keep_alive());
}

TEST_CASE("response parser: a 101 stops after its head and leaves the frames that follow") {
  const std::string head =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: x\r\n\r\n";
  const std::string frames = "\x81\x02hi";
  http::response_parser p(8192, 1 << 20);
  p.start(false);
  auto r = p.feed(head + frames);
  REQUIRE_FALSE(r.error);
  CHECK(p.switching_protocols());
  CHECK(r.consumed == head.size());
  CHECK(p.get().headers.find("sec-websocket-accept") == "x");
}

TEST_CASE("response parser: informational responses before the real one are skipped") {
  http::response_parser p(8192, 1 << 20);
  p.start(false);
  auto r = parse_in_chunks(p, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope", 3);
  REQUIRE_FALSE(r.error);
  CHECK(p.get().status == 404);
  CHECK(p.get().body == "nope");
}

TEST_CASE("response parser: limits and malformed input have named errors") {
  http::response_parser small(100, 10);
  small.start(false);
  CHECK(parse_in_chunks(small, "HTTP/1.1 200 OK\r\nX-Long: " + std::string(200, 'a') + "\r\n\r\n", 7).error ==
        error::header_too_large);
  small.start(false);
  // Whitespace before a value reaches no callback; the bytes still count.
  CHECK(parse_in_chunks(small, "HTTP/1.1 200 OK\r\nX:" + std::string(300, ' '), 50).error ==
        error::header_too_large);
  small.start(false);
  CHECK(parse_in_chunks(small, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world", 4096).error ==
        error::body_too_large);

  http::response_parser p(8192, 1 << 20);
  p.start(false);
  CHECK(parse_in_chunks(p, "SSH-2.0-OpenSSH_9.2\r\n", 4096).error == error::bad_response);
  p.start(false);
  CHECK(parse_in_chunks(p, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 4096, true).error ==
        error::connection_closed);
  p.start(false);
  CHECK(parse_in_chunks(p, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 4096).error ==
        error::bad_response);
}
