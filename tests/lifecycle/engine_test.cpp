// The session engine where two conditions meet, against scripted peers: a
// slow reader with keepalive, a close that meets a full queue or a
// violation, a ping flood while we cannot write, keepalive spacing, a
// cancellation at the moment of an arrival, a close during a reconnect, an
// exception inside the engine, and flush() before dropping a websocket.
#include <doctest/doctest.h>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <iostream>

#include "async.hpp"
#include "lifecycle_util.hpp"
#include "scripted_peer.hpp"
#include "wscoro/wscoro.hpp"

using namespace wscoro;
using namespace wscoro::test;
using namespace asio::experimental::awaitable_operators;
using asio::awaitable;
using namespace std::chrono_literals;

namespace {

// A healthy server's side once it has said what it wanted to: answers every
// ping, and the client's close with the same code, then closes TCP.
awaitable<std::vector<frame>> answer_until_close(asio::ip::tcp::socket& s) {
  client_frames from_client;
  std::vector<frame> seen;
  while (auto f = co_await from_client.next(s)) {
    seen.push_back(*f);
    if (auto* p = std::get_if<ping>(&*f)) co_await write_all(s, server_frame(pong(p->data)));
    if (auto* c = std::get_if<close_frame>(&*f)) {
      co_await write_all(s, server_frame(close_frame(c->code)));
      break;
    }
  }
  s.close();
  co_return seen;
}

std::string numbered(int i) { return "message " + std::to_string(i); }

}  // namespace

TEST_CASE("engine: a slow reader with keepalive is not declared dead while its own backpressure pauses reading") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    constexpr int count = 20;
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await accept_upgrade(server);
      std::string burst;
      for (int i = 0; i < count; ++i) burst += server_frame(text(numbered(i)));
      co_await write_all(s, burst);
      co_await answer_until_close(s);
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, server.url());
    websocket_options options;
    options.keepalive = 300ms;
    options.pong_timeout = 300ms;
    options.receive_queue_frames = 2;
    auto r = co_await conn.ws_upgrade("/", {}, options);
    auto& ws = std::get<upgraded>(r).socket;
    // 20 messages at one per 150 ms: 3 s with reading paused most of the
    // time, ten times keepalive + pong_timeout.
    for (int i = 0; i < count; ++i) {
      co_await sleep_for(150ms);
      auto f = co_await ws.receive();
      REQUIRE_MESSAGE(f, "ended after " << i << " messages: " << ws.error().message());
      CHECK(*f == frame(text(numbered(i))));
    }
    co_await ws.close();
    CHECK_FALSE(ws.error());
    co_await join(peer);
  });
}

TEST_CASE("engine: close() with a full receive queue ends as soon as the server's close arrives") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await accept_upgrade(server);
      std::string burst;
      for (int i = 0; i < 10; ++i) burst += server_frame(text(numbered(i)));
      co_await write_all(s, burst);
      co_await answer_until_close(s);
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, server.url());
    websocket_options options;
    options.receive_queue_frames = 2;
    options.closing_timeout = 5s;
    auto r = co_await conn.ws_upgrade("/", {}, options);
    auto& ws = std::get<upgraded>(r).socket;
    co_await sleep_for(200ms);  // the queue fills
    const auto start = std::chrono::steady_clock::now();
    co_await ws.close();
    CHECK(since(start) < 1s);
    CHECK_FALSE(ws.error());
    // What was queued before close() is still delivered, then the server's
    // close; data beyond the queue's bound after close() was dropped.
    std::vector<frame> got;
    while (auto f = co_await ws.receive()) got.push_back(*f);
    REQUIRE(got.size() >= 3);
    CHECK(got[0] == frame(text(numbered(0))));
    CHECK(got[1] == frame(text(numbered(1))));
    CHECK(got.back() == frame(close_frame(1000)));
    co_await join(peer);
  });
}

TEST_CASE("engine: after our close, a violation then silence with TCP open ends close() and receive() within closing_timeout") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await accept_upgrade(server);
      client_frames from_client;
      CHECK(co_await from_client.next(s) == frame(close_frame(1000)));
      co_await write_all(s, std::string("\x83\x00", 2));  // opcode 3 is reserved
      co_await wait_for_eof(s);                           // silent, TCP open
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, server.url());
    websocket_options options;
    options.closing_timeout = 1s;
    auto r = co_await conn.ws_upgrade("/", {}, options);
    auto& ws = std::get<upgraded>(r).socket;
    const auto start = std::chrono::steady_clock::now();
    std::error_code ec;
    co_await ws.close(close_code::normal, "", ec);
    CHECK(since(start) < 2s);
    CHECK(ec);
    CHECK(co_await ws.receive() == std::nullopt);
    CHECK(since(start) < 2s);
    co_await join(peer);
  });
}

TEST_CASE("engine: a ping flood from a server that never reads keeps the client's memory bounded") {
  run_async(
      [](asio::any_io_executor ex) -> awaitable<void> {
        scripted_server server(ex);
        std::size_t pings_sent = 0;
        auto script = [&]() -> awaitable<void> {
          auto s = co_await accept_upgrade(server);
          std::string burst;
          for (int i = 0; i < 1024; ++i) burst += server_frame(ping("flood " + std::to_string(i % 10)));
          const auto start = std::chrono::steady_clock::now();
          while (since(start) < 2s) {  // never reads: our pongs pile up in the kernel, then in the client
            co_await write_all(s, burst);
            pings_sent += 1024;
          }
          s.close();
        };
        auto peer = spawn(ex, script());
        auto conn = co_await connection::open(ex, server.url());
        websocket_options options;
        options.silence_pings = true;  // pings are answered, not queued: reading never pauses
        const std::size_t before = resident_bytes();
        auto r = co_await conn.ws_upgrade("/", {}, options);
        auto& ws = std::get<upgraded>(r).socket;
        CHECK(co_await ws.receive() == std::nullopt);
        const double grown_mib = (static_cast<double>(resident_bytes()) - static_cast<double>(before)) / (1 << 20);
        std::cout << "ping flood: " << pings_sent << " pings in 2 s; client memory grew " << grown_mib << " MiB\n";
        CHECK(pings_sent > 100000);
        CHECK(grown_mib < 16.0);
        co_await join(peer);
      },
      30s);
}

TEST_CASE("engine: keepalive sends a ping after every keepalive of silence, whatever pong_timeout is") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    std::vector<std::chrono::milliseconds> arrivals;
    auto script = [&]() -> awaitable<void> {
      auto s = co_await accept_upgrade(server);
      const auto start = std::chrono::steady_clock::now();
      client_frames from_client;
      while (arrivals.size() < 5) {  // reads our pings, never answers
        auto f = co_await from_client.next(s);
        REQUIRE(f);
        REQUIRE(std::holds_alternative<ping>(*f));
        arrivals.push_back(since(start));
      }
      co_await write_all(s, server_frame(close_frame(1000)));
      co_await frames_until_close(s);
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, server.url());
    websocket_options options;
    options.keepalive = 300ms;  // pong_timeout stays 10 s
    auto r = co_await conn.ws_upgrade("/", {}, options);
    auto& ws = std::get<upgraded>(r).socket;
    while (co_await ws.receive()) {
    }
    CHECK_FALSE(ws.error());
    co_await join(peer);
    REQUIRE(arrivals.size() == 5);
    CHECK(arrivals[0] >= 250ms);
    for (std::size_t i = 1; i < arrivals.size(); ++i) {
      const auto gap = arrivals[i] - arrivals[i - 1];
      CAPTURE(i);
      CHECK(gap >= 250ms);
      CHECK(gap < 700ms);
    }
  });
}

TEST_CASE("engine: receives cancelled at the moment frames arrive lose none of them") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    constexpr int count = 300;
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await accept_upgrade(server);
      for (int i = 0; i < count; ++i) {
        co_await write_all(s, server_frame(text(numbered(i))));
        co_await sleep_for(1ms);
      }
      co_await write_all(s, server_frame(close_frame(1000)));
      co_await frames_until_close(s);
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, server.url());
    auto r = co_await conn.ws_upgrade("/");
    auto& ws = std::get<upgraded>(r).socket;
    std::vector<frame> got;
    int cancelled = 0;
    while (ws.is_open()) {
      // A timer as long as the server's pace: many receives are cancelled
      // just as their frame comes in.
      auto raced = co_await (ws.receive() || sleep_for(1ms));
      if (raced.index() == 1) {
        ++cancelled;
        continue;
      }
      auto& f = std::get<0>(raced);
      if (!f) break;
      got.push_back(*f);
    }
    while (auto f = co_await ws.receive()) got.push_back(*f);
    std::cout << "cancelled receives: " << cancelled << "\n";
    CHECK(cancelled > 0);
    REQUIRE(got.size() == count + 1);
    for (int i = 0; i < count; ++i) CHECK(got[static_cast<std::size_t>(i)] == frame(text(numbered(i))));
    CHECK(got.back() == frame(close_frame(1000)));
    co_await join(peer);
  });
}

TEST_CASE("engine: a close while a reconnect is mid-handshake stops the reconnect at once") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    std::chrono::milliseconds second_open_for{0};
    auto script = [&]() -> awaitable<void> {
      auto first = co_await accept_upgrade(server);
      first.close();  // lost: the client reconnects
      auto second = co_await server.accept();
      co_await read_request_head(second);  // ... and never gets its 101
      const auto start = std::chrono::steady_clock::now();
      co_await wait_for_eof(second);
      second_open_for = since(start);
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, server.url());
    websocket_options options;
    options.retry.attempts = 3;
    options.retry.initial_delay = 10ms;
    options.retry.jitter = 0;
    options.handshake_timeout = 10s;
    auto r = co_await conn.ws_upgrade("/", {}, options);
    auto& ws = std::get<upgraded>(r).socket;
    auto gone = co_await ws.receive_event();
    REQUIRE(gone);
    CHECK(std::holds_alternative<down>(*gone));
    co_await sleep_for(200ms);  // the attempt is waiting for its 101
    std::error_code ec;
    co_await ws.close(close_code::normal, "", ec);
    CHECK(ec == error::closed_without_handshake);  // why the session was down
    CHECK_FALSE(ws.is_open());
    co_await join(peer);
    CHECK(second_open_for < 1s);
  });
}

namespace {

// A tracer that fails, as user code may: the session must end with a
// reason, not throw out of io_context::run().
struct throwing_tracer : tracer {
  void frame_received(time_point, const frame&) override { throw std::runtime_error("tracer failed"); }
};

}  // namespace

TEST_CASE("engine: an exception inside the engine ends the session with a named error, not out of run()") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await accept_upgrade(server);
      co_await write_all(s, server_frame(text("boom")));
      co_await wait_for_eof(s);
    };
    auto peer = spawn(ex, script());
    connection_options copts;
    copts.tracer = std::make_shared<throwing_tracer>();
    auto conn = co_await connection::open(ex, server.url(), copts);
    auto r = co_await conn.ws_upgrade("/");
    auto& ws = std::get<upgraded>(r).socket;
    CHECK(co_await ws.receive() == std::nullopt);
    CHECK(ws.error() == error::internal_failure);
    co_await join(peer);
  });
}

TEST_CASE("engine: flush() waits until queued frames are written, so dropping the websocket then loses none") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    std::vector<frame> seen;
    const std::string large(4 * 1024 * 1024, 'z');
    auto script = [&]() -> awaitable<void> {
      auto s = co_await accept_upgrade(server);
      co_await sleep_for(300ms);  // the client flushes meanwhile, held back by TCP
      seen = co_await frames_until_close(s);
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, server.url());
    auto r = co_await conn.ws_upgrade("/");
    {
      auto ws = std::move(std::get<upgraded>(r).socket);
      co_await ws.send(binary(large));
      co_await ws.send(text("last"));
      co_await ws.flush();
    }  // dropped: the connection is aborted without a close handshake
    co_await join(peer);
    REQUIRE(seen.size() == 2);
    CHECK(seen[0] == frame(binary(large)));
    CHECK(seen[1] == frame(text("last")));
  });
}
