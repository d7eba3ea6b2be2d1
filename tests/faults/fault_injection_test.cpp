// Hostile and broken peers: each ends with a named error within its
// timeout, with bounded memory, and nothing already received is lost.
#include <doctest/doctest.h>

#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <iostream>

#include "async.hpp"
#include "lifecycle_util.hpp"
#include "scripted_peer.hpp"
#include "wscoro/wscoro.hpp"

using namespace wscoro;
using namespace wscoro::test;
using asio::awaitable;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

// Ends a connection with a TCP reset instead of an orderly close.
void reset(tcp::socket& s) {
  std::error_code ignored;
  s.set_option(asio::socket_base::linger(true, 0), ignored);
  s.close(ignored);
}

bool is_one_of(std::error_code ec, std::initializer_list<std::error_code> allowed) {
  for (auto a : allowed)
    if (ec == a) return true;
  return false;
}

}  // namespace

TEST_CASE("fault: a server answering the handshake one byte at a time hits handshake_timeout") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await server.accept();
      const std::string answer = switching_protocols(co_await read_request_head(s));
      std::error_code ec;
      for (char c : answer) {
        co_await asio::async_write(s, asio::buffer(&c, 1), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
        co_await sleep_for(50ms);
      }
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, server.url());
    websocket_options options;
    options.handshake_timeout = 500ms;
    const auto start = std::chrono::steady_clock::now();
    auto r = co_await conn.ws_upgrade("/", {}, options);
    REQUIRE(std::holds_alternative<failed>(r));
    CHECK(std::get<failed>(r).error == error::handshake_timeout);
    CHECK(since(start) >= 490ms);
    CHECK(since(start) < 2s);
    co_await join(peer);
  });
}

TEST_CASE("fault: the connection reset, or closed, at every byte offset of an exchange") {
  // The scripted exchange: a 101, then four frames.
  const std::vector<frame> frames{text("hello"), ping("p"), binary(std::string(300, 'b')), close_frame(1000, "end")};
  for (bool use_reset : {true, false}) {
    CAPTURE(use_reset);
    std::size_t head_size = 0;
    std::vector<std::size_t> frame_ends;
    std::string exchange_tail;
    for (const frame& f : frames) {
      exchange_tail += server_frame(f);
      frame_ends.push_back(exchange_tail.size());
    }
    std::size_t offsets_checked = 0;
    for (std::size_t cut = 0;; ++cut) {
      bool past_end = false;
      run_async([&](asio::any_io_executor ex) -> awaitable<void> {
        scripted_server server(ex);
        auto script = [&]() -> awaitable<void> {
          auto s = co_await server.accept();
          const std::string whole = switching_protocols(co_await read_request_head(s)) + exchange_tail;
          head_size = whole.size() - exchange_tail.size();
          past_end = cut > whole.size();
          co_await write_all(s, std::string_view(whole).substr(0, cut));
          co_await sleep_for(5ms);  // let the bytes leave before a reset discards them
          if (use_reset) {
            reset(s);
          } else {
            s.close();
          }
        };
        auto peer = spawn(ex, script());
        auto conn = co_await connection::open(ex, server.url());
        auto r = co_await conn.ws_upgrade("/");
        co_await join(peer);
        if (cut < head_size) {
          REQUIRE(std::holds_alternative<failed>(r));
          CHECK(is_one_of(std::get<failed>(r).error,
                          {error::closed_during_handshake, asio::error::connection_reset}));
          co_return;
        }
        REQUIRE(std::holds_alternative<upgraded>(r));
        auto& ws = std::get<upgraded>(r).socket;
        std::vector<frame> got;
        while (auto f = co_await ws.receive()) got.push_back(*f);
        // Every frame that arrived whole is delivered, in order.
        std::size_t whole_frames = 0;
        while (whole_frames < frames.size() && head_size + frame_ends[whole_frames] <= cut) ++whole_frames;
        CHECK(got == std::vector<frame>(frames.begin(), frames.begin() + static_cast<std::ptrdiff_t>(whole_frames)));
        if (whole_frames == frames.size()) {
          CHECK(is_one_of(ws.error(), {std::error_code{}, asio::error::connection_reset, asio::error::broken_pipe}));
        } else {
          CHECK(is_one_of(ws.error(), {error::closed_without_handshake, asio::error::connection_reset}));
        }
      });
      if (past_end) break;
      ++offsets_checked;
    }
    CHECK(offsets_checked > 300);
  }
}

TEST_CASE("fault: a half-closed server (FIN, still reading) is a loss without handshake; after its close frame, a clean end") {
  for (bool close_first : {false, true}) {
    CAPTURE(close_first);
    run_async([&](asio::any_io_executor ex) -> awaitable<void> {
      scripted_server server(ex);
      std::vector<frame> client_sent;
      auto script = [&]() -> awaitable<void> {
        auto s = co_await accept_upgrade(server);
        std::string bytes = server_frame(text("last words"));
        if (close_first) bytes += server_frame(close_frame(1000));
        co_await write_all(s, bytes);
        s.shutdown(tcp::socket::shutdown_send);
        client_frames from_client;
        while (auto f = co_await from_client.next(s)) client_sent.push_back(*f);
      };
      auto peer = spawn(ex, script());
      auto conn = co_await connection::open(ex, server.url());
      auto r = co_await conn.ws_upgrade("/");
      auto& ws = std::get<upgraded>(r).socket;
      CHECK(co_await ws.receive() == frame(text("last words")));
      if (close_first) {
        CHECK(co_await ws.receive() == frame(close_frame(1000)));
        CHECK(co_await ws.receive() == std::nullopt);
        CHECK_FALSE(ws.error());
      } else {
        CHECK(co_await ws.receive() == std::nullopt);
        CHECK(ws.error() == error::closed_without_handshake);
      }
      co_await join(peer);
      if (close_first) CHECK(client_sent == std::vector<frame>{close_frame(1000)});
    });
  }
}

TEST_CASE("fault: a frame declaring 2^63 bytes is a protocol error (1002); 2^63-1 bytes is too big (1009)") {
  for (const auto& [header, code, expected] :
       {std::tuple{std::string("\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00", 10), std::uint16_t{1002},
                   std::error_code(error::length_too_large)},
        std::tuple{std::string("\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff", 10), std::uint16_t{1009},
                   std::error_code(error::message_too_big)}}) {
    run_async([&](asio::any_io_executor ex) -> awaitable<void> {
      scripted_server server(ex);
      std::optional<frame> answer;
      auto script = [&]() -> awaitable<void> {
        auto s = co_await accept_upgrade(server);
        co_await write_all(s, header + "payload that will never be read in full");
        client_frames from_client;
        answer = co_await from_client.next(s);
        s.close();
      };
      auto peer = spawn(ex, script());
      auto conn = co_await connection::open(ex, server.url());
      auto r = co_await conn.ws_upgrade("/");
      auto& ws = std::get<upgraded>(r).socket;
      CHECK(co_await ws.receive() == std::nullopt);
      CHECK(ws.error() == expected);
      co_await join(peer);
      REQUIRE(answer);
      CHECK(std::get<close_frame>(*answer).code == code);
    });
  }
}

TEST_CASE("fault: an endless fragmented message stops at max_message_size with 1009, memory bounded") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    std::optional<frame> answer;
    std::size_t fragments_sent = 0;
    auto script = [&]() -> awaitable<void> {
      auto s = co_await accept_upgrade(server);
      const std::string fragment = std::string("\x00\x7e\x40\x00", 4) + std::string(16 * 1024, 'f');
      co_await write_all(s, std::string("\x02\x7e\x40\x00", 4) + std::string(16 * 1024, 'f'));
      std::error_code ec;
      while (!ec && fragments_sent < 100000) {  // 1.6 GB if nobody stopped it
        co_await asio::async_write(s, asio::buffer(fragment), asio::redirect_error(asio::use_awaitable, ec));
        ++fragments_sent;
        if (fragments_sent % 64 == 0) {
          // Between bursts, see whether the client has answered.
          if (s.available(ec) > 0) break;
        }
      }
      client_frames from_client;
      answer = co_await from_client.next(s);
      s.close();
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, server.url());
    websocket_options options;
    options.max_message_size = 4 * 1024 * 1024;
    const std::size_t before = resident_bytes();
    auto r = co_await conn.ws_upgrade("/", {}, options);
    auto& ws = std::get<upgraded>(r).socket;
    CHECK(co_await ws.receive() == std::nullopt);
    CHECK(ws.error() == error::message_too_big);
    const double grown_mib = (static_cast<double>(resident_bytes()) - static_cast<double>(before)) / (1 << 20);
    std::cout << "endless fragments: stopped after " << fragments_sent << " fragments of 16 KiB; resident memory grew "
              << grown_mib << " MiB (limit 4 MiB)\n";
    CHECK(grown_mib < 24.0);
    co_await join(peer);
    REQUIRE(answer);
    CHECK(std::get<close_frame>(*answer).code == 1009);
    CHECK(fragments_sent < 2000);
  });
}
