// Through an HTTP CONNECT proxy (tests/peers/connect_proxy.py) to the real
// Python websockets server, plain and TLS: what the proxy is asked, that the
// tunnel carries Websocket and HTTP as a direct connection would, and each
// way a proxy can fail.
#include <doctest/doctest.h>

#include <asio/ip/tcp.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "async.hpp"
#include "child_process.hpp"
#include "interop_checks.hpp"
#include "scripted_peer.hpp"
#include "test_pki.hpp"
#include "wscoro/wscoro.hpp"

using namespace wscoro;
using namespace wscoro::test;
using asio::awaitable;
using namespace std::chrono_literals;

namespace {

connection_options through(const peer_server& proxy, std::string userinfo = {}) {
  connection_options options;
  options.proxy_url = "http://" + userinfo + "127.0.0.1:" + std::to_string(proxy.port);
  return options;
}

std::string at(std::string scheme, std::string host, unsigned short port, std::string target = "/") {
  return scheme + "://" + host + ":" + std::to_string(port) + target;
}

// One request head as the proxy reported it.
struct seen_request {
  std::string line;
  std::vector<std::string> headers;
};

seen_request next_request(peer_server& proxy) {
  seen_request seen;
  std::string line = proxy.process.read_line(5s);
  REQUIRE(line.rfind("REQUEST ", 0) == 0);
  seen.line = line.substr(8);
  while ((line = proxy.process.read_line(5s)) != "END") {
    REQUIRE(line.rfind("HEADER ", 0) == 0);
    seen.headers.push_back(line.substr(7));
  }
  return seen;
}

const char* const credentials = "Basic YWwgaWNlOnBAc3M6d29yZA==";  // "al ice:p@ss:word"

}  // namespace

TEST_CASE("proxy: Websocket through a CONNECT tunnel, Basic credentials from the URL or the fields") {
  auto server = start_python_peer();
  auto proxy = start_connect_proxy({"--auth", "al ice:p@ss:word"});
  run_async(
      [&](asio::any_io_executor ex) -> awaitable<void> {
        co_await echo_over(ex, at("ws", "127.0.0.1", server->port), through(*proxy, "al%20ice:p%40ss%3Aword@"));
        auto by_fields = through(*proxy);
        by_fields.proxy_username = "al ice";
        by_fields.proxy_password = "p@ss:word";
        co_await echo_over(ex, at("ws", "127.0.0.1", server->port), by_fields);
      },
      20s);
  const std::string authority = "127.0.0.1:" + std::to_string(server->port);
  for (int i = 0; i < 2; ++i) {
    const auto seen = next_request(*proxy);
    CHECK(seen.line == "CONNECT " + authority + " HTTP/1.1");
    CHECK(seen.headers == std::vector<std::string>{"Host: " + authority,
                                                   std::string("Proxy-Authorization: ") + credentials});
  }
}

TEST_CASE("proxy: TLS through the tunnel verifies the server's certificate and name, not the proxy's") {
  auto server = start_python_peer(pki().server_args("good"));
  auto proxy = start_connect_proxy();
  run_async(
      [&](asio::any_io_executor ex) -> awaitable<void> {
        auto trusted = through(*proxy);
        trusted.tls_ca_file = pki().ca();
        co_await echo_over(ex, at("wss", "localhost", server->port), trusted);
        co_await echo_over(ex, at("wss", "127.0.0.1", server->port), trusted);
        auto system_only = through(*proxy);
        co_await open_fails(ex, at("wss", "localhost", server->port), system_only,
                            code(error::tls_untrusted_certificate));
      },
      20s);
  CHECK(next_request(*proxy).line == "CONNECT localhost:" + std::to_string(server->port) + " HTTP/1.1");
  CHECK(next_request(*proxy).line == "CONNECT 127.0.0.1:" + std::to_string(server->port) + " HTTP/1.1");
}

TEST_CASE("proxy: an HTTP request through the tunnel, and a proxy that sends its answer byte by byte") {
  auto server = start_python_peer();
  auto dribbling = start_connect_proxy({"--dribble"});
  run_async(
      [&](asio::any_io_executor ex) -> awaitable<void> {
        auto conn = co_await connection::open(ex, at("http", "127.0.0.1", server->port), through(*dribbling));
        auto refusal = co_await conn.request(wscoro::request("GET", "/refuse"));
        CHECK(refusal.status == 403);
        CHECK(refusal.headers.find("x-refusal") == "testing");
        CHECK(refusal.body == "go away: refused by test server\n");

        co_await echo_over(ex, at("ws", "127.0.0.1", server->port), through(*dribbling));
      },
      20s);
  CHECK(next_request(*dribbling).headers == std::vector<std::string>{"Host: 127.0.0.1:" + std::to_string(server->port)});
}

TEST_CASE("proxy: server bytes that arrive in the same segment as the proxy's 200 are not lost") {
  auto proxy = start_connect_proxy({"--coalesce"});
  run_async([&](asio::any_io_executor ex) -> awaitable<void> {
    // A server that speaks first: its response is in the proxy's first write.
    scripted_server server(ex);
    std::string head;
    auto script = [&]() -> awaitable<void> {
      auto s = co_await server.accept();
      co_await write_all(s, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-Early: yes\r\n\r\nearly bytes");
      head = co_await read_request_head(s);
      co_await wait_for_eof(s);
    };
    auto peer = spawn(ex, script());
    auto options = through(*proxy);
    options.request_timeout = 5s;  // bytes lost would leave the response waiting
    auto conn = co_await connection::open(ex, server.url("/", "http"), options);
    auto r = co_await conn.request(wscoro::request("GET", "/early"));
    CHECK(r.status == 200);
    CHECK(r.headers.find("x-early") == "yes");
    CHECK(r.body == "early bytes");
    conn.close();
    co_await join(peer);
    CHECK(head.rfind("GET /early HTTP/1.1\r\n", 0) == 0);
  });
}

TEST_CASE("proxy: credentials missing or wrong give proxy_auth_required with the proxy's 407") {
  auto server = start_python_peer();
  auto proxy = start_connect_proxy({"--auth", "al ice:p@ss:word"});
  run_async([&](asio::any_io_executor ex) -> awaitable<void> {
    for (const char* userinfo : {"", "al%20ice:wrong@"}) {
      CAPTURE(userinfo);
      std::error_code ec;
      auto conn = co_await connection::open(ex, at("ws", "127.0.0.1", server->port), through(*proxy, userinfo), ec);
      CHECK(ec == error::proxy_auth_required);
      CHECK_FALSE(conn.is_open());
      REQUIRE(conn.proxy_refusal() != nullptr);
      CHECK(conn.proxy_refusal()->status == 407);
      CHECK(conn.proxy_refusal()->reason == "Proxy Authentication Required");
      CHECK(conn.proxy_refusal()->headers.find("proxy-authenticate") == "Basic realm=\"wscoro-test\"");
    }
    // The throwing overload carries the same error.
    bool thrown = false;
    try {
      co_await connection::open(ex, at("ws", "127.0.0.1", server->port), through(*proxy));
    } catch (const std::system_error& e) {
      thrown = e.code() == error::proxy_auth_required;
    }
    CHECK(thrown);
  });
  CHECK(next_request(*proxy).headers.size() == 1);  // Host only
  CHECK(next_request(*proxy).headers.back() == "Proxy-Authorization: Basic YWwgaWNlOndyb25n");
}

TEST_CASE("proxy: a refused or unreachable target gives proxy_refused with the proxy's status") {
  auto proxy = start_connect_proxy();
  auto refusing = start_connect_proxy({"--refuse", "403"});
  run_async([&](asio::any_io_executor ex) -> awaitable<void> {
    std::error_code ec;
    auto conn = co_await connection::open(ex, at("ws", "127.0.0.1", closed_port()), through(*proxy), ec);
    CHECK(ec == error::proxy_refused);
    REQUIRE(conn.proxy_refusal() != nullptr);
    CHECK(conn.proxy_refusal()->status == 502);

    auto refused = co_await connection::open(ex, at("wss", "127.0.0.1", 443), through(*refusing), ec);
    CHECK(ec == error::proxy_refused);
    REQUIRE(refused.proxy_refusal() != nullptr);
    CHECK(refused.proxy_refusal()->status == 403);
    CHECK(refused.proxy_refusal()->reason == "Refused by test proxy");

    // A connection that failed otherwise has no refusal to show.
    auto direct = co_await connection::open(ex, at("ws", "127.0.0.1", closed_port()), connection_options(), ec);
    CHECK(ec == asio::error::connection_refused);
    CHECK(direct.proxy_refusal() == nullptr);
  });
}

TEST_CASE("proxy: a proxy that closes, answers garbage, hangs, or is not there") {
  auto closing = start_connect_proxy({"--close"});
  auto garbage = start_connect_proxy({"--garbage"});
  auto hanging = start_connect_proxy({"--hang"});
  run_async([&](asio::any_io_executor ex) -> awaitable<void> {
    const std::string url = at("ws", "127.0.0.1", 9);
    co_await open_fails(ex, url, through(*closing), code(error::proxy_closed));
    co_await open_fails(ex, url, through(*garbage), code(error::proxy_bad_response));

    auto impatient = through(*hanging);
    impatient.connect_timeout = 300ms;
    const auto start = std::chrono::steady_clock::now();
    co_await open_fails(ex, url, impatient, code(error::proxy_timeout));
    CHECK(since(start) >= 250ms);
    CHECK(since(start) < 3s);

    connection_options nowhere;
    nowhere.proxy_url = "http://127.0.0.1:" + std::to_string(closed_port());
    co_await open_fails(ex, url, nowhere, std::error_code(asio::error::connection_refused));
  });
}

TEST_CASE("proxy: options that cannot work are named errors, and nothing is sent") {
  run_async([&](asio::any_io_executor ex) -> awaitable<void> {
    connection_options tls_proxy;
    tls_proxy.proxy_url = "https://127.0.0.1:8443";
    co_await open_fails(ex, "ws://127.0.0.1:9/", tls_proxy, code(error::invalid_proxy_url));
    connection_options colon;
    colon.proxy_url = "http://127.0.0.1:9";
    colon.proxy_username = "a:b";
    co_await open_fails(ex, "ws://127.0.0.1:9/", colon, code(error::invalid_proxy_url));
    connection_options unix_and_proxy;
    unix_and_proxy.proxy_url = "http://127.0.0.1:9";
    unix_and_proxy.unix_socket_path = "/tmp/wscoro-no-such.sock";
    co_await open_fails(ex, "ws://localhost/", unix_and_proxy, code(error::proxy_with_unix_socket));
  });
}

TEST_CASE("proxy: reconnect goes through the proxy again after the server is killed and restarted") {
  auto server = start_python_peer({"--no-compression"});
  const unsigned short port = server->port;
  auto proxy = start_connect_proxy();
  run_async(
      [&](asio::any_io_executor ex) -> awaitable<void> {
        auto conn = co_await connection::open(ex, at("ws", "127.0.0.1", port), through(*proxy));
        auto r = co_await conn.ws_upgrade("/echo", {}, retrying_quickly());
        REQUIRE(std::holds_alternative<upgraded>(r));
        auto& ws = std::get<upgraded>(r).socket;
        co_await ws.send(text("first life"));
        CHECK(co_await ws.receive_event() == event(text("first life")));
        co_await kill_and_restart(server, ws);
        co_await ws.send(text("second life"));
        CHECK(co_await ws.receive_event() == event(text("second life")));
        co_await ws.close();
        CHECK_FALSE(ws.error());
      },
      30s);
  // The first CONNECT, attempts answered 502 while the server was down, and the one that came back.
  proxy->process.close_stdin();  // it stops; its stdout then ends after what it reported
  std::size_t connects = 0;
  const std::string expected = "CONNECT 127.0.0.1:" + std::to_string(port) + " HTTP/1.1";
  for (;;) {
    seen_request seen;
    try {
      seen = next_request(*proxy);
    } catch (const std::runtime_error&) {
      break;
    }
    CHECK(seen.line == expected);
    ++connects;
  }
  CHECK(connects >= 2);
}
