// How TLS connections end: wscoro sends close_notify before closing TCP,
// and a body read until the server closes is complete only when the server
// ended TLS with close_notify; a bare TCP FIN is error::tls_truncated.
// The server is tests/peers/tls_close_server.py (Python's ssl module).
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>

#include "async.hpp"
#include "child_process.hpp"
#include "test_pki.hpp"
#include "wscoro/wscoro.hpp"

using namespace std::chrono_literals;
using wscoro::test::child_process;
using wscoro::test::pki;
using wscoro::test::run_async;

namespace {

struct tls_close_server {
  explicit tls_close_server(const std::string& mode)
      : process({"/usr/bin/python3", std::string(WSCORO_SOURCE_DIR) + "/tests/peers/tls_close_server.py", mode,
                 pki().path("good.crt"), pki().path("good.key")}) {
    const std::string line = process.read_line(10s);
    REQUIRE(line.rfind("PORT ", 0) == 0);
    url = "https://127.0.0.1:" + line.substr(5) + "/";
  }
  /// What the server saw at the end: "close_notify", "truncated" or "sent".
  std::string result() {
    const std::string line = process.read_line(10s);
    return line.rfind("RESULT ", 0) == 0 ? line.substr(7) : "unexpected: " + line;
  }
  child_process process;
  std::string url;
};

wscoro::connection_options trusting_test_ca() {
  wscoro::connection_options o;
  o.tls_ca_file = pki().ca();
  return o;
}

const std::string full_body = [] {
  std::string b;
  for (int i = 0; i < 50; ++i) b += "all of this body, ";
  return b;
}();

}  // namespace

TEST_CASE("tls close: a body read until close, cut by a TCP FIN without close_notify, is tls_truncated") {
  tls_close_server server("body-truncated");
  run_async(
      [&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto conn = co_await wscoro::connection::open(ex, server.url, trusting_test_ca());
        std::error_code ec;
        auto r = co_await conn.request(wscoro::request("GET", "/"), ec);
        CHECK(ec == wscoro::error::tls_truncated);
        CHECK(r.body.empty());  // nothing passes for a complete body
        CHECK_FALSE(conn.is_open());
      },
      15s);
  CHECK(server.result() == "sent");
}

TEST_CASE("tls close: a body read until close_notify is whole") {
  tls_close_server server("body-closed");
  run_async(
      [&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto conn = co_await wscoro::connection::open(ex, server.url, trusting_test_ca());
        auto r = co_await conn.request(wscoro::request("GET", "/"));
        CHECK(r.status == 200);
        CHECK(r.body == full_body);
        CHECK_FALSE(conn.is_open());
      },
      15s);
  CHECK(server.result() == "sent");
}

TEST_CASE("tls close: connection::close sends close_notify") {
  tls_close_server server("keep-alive");
  run_async(
      [&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto conn = co_await wscoro::connection::open(ex, server.url, trusting_test_ca());
        auto r = co_await conn.request(wscoro::request("GET", "/"));
        CHECK(r.body == "ok");
        CHECK(conn.is_open());
        conn.close();
        CHECK_FALSE(conn.is_open());
      },
      15s);
  CHECK(server.result() == "close_notify");
}

TEST_CASE("tls close: a websocket's close handshake ends with close_notify") {
  tls_close_server server("websocket");
  run_async(
      [&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto conn = co_await wscoro::connection::open(ex, server.url, trusting_test_ca());
        auto result = co_await conn.ws_upgrade("/");
        REQUIRE(std::holds_alternative<wscoro::upgraded>(result));
        auto& ws = std::get<wscoro::upgraded>(result).socket;
        co_await ws.close(wscoro::close_code::normal, "bye");
        CHECK_FALSE(ws.error());
        auto answer = co_await ws.receive();
        REQUIRE(answer);
        CHECK(std::get<wscoro::close_frame>(*answer).code == wscoro::close_code::normal);
      },
      15s);
  CHECK(server.result() == "close_notify");
}
