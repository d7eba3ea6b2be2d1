// Every timeout is a named error within its bound, and leaves the
// connection closed rather than half-open.
#include <doctest/doctest.h>

#include <asio/connect.hpp>

#include "async.hpp"
#include "child_process.hpp"
#include "lifecycle_util.hpp"
#include "scripted_peer.hpp"
#include "wscoro/wscoro.hpp"

using namespace wscoro;
using namespace wscoro::test;
using asio::awaitable;
using asio::ip::tcp;
using namespace std::chrono_literals;

TEST_CASE("timeout: connect_timeout when the server's accept queue is full and SYNs go unanswered") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    // A listener that never accepts, with the smallest backlog: once its queue
    // is full, Linux drops further SYNs and a connect hangs.
    tcp::acceptor full(ex, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), false);
    full.listen(0);
    const auto endpoint = full.local_endpoint();
    std::vector<tcp::socket> fillers;
    for (int i = 0; i < 8; ++i) {
      fillers.emplace_back(ex);
      std::error_code ignored;
      fillers.back().async_connect(endpoint, [](std::error_code) {});
    }
    co_await sleep_for(200ms);
    connection_options options;
    options.connect_timeout = 300ms;
    const auto start = std::chrono::steady_clock::now();
    std::error_code ec;
    auto conn = co_await connection::open(ex, "ws://127.0.0.1:" + std::to_string(endpoint.port()), options, ec);
    CHECK(ec == error::connect_timeout);
    CHECK(since(start) >= 290ms);
    CHECK(since(start) < 3s);
    CHECK_FALSE(conn.is_open());
  });
}

TEST_CASE("timeout: tls_handshake_timeout when the server never speaks TLS") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await server.accept();
      co_await wait_for_eof(s);  // reads the ClientHello, answers nothing
    };
    auto peer = spawn(ex, script());
    connection_options options;
    options.tls_handshake_timeout = 200ms;
    const auto start = std::chrono::steady_clock::now();
    std::error_code ec;
    co_await connection::open(ex, server.url("/", "wss"), options, ec);
    CHECK(ec == error::tls_handshake_timeout);
    CHECK(since(start) < 3s);
    co_await join(peer);
  });
}

TEST_CASE("keepalive: a frozen peer is declared lost after pong_timeout") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await accept_upgrade(server);
      co_await wait_for_eof(s);  // reads our pings, never answers
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, server.url());
    websocket_options options;
    options.keepalive = 100ms;
    options.pong_timeout = 200ms;
    const auto start = std::chrono::steady_clock::now();
    auto r = co_await conn.ws_upgrade("/", {}, options);
    auto& ws = std::get<upgraded>(r).socket;
    CHECK(co_await ws.receive() == std::nullopt);
    CHECK(ws.error() == error::pong_timeout);
    CHECK(since(start) >= 290ms);
    CHECK(since(start) < 3s);
    co_await join(peer);
  });
}

TEST_CASE("keepalive: pings go out after silence; a peer that answers keeps the session, and our pongs stay internal") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    int pings = 0;
    auto script = [&]() -> awaitable<void> {
      auto s = co_await accept_upgrade(server);
      client_frames from_client;
      while (pings < 5) {
        auto f = co_await from_client.next(s);
        REQUIRE(f);
        auto* p = std::get_if<ping>(&*f);
        REQUIRE(p);
        ++pings;
        co_await write_all(s, server_frame(pong(p->data)));
      }
      co_await write_all(s, server_frame(text("five pings")) + server_frame(close_frame(1000)));
      auto rest = co_await frames_until_close(s);
      CHECK(rest == std::vector<frame>{close_frame(1000)});
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, server.url());
    websocket_options options;
    options.keepalive = 50ms;
    options.pong_timeout = 500ms;
    auto r = co_await conn.ws_upgrade("/", {}, options);
    auto& ws = std::get<upgraded>(r).socket;
    std::vector<frame> got;
    while (auto f = co_await ws.receive()) got.push_back(*f);
    CHECK(got == std::vector<frame>{text("five pings"), close_frame(1000)});
    CHECK_FALSE(ws.error());
    CHECK(pings == 5);
    co_await join(peer);
  });
}

TEST_CASE("keepalive: a real server (Python websockets) answers our pings and the session lives on") {
  auto peer = start_python_peer({"--no-compression"});
  run_async([&](asio::any_io_executor ex) -> awaitable<void> {
    auto conn = co_await connection::open(ex, "ws://127.0.0.1:" + std::to_string(peer->port));
    websocket_options options;
    options.keepalive = 50ms;
    options.pong_timeout = 300ms;
    auto r = co_await conn.ws_upgrade("/echo", {}, options);
    auto& ws = std::get<upgraded>(r).socket;
    co_await sleep_for(800ms);  // many keepalive intervals of silence
    CHECK(ws.is_open());
    co_await ws.send(text("still here"));
    CHECK(co_await ws.receive() == frame(text("still here")));
    co_await ws.close();
    CHECK_FALSE(ws.error());
  });
}
