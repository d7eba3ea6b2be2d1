// Checks shared by the interop tests that reach a real server in more
// than one way (directly, over TLS, through a proxy): a full echo session,
// an open that must fail with a given error, and a server that dies and
// comes back while a websocket reconnects.
#pragma once

#include <doctest/doctest.h>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <csignal>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "child_process.hpp"
#include "wscoro/wscoro.hpp"

namespace wscoro::test {

inline std::error_code code(wscoro::error e) { return wscoro::make_error_code(e); }

inline std::string describe(const std::optional<wscoro::frame>& f) {
  if (!f) return "nullopt";
  if (const auto* t = std::get_if<wscoro::text>(&*f)) return "text \"" + t->data + "\"";
  if (const auto* b = std::get_if<wscoro::binary>(&*f)) return "binary[" + std::to_string(b->data.size()) + "]";
  if (const auto* p = std::get_if<wscoro::ping>(&*f)) return "ping \"" + p->data + "\"";
  if (const auto* p = std::get_if<wscoro::pong>(&*f)) return "pong \"" + p->data + "\"";
  const auto& c = std::get<wscoro::close_frame>(*f);
  return "close " + std::to_string(c.code) + " \"" + c.reason + "\"";
}

inline std::string describe(const wscoro::upgrade_result& r) {
  if (const auto* f = std::get_if<wscoro::failed>(&r)) return "failed: " + f->error.message();
  if (const auto* x = std::get_if<wscoro::refused>(&r)) return "refused: " + std::to_string(x->response.status);
  return "upgraded";
}

// Opens `url` (which must succeed), upgrades to /echo, echoes a text and a
// binary message and closes cleanly.
inline asio::awaitable<void> echo_over(asio::any_io_executor ex, std::string url, wscoro::connection_options options) {
  std::error_code ec;
  auto conn = co_await wscoro::connection::open(ex, url, std::move(options), ec);
  INFO("open " << url << ": " << ec.message());
  REQUIRE(ec == std::error_code());
  REQUIRE(conn.is_open());
  auto result = co_await conn.ws_upgrade("/echo");
  INFO(describe(result));
  REQUIRE(std::holds_alternative<wscoro::upgraded>(result));
  auto& ws = std::get<wscoro::upgraded>(result).socket;

  co_await ws.send(wscoro::text("echoed"));
  auto f = co_await ws.receive();
  CHECK(describe(f) == "text \"echoed\"");

  const std::string bytes(70000, '\xa5');  // more than one TLS record, several TCP segments
  co_await ws.send(wscoro::binary(bytes));
  f = co_await ws.receive();
  const auto* b = f ? std::get_if<wscoro::binary>(&*f) : nullptr;
  INFO("received: " << describe(f));
  REQUIRE(b != nullptr);
  CHECK(b->data == bytes);

  co_await ws.close(1000, "bye", ec);
  CHECK(ec == std::error_code());
  f = co_await ws.receive();
  CHECK(describe(f) == "close 1000 \"bye\"");
  f = co_await ws.receive();
  CHECK(describe(f) == "nullopt");
  CHECK(ws.error() == std::error_code());
}

// Opens `url` expecting the error `expected`.
inline asio::awaitable<void> open_fails(asio::any_io_executor ex, std::string url, wscoro::connection_options options,
                                 std::error_code expected) {
  std::error_code ec;
  auto conn = co_await wscoro::connection::open(ex, url, std::move(options), ec);
  INFO("open " << url << " -> " << std::string(ec.category().name()) << ":" << ec.value() << " " << ec.message());
  CHECK(ec == expected);
  CHECK_FALSE(conn.is_open());
}

/// A port on 127.0.0.1 where nothing listens.
inline unsigned short closed_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

/// Reconnects quickly and for long enough to outlast a server restart.
inline websocket_options retrying_quickly() {
  websocket_options options;
  options.retry.attempts = 40;
  options.retry.initial_delay = std::chrono::milliseconds(50);
  options.retry.max_delay = std::chrono::milliseconds(100);
  return options;
}

/// Kills the Python `server` (SIGKILL: no close handshake, so `ws`
/// reconnects), checks that `ws` reports down, restarts the server on the
/// same port, and checks that `ws` comes back up.
inline asio::awaitable<void> kill_and_restart(std::unique_ptr<peer_server>& server, websocket& ws) {
  const unsigned short port = server->port;
  ::kill(server->process.pid(), SIGKILL);
  server.reset();
  auto gone = co_await ws.receive_event();
  REQUIRE(gone);
  CHECK(std::holds_alternative<down>(*gone));
  server = start_python_peer({"--no-compression", "--port", std::to_string(port)});
  auto back = co_await ws.receive_event();
  REQUIRE(back);
  CHECK(std::holds_alternative<up>(*back));
}

}  // namespace wscoro::test
