// Asio per-operation cancellation (here through awaitable_operators' ||):
// a cancelled operation loses nothing and leaves the session usable, or the
// connection cleanly closed.
#include <doctest/doctest.h>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "async.hpp"
#include "lifecycle_util.hpp"
#include "scripted_peer.hpp"
#include "wscoro/wscoro.hpp"

using namespace wscoro;
using namespace wscoro::test;
using namespace asio::experimental::awaitable_operators;
using asio::awaitable;
using namespace std::chrono_literals;

TEST_CASE("cancellation: a receive cancelled by a timer loses no frame; the session stays usable") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await accept_upgrade(server);
      client_frames from_client;
      CHECK(co_await from_client.next(s) == frame(text("now send")));
      co_await write_all(s, server_frame(text("late")));
      auto rest = co_await frames_until_close(s);
      CHECK(rest == std::vector<frame>{close_frame(1000)});
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, server.url());
    auto r = co_await conn.ws_upgrade("/");
    auto& ws = std::get<upgraded>(r).socket;
    for (int i = 0; i < 3; ++i) {
      auto first = co_await (ws.receive() || sleep_for(50ms));
      CHECK(first.index() == 1);  // the timer won
      CHECK(ws.is_open());
    }
    co_await ws.send(text("now send"));
    auto second = co_await (ws.receive() || sleep_for(5s));
    REQUIRE(second.index() == 0);
    CHECK(std::get<0>(second) == frame(text("late")));
    co_await ws.close();
    CHECK_FALSE(ws.error());
    co_await join(peer);
  });
}

TEST_CASE("cancellation: a cancelled upgrade closes the connection instead of leaving it half-read") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await server.accept();
      co_await read_request_head(s);
      co_await write_all(s, "HTTP/1.1 101 Switching");  // and never more
      co_await wait_for_eof(s);
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, server.url());
    auto r = co_await (conn.ws_upgrade("/") || sleep_for(100ms));
    CHECK(std::holds_alternative<std::monostate>(r));  // the timer won
    CHECK_FALSE(conn.is_open());
    std::error_code ec;
    co_await conn.request(request("GET", "/"), ec);
    CHECK(ec == error::connection_not_open);
    co_await join(peer);
  });
}

TEST_CASE("cancellation: a cancelled request closes the connection") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await server.accept();
      co_await read_request_head(s);
      co_await wait_for_eof(s);
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, server.url());
    auto r = co_await (conn.request(request("GET", "/slow")) || sleep_for(100ms));
    CHECK(std::holds_alternative<std::monostate>(r));
    CHECK_FALSE(conn.is_open());
    co_await join(peer);
  });
}

TEST_CASE("cancellation: a send waiting for queue space, cancelled, queues nothing; a close cancelled still ends") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    bool release = false;
    auto script = [&]() -> awaitable<void> {
      auto s = co_await accept_upgrade(server);
      while (!release) co_await sleep_for(10ms);  // not reading: the client's queue fills
      auto seen = co_await frames_until_close(s);
      REQUIRE(!seen.empty());
      CHECK(seen.back() == frame(close_frame(1000)));
      for (const frame& f : seen)
        if (auto* b = std::get_if<binary>(&f)) CHECK(b->data != "cancelled");
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, server.url());
    websocket_options options;
    options.send_queue_bytes = 64 * 1024;
    auto r = co_await conn.ws_upgrade("/", {}, options);
    auto& ws = std::get<upgraded>(r).socket;
    // Fill the socket buffers and the queue until a send has to wait.
    bool blocked = false;
    for (int i = 0; i < 2000 && !blocked; ++i) {
      auto sent = co_await (ws.send(binary(std::string(64 * 1024, 'x'))) || sleep_for(200ms));
      blocked = sent.index() == 1;
    }
    REQUIRE(blocked);
    auto cancelled = co_await (ws.send(binary("cancelled")) || sleep_for(50ms));
    CHECK(cancelled.index() == 1);
    CHECK(ws.is_open());
    release = true;
    co_await ws.close();
    CHECK_FALSE(ws.error());
    co_await join(peer);
  });
}

TEST_CASE("cancellation: a cancelled close still ends the session, within closing_timeout") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await accept_upgrade(server);
      co_await wait_for_eof(s);  // never answers the close
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, server.url());
    websocket_options options;
    options.closing_timeout = 300ms;
    auto r = co_await conn.ws_upgrade("/", {}, options);
    auto& ws = std::get<upgraded>(r).socket;
    const auto start = std::chrono::steady_clock::now();
    auto closed = co_await (ws.close() || sleep_for(50ms));
    CHECK(closed.index() == 1);
    std::error_code ec;
    co_await ws.send(text("after close"), ec);
    CHECK(ec == error::session_ended);
    CHECK(co_await ws.receive() == std::nullopt);
    CHECK(ws.error() == error::closing_timeout);
    CHECK(since(start) < 2s);
    co_await join(peer);
  });
}

TEST_CASE("cancellation: a cancelled open leaves nothing connected") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    asio::ip::tcp::acceptor full(ex, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), false);
    full.listen(0);
    std::vector<asio::ip::tcp::socket> fillers;
    for (int i = 0; i < 8; ++i) {
      fillers.emplace_back(ex);
      fillers.back().async_connect(full.local_endpoint(), [](std::error_code) {});
    }
    co_await sleep_for(100ms);
    const auto start = std::chrono::steady_clock::now();
    auto r = co_await (connection::open(ex, "ws://127.0.0.1:" + std::to_string(full.local_endpoint().port())) ||
                       sleep_for(100ms));
    CHECK(r.index() == 1);
    CHECK(since(start) < 2s);
  });
}
