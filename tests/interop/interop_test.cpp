// wscoro against real servers: Python `websockets` (tests/peers/py_server.py)
// and Node `ws` (tests/peers/node_server.js), over plain TCP.
//
// Every TEST_CASE starts one peer of each kind (about 250 ms each) and runs
// its scenario against both, in turn; INFO names the peer and the step in
// any failure. Every coroutine runs under run_async's time bound.
//
// GCC 12: no aggregate temporary or initializer_list is built inside a
// co_await expression here; such values get their own statement first.

#include <doctest/doctest.h>

#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "async.hpp"
#include "child_process.hpp"
#include "wscoro/wscoro.hpp"

namespace {

using namespace std::chrono_literals;
using wscoro::test::run_async;

// --- Peers -----------------------------------------------------------------

struct peer_kind {
  std::string name;
  std::unique_ptr<wscoro::test::peer_server> (*start)(std::vector<std::string>);
  bool python;
};

const peer_kind peer_kinds[] = {
    {"python websockets", &wscoro::test::start_python_peer, true},
    {"node ws", &wscoro::test::start_node_peer, false},
};

std::string ws_url(unsigned short port) { return "ws://127.0.0.1:" + std::to_string(port); }

// --- Payloads and frame descriptions -----------------------------------------

// Every byte value, in an order that is not a plain counter.
std::string binary_payload(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>((i * 7 + 3) % 256);
  return s;
}

// Printable ASCII cycling from ' ' to '~'.
std::string text_payload(std::size_t size) {
  std::string s(size, ' ');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>(0x20 + i % 95);
  return s;
}

// The peers' /send and /fragmented pattern: binary byte i is i % 251; text 'a'..'z' cycling.
std::string peer_pattern(std::size_t size, bool binary) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    s[i] = binary ? static_cast<char>(i % 251) : static_cast<char>('a' + i % 26);
  return s;
}

std::string escaped(const std::string& data, std::size_t limit = 80) {
  static const char hex[] = "0123456789abcdef";
  std::string out = "\"";
  for (std::size_t i = 0; i < data.size() && i < limit; ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (data.size() > limit) out += "...";
  return out + "\"";
}

// A frame as text, for failure messages (payloads shown in full up to 200 bytes).
std::string describe(const std::optional<wscoro::frame>& f) {
  if (!f) return "nullopt";
  if (const auto* t = std::get_if<wscoro::text>(&*f))
    return "text[" + std::to_string(t->data.size()) + "] " + escaped(t->data, 200);
  if (const auto* b = std::get_if<wscoro::binary>(&*f))
    return "binary[" + std::to_string(b->data.size()) + "] " + escaped(b->data, 200);
  if (const auto* p = std::get_if<wscoro::ping>(&*f)) return "ping " + escaped(p->data, 200);
  if (const auto* p = std::get_if<wscoro::pong>(&*f)) return "pong " + escaped(p->data, 200);
  const auto& c = std::get<wscoro::close_frame>(*f);
  return "close " + std::to_string(c.code) + " " + escaped(c.reason, 200);
}

std::string describe(const wscoro::frame& f) { return describe(std::optional<wscoro::frame>(f)); }

// Empty when `f` is a text (or, if `binary`, a binary) message holding exactly
// `expected`; else what is wrong, without dumping megabytes.
std::string message_mismatch(const std::optional<wscoro::frame>& f, bool binary, const std::string& expected) {
  const std::string* data = nullptr;
  if (binary) {
    if (const auto* b = f ? std::get_if<wscoro::binary>(&*f) : nullptr) data = &b->data;
  } else {
    if (const auto* t = f ? std::get_if<wscoro::text>(&*f) : nullptr) data = &t->data;
  }
  if (data == nullptr)
    return std::string("expected a ") + (binary ? "binary" : "text") + " message, got " + describe(f);
  if (*data == expected) return {};
  std::size_t i = 0;
  while (i < data->size() && i < expected.size() && (*data)[i] == expected[i]) ++i;
  return "got " + std::to_string(data->size()) + " bytes, expected " + std::to_string(expected.size()) +
         "; first difference at byte " + std::to_string(i);
}

std::error_code code(wscoro::error e) { return wscoro::make_error_code(e); }

// --- Connecting ----------------------------------------------------------------

std::string describe(const wscoro::upgrade_result& r) {
  if (const auto* f = std::get_if<wscoro::failed>(&r)) return "failed: " + f->error.message();
  if (const auto* x = std::get_if<wscoro::refused>(&r))
    return "refused: " + std::to_string(x->response.status) + " " + escaped(x->response.body);
  return "upgraded, protocol " + escaped(std::get<wscoro::upgraded>(r).protocol);
}

// Upgrades a new connection to `target`; the test fails unless it is upgraded.
asio::awaitable<wscoro::upgraded> upgrade(asio::any_io_executor ex, unsigned short port, std::string target,
                                          wscoro::fields extra, wscoro::websocket_options options) {
  auto conn = co_await wscoro::connection::open(ex, ws_url(port));
  auto result = co_await conn.ws_upgrade(std::move(target), std::move(extra), std::move(options));
  INFO(describe(result));
  REQUIRE(std::holds_alternative<wscoro::upgraded>(result));
  co_return std::move(std::get<wscoro::upgraded>(result));
}

asio::awaitable<wscoro::websocket> open_ws(asio::any_io_executor ex, unsigned short port, std::string target) {
  wscoro::fields none;
  wscoro::websocket_options options;
  auto up = co_await upgrade(ex, port, std::move(target), std::move(none), std::move(options));
  co_return std::move(up.socket);
}

// Sends a text message and checks that it comes back as the next frame.
asio::awaitable<void> check_echo(wscoro::websocket& ws, std::string message) {
  co_await ws.send(wscoro::text(message));
  auto back = co_await ws.receive();
  CHECK(describe(back) == describe(wscoro::frame(wscoro::text(message))));
}

// Deliberately closes with 1000 and checks the whole close handshake: the
// server's close frame (echoing 1000), then the end, cleanly.
asio::awaitable<void> close_cleanly(wscoro::websocket& ws) {
  std::error_code ec;
  co_await ws.close(wscoro::close_code::normal, "done", ec);
  CHECK(ec == std::error_code());
  auto f = co_await ws.receive();
  const auto* c = f ? std::get_if<wscoro::close_frame>(&*f) : nullptr;
  INFO("received: " << describe(f));
  REQUIRE(c != nullptr);
  CHECK(c->code == 1000);
  auto end = co_await ws.receive();
  CHECK(describe(end) == "nullopt");
  CHECK(ws.error() == std::error_code());
  CHECK_FALSE(ws.is_open());
}

}  // namespace

// 1.
TEST_CASE("interop: upgrade to /echo, text and binary echo, client-initiated close") {
  for (const auto& kind : peer_kinds) {
    INFO("peer: " << kind.name);
    auto peer = kind.start({});
    run_async(
        [&](asio::any_io_executor ex) -> asio::awaitable<void> {
          auto conn = co_await wscoro::connection::open(ex, ws_url(peer->port));
          CHECK(conn.is_open());
          auto result = co_await conn.ws_upgrade("/echo");
          INFO(describe(result));
          REQUIRE(std::holds_alternative<wscoro::upgraded>(result));
          auto& up = std::get<wscoro::upgraded>(result);
          CHECK(up.protocol.empty());
          CHECK_FALSE(up.headers.contains("sec-websocket-protocol"));
          CHECK_FALSE(up.headers.contains("sec-websocket-extensions"));  // no deflate: wscoro offers none
          CHECK(up.socket.protocol().empty());
          CHECK(up.socket.is_open());
          CHECK(up.socket.error() == std::error_code());
          // The connection now belongs to the websocket.
          CHECK_FALSE(conn.is_open());
          wscoro::websocket ws = std::move(up.socket);

          co_await ws.send(wscoro::text("hello"));
          auto f = co_await ws.receive();
          CHECK(describe(f) == describe(wscoro::frame(wscoro::text("hello"))));

          const std::string bytes("\x00\x01\x7f\x80\xfe\xff\x00", 7);
          co_await ws.send(wscoro::binary(bytes));
          f = co_await ws.receive();
          CHECK(describe(f) == describe(wscoro::frame(wscoro::binary(bytes))));

          // The same bytes as text would not be UTF-8: the type must come back too.
          co_await ws.send(wscoro::text("\xc3\xa9t\xc3\xa9 \xe2\x82\xac"));
          f = co_await ws.receive();
          CHECK(describe(f) == describe(wscoro::frame(wscoro::text("\xc3\xa9t\xc3\xa9 \xe2\x82\xac"))));

          std::error_code ec;
          co_await ws.close(1000, "done", ec);
          CHECK(ec == std::error_code());
          CHECK_FALSE(ws.is_open());
          f = co_await ws.receive();
          // Both servers echo the code and the reason of the client's close frame.
          CHECK(describe(f) == describe(wscoro::frame(wscoro::close_frame(1000, "done"))));
          f = co_await ws.receive();
          CHECK(describe(f) == "nullopt");
          CHECK(ws.error() == std::error_code());
          CHECK_FALSE(ws.is_open());

          // Nothing can be sent once the session has ended.
          co_await ws.send(wscoro::text("late"), ec);
          CHECK(ec == code(wscoro::error::session_ended));
          // Closing an ended session does nothing.
          co_await ws.close(1000, "again", ec);
          CHECK(ec == std::error_code());
        },
        10s);
  }
}

// 2.
TEST_CASE("interop: subprotocol negotiation") {
  for (const auto& kind : peer_kinds) {
    INFO("peer: " << kind.name);
    auto peer = kind.start({});
    run_async(
        [&](asio::any_io_executor ex) -> asio::awaitable<void> {
          {
            INFO("offered by header: superchat, chat");
            wscoro::fields headers{{"sec-websocket-protocol", "superchat, chat"}};
            wscoro::websocket_options options;
            auto up = co_await upgrade(ex, peer->port, "/echo", std::move(headers), std::move(options));
            CHECK(up.protocol == "superchat");
            CHECK(up.socket.protocol() == "superchat");
            CHECK(up.headers.find("sec-websocket-protocol") == std::optional<std::string_view>("superchat"));
            co_await check_echo(up.socket, "with superchat");
            co_await close_cleanly(up.socket);
          }
          {
            INFO("offered by websocket_options::protocols: chat");
            wscoro::fields none;
            wscoro::websocket_options options;
            options.protocols = {"chat"};
            auto up = co_await upgrade(ex, peer->port, "/echo", std::move(none), std::move(options));
            CHECK(up.protocol == "chat");
            CHECK(up.socket.protocol() == "chat");
            co_await check_echo(up.socket, "with chat");
            co_await close_cleanly(up.socket);
          }
          {
            INFO("options.protocols {chat} come before a header's superchat");
            wscoro::fields headers{{"Sec-WebSocket-Protocol", "superchat"}};
            wscoro::websocket_options options;
            options.protocols = {"chat"};
            auto up = co_await upgrade(ex, peer->port, "/echo", std::move(headers), std::move(options));
            CHECK(up.protocol == "chat");
            co_await close_cleanly(up.socket);
          }
          {
            INFO("offered only: nope");
            wscoro::fields headers{{"sec-websocket-protocol", "nope"}};
            wscoro::websocket_options options;
            auto up = co_await upgrade(ex, peer->port, "/echo", std::move(headers), std::move(options));
            CHECK(up.protocol.empty());
            CHECK(up.socket.protocol().empty());
            CHECK_FALSE(up.headers.contains("sec-websocket-protocol"));
            co_await check_echo(up.socket, "without subprotocol");
            co_await close_cleanly(up.socket);
          }
        },
        10s);
  }
}

// 3.
TEST_CASE("interop: refused upgrades report the whole response") {
  for (const auto& kind : peer_kinds) {
    INFO("peer: " << kind.name);
    auto peer = kind.start({});
    run_async(
        [&](asio::any_io_executor ex) -> asio::awaitable<void> {
          auto conn = co_await wscoro::connection::open(ex, ws_url(peer->port));
          auto result = co_await conn.ws_upgrade("/refuse");
          INFO(describe(result));
          REQUIRE(std::holds_alternative<wscoro::refused>(result));
          const wscoro::response& r = std::get<wscoro::refused>(result).response;
          CHECK(r.status == 403);
          CHECK(r.reason == "Forbidden");
          CHECK(r.version_minor == 1);
          CHECK(r.headers.find("X-Refusal") == std::optional<std::string_view>("testing"));
          CHECK(r.headers.find("x-refusal") == std::optional<std::string_view>("testing"));
          CHECK(r.headers.find("content-type") == std::optional<std::string_view>("text/plain"));
          CHECK(r.body == "go away: refused by test server\n");
          // Both servers refuse with "Connection: close" (checked on the wire
          // for websockets 10.4 and ws 8), so the connection is closed after the
          // refusal and a second upgrade on it fails without sending anything.
          const auto connection = r.headers.find("connection");
          REQUIRE(connection.has_value());
          CHECK(wscoro::iequals(*connection, "close"));
          CHECK_FALSE(conn.is_open());
          auto again = co_await conn.ws_upgrade("/echo");
          INFO("second upgrade: " << describe(again));
          REQUIRE(std::holds_alternative<wscoro::failed>(again));
          CHECK(std::get<wscoro::failed>(again).error == code(wscoro::error::connection_not_open));
          std::error_code ec;
          auto plain = co_await conn.request(wscoro::request("GET", "/"), ec);
          CHECK(ec == code(wscoro::error::connection_not_open));
          CHECK(plain.status == 0);

          // An unknown route: 404, on a new connection.
          auto conn2 = co_await wscoro::connection::open(ex, ws_url(peer->port));
          auto missing = co_await conn2.ws_upgrade("/no-such-route");
          INFO(describe(missing));
          REQUIRE(std::holds_alternative<wscoro::refused>(missing));
          CHECK(std::get<wscoro::refused>(missing).response.status == 404);
          CHECK(std::get<wscoro::refused>(missing).response.body == "no such route\n");

          // A refusal is not the end: a new connection upgrades normally.
          auto ws = co_await open_ws(ex, peer->port, "/echo");
          co_await check_echo(ws, "after refusal");
          co_await close_cleanly(ws);
        },
        10s);
  }
}

// 4.
TEST_CASE("interop: messages of every length encoding, up to 16 MiB, echo exactly") {
  const std::size_t sizes[] = {0, 1, 125, 126, 127, 65535, 65536, 1024 * 1024, 16 * 1024 * 1024};
  for (const auto& kind : peer_kinds) {
    INFO("peer: " << kind.name);
    auto peer = kind.start({});
    std::string step;
    INFO("step: " << step);
    run_async(
        [&](asio::any_io_executor ex) -> asio::awaitable<void> {
          auto ws = co_await open_ws(ex, peer->port, "/echo");
          for (const std::size_t size : sizes) {
            for (const bool binary : {true, false}) {
              step = (binary ? "binary of " : "text of ") + std::to_string(size) + " bytes";
              const std::string data = binary ? binary_payload(size) : text_payload(size);
              if (binary) {
                co_await ws.send(wscoro::binary(data));
              } else {
                co_await ws.send(wscoro::text(data));
              }
              auto back = co_await ws.receive();
              CHECK(message_mismatch(back, binary, data) == "");
            }
          }

          // Pipelined: every size sent before any echo is read; echoes come in order.
          step = "pipelined";
          for (const std::size_t size : sizes) co_await ws.send(wscoro::binary(binary_payload(size)));
          for (const std::size_t size : sizes) {
            step = "pipelined binary of " + std::to_string(size) + " bytes";
            auto back = co_await ws.receive();
            CHECK(message_mismatch(back, true, binary_payload(size)) == "");
          }
          step = "close";
          co_await close_cleanly(ws);

          step = "/send of 16 MiB binary";
          auto sent = co_await open_ws(ex, peer->port, "/send?size=16777216&type=binary");
          auto big = co_await sent.receive();
          CHECK(message_mismatch(big, true, peer_pattern(16 * 1024 * 1024, true)) == "");
          co_await check_echo(sent, "after 16 MiB");
          co_await close_cleanly(sent);

          step = "/send of 3 x 1 MiB text";
          auto texts = co_await open_ws(ex, peer->port, "/send?size=1048576&type=text&count=3");
          for (int i = 0; i < 3; ++i) {
            auto t = co_await texts.receive();
            CHECK(message_mismatch(t, false, peer_pattern(1024 * 1024, false)) == "");
          }
          co_await check_echo(texts, "after 3 MiB");
          co_await close_cleanly(texts);
        },
        60s);
  }
}

// 5.
TEST_CASE("interop: messages fragmented by the server are reassembled") {
  for (const auto& kind : peer_kinds) {
    INFO("peer: " << kind.name);
    auto peer = kind.start({});
    std::string step;
    INFO("step: " << step);
    run_async(
        [&](asio::any_io_executor ex) -> asio::awaitable<void> {
          step = "3 x 10 text";
          auto ws = co_await open_ws(ex, peer->port, "/fragmented?parts=3&size=10&type=text");
          auto f = co_await ws.receive();
          CHECK(describe(f) == describe(wscoro::frame(wscoro::text("abcdefghijklmnopqrstuvwxyzabcd"))));
          co_await check_echo(ws, "after fragments");
          co_await close_cleanly(ws);

          step = "3 x 10 binary";
          ws = co_await open_ws(ex, peer->port, "/fragmented?parts=3&size=10&type=binary");
          f = co_await ws.receive();
          CHECK(message_mismatch(f, true, peer_pattern(30, true)) == "");
          CHECK(describe(f) == describe(wscoro::frame(wscoro::binary(peer_pattern(30, true)))));
          co_await check_echo(ws, "after fragments");
          co_await close_cleanly(ws);

          step = "4 x 70000 binary (64-bit frame lengths)";
          ws = co_await open_ws(ex, peer->port, "/fragmented?parts=4&size=70000&type=binary");
          f = co_await ws.receive();
          CHECK(message_mismatch(f, true, peer_pattern(280000, true)) == "");
          co_await check_echo(ws, "after fragments");
          co_await close_cleanly(ws);

          step = "1 part text (an unfragmented message)";
          ws = co_await open_ws(ex, peer->port, "/fragmented?parts=1&size=5&type=text");
          f = co_await ws.receive();
          CHECK(describe(f) == describe(wscoro::frame(wscoro::text("abcde"))));
          co_await close_cleanly(ws);
        },
        15s);
  }
}

// 6.
TEST_CASE("interop: server pings are delivered and answered, or silenced") {
  for (const auto& kind : peer_kinds) {
    INFO("peer: " << kind.name);
    auto peer = kind.start({});
    std::string step;
    INFO("step: " << step);
    run_async(
        [&](asio::any_io_executor ex) -> asio::awaitable<void> {
          step = "ping delivered";
          auto ws = co_await open_ws(ex, peer->port, "/ping");
          auto f = co_await ws.receive();
          CHECK(describe(f) == describe(wscoro::frame(wscoro::ping("hello-ping"))));
          // The pong went out by itself; the server is still talking to us.
          co_await check_echo(ws, "after ping");
          co_await check_echo(ws, "still here");
          co_await close_cleanly(ws);

          step = "ping silenced";
          wscoro::fields none;
          wscoro::websocket_options options;
          options.silence_pings = true;
          auto up = co_await upgrade(ex, peer->port, "/ping", std::move(none), std::move(options));
          co_await up.socket.send(wscoro::text("x"));
          f = co_await up.socket.receive();
          CHECK(describe(f) == describe(wscoro::frame(wscoro::text("x"))));
          co_await check_echo(up.socket, "y");
          co_await close_cleanly(up.socket);
        },
        10s);
  }
}

// 7.
TEST_CASE("interop: server-initiated close") {
  for (const auto& kind : peer_kinds) {
    INFO("peer: " << kind.name);
    auto peer = kind.start({});
    std::string step;
    INFO("step: " << step);
    run_async(
        [&](asio::any_io_executor ex) -> asio::awaitable<void> {
          step = "4001 bye now";
          auto ws = co_await open_ws(ex, peer->port, "/close?code=4001&reason=bye%20now");
          auto f = co_await ws.receive();
          CHECK(describe(f) == describe(wscoro::frame(wscoro::close_frame(4001, "bye now"))));
          f = co_await ws.receive();
          CHECK(describe(f) == "nullopt");
          CHECK(ws.error() == std::error_code());
          CHECK_FALSE(ws.is_open());
          std::error_code ec;
          co_await ws.send(wscoro::text("too late"), ec);
          CHECK(ec == code(wscoro::error::session_ended));
          co_await ws.close(1000, "", ec);  // already ended: nothing happens
          CHECK(ec == std::error_code());

          step = "default 1000, empty reason";
          ws = co_await open_ws(ex, peer->port, "/close");
          f = co_await ws.receive();
          CHECK(describe(f) == describe(wscoro::frame(wscoro::close_frame(1000, ""))));
          f = co_await ws.receive();
          CHECK(describe(f) == "nullopt");
          CHECK(ws.error() == std::error_code());

          step = "1001 with a UTF-8 reason";
          ws = co_await open_ws(ex, peer->port, "/close?code=1001&reason=%C3%A9t%C3%A9");
          f = co_await ws.receive();
          CHECK(describe(f) == describe(wscoro::frame(wscoro::close_frame(1001, "\xc3\xa9t\xc3\xa9"))));
          f = co_await ws.receive();
          CHECK(describe(f) == "nullopt");
          CHECK(ws.error() == std::error_code());
        },
        10s);
  }
}

namespace {

// Sends "c<id>-0" .. "c<id>-<count - 1>", yielding to the other senders
// between sends; records the first error.
asio::awaitable<void> send_numbered(wscoro::websocket& ws, int id, int count, std::error_code& failure) {
  auto ex = co_await asio::this_coro::executor;
  for (int n = 0; n < count; ++n) {
    std::error_code ec;
    co_await ws.send(wscoro::text("c" + std::to_string(id) + "-" + std::to_string(n)), ec);
    if (ec) {
      failure = ec;
      co_return;
    }
    co_await asio::post(ex, asio::use_awaitable);
  }
}

// Empty when `numbers` is 0, 1, ..., count - 1; else the first thing wrong.
std::string order_problem(const std::vector<int>& numbers, int count) {
  for (std::size_t k = 0; k < numbers.size(); ++k)
    if (numbers[k] != static_cast<int>(k))
      return "message " + std::to_string(k) + " is number " + std::to_string(numbers[k]);
  if (numbers.size() != static_cast<std::size_t>(count))
    return "got " + std::to_string(numbers.size()) + " of " + std::to_string(count) + " messages";
  return {};
}

// 10 senders x 100 messages on one websocket; checks every echo arrives,
// whole, and in each sender's order.
asio::awaitable<void> concurrent_senders(asio::any_io_executor ex, wscoro::websocket& ws) {
  constexpr int senders = 10;
  constexpr int per_sender = 100;
  std::vector<std::error_code> failures(senders);
  int finished = 0;
  int crashed = 0;
  for (int i = 0; i < senders; ++i) {
    asio::co_spawn(ex, send_numbered(ws, i, per_sender, failures[i]), [&](std::exception_ptr e) {
      ++finished;
      if (e) ++crashed;
    });
  }

  std::map<int, std::vector<int>> received;
  std::vector<std::string> unexpected;
  int total = 0;
  while (total < senders * per_sender) {
    auto f = co_await ws.receive();
    if (!f) break;
    ++total;
    const auto* t = std::get_if<wscoro::text>(&*f);
    const auto dash = t ? t->data.find('-') : std::string::npos;
    if (t == nullptr || t->data.size() < 3 || t->data[0] != 'c' || dash == std::string::npos) {
      unexpected.push_back(describe(f));
      continue;
    }
    received[std::stoi(t->data.substr(1, dash - 1))].push_back(std::stoi(t->data.substr(dash + 1)));
  }
  while (finished < senders) co_await asio::post(ex, asio::use_awaitable);

  CHECK(total == senders * per_sender);
  CHECK(crashed == 0);
  CHECK(unexpected.empty());
  for (int i = 0; i < senders; ++i) {
    CAPTURE(i);
    CHECK(failures[i] == std::error_code());
    CHECK(order_problem(received[i], per_sender) == "");
  }
  CHECK(received.size() == static_cast<std::size_t>(senders));
}

}  // namespace

// 8.
TEST_CASE("interop: concurrent senders on one websocket") {
  for (const auto& kind : peer_kinds) {
    INFO("peer: " << kind.name);
    auto peer = kind.start({});
    std::string step;
    INFO("step: " << step);
    run_async(
        [&](asio::any_io_executor ex) -> asio::awaitable<void> {
          step = "default send queue";
          auto ws = co_await open_ws(ex, peer->port, "/echo");
          co_await concurrent_senders(ex, ws);
          co_await close_cleanly(ws);

          // A tiny send queue makes the senders wait for the socket in turn.
          step = "send_queue_bytes = 16";
          wscoro::fields none;
          wscoro::websocket_options options;
          options.send_queue_bytes = 16;
          auto up = co_await upgrade(ex, peer->port, "/echo", std::move(none), std::move(options));
          co_await concurrent_senders(ex, up.socket);
          co_await close_cleanly(up.socket);
        },
        15s);
  }
}

// 9.
TEST_CASE("interop: plain HTTP request before the upgrade, on the same connection") {
  for (const auto& kind : peer_kinds) {
    INFO("peer: " << kind.name);
    auto peer = kind.start({});
    run_async(
        [&](asio::any_io_executor ex) -> asio::awaitable<void> {
          auto conn = co_await wscoro::connection::open(ex, ws_url(peer->port));
          auto r = co_await conn.request(wscoro::request("GET", "/echo"));
          // Neither server serves plain HTTP: both answer 426.
          CHECK(r.status == 426);
          CHECK(r.headers.find("content-type") == std::optional<std::string_view>("text/plain"));
          if (kind.python) {
            // websockets 10 answers and closes the connection: nothing more can go on it.
            CHECK(r.body.rfind("Failed to open a WebSocket connection", 0) == 0);
            const auto connection = r.headers.find("connection");
            REQUIRE(connection.has_value());
            CHECK(wscoro::iequals(*connection, "close"));
            CHECK_FALSE(conn.is_open());
            auto result = co_await conn.ws_upgrade("/echo");
            INFO(describe(result));
            REQUIRE(std::holds_alternative<wscoro::failed>(result));
            CHECK(std::get<wscoro::failed>(result).error == code(wscoro::error::connection_not_open));
          } else {
            // Node keeps the connection alive (chunked body): two requests, then the upgrade.
            CHECK(r.headers.find("transfer-encoding") == std::optional<std::string_view>("chunked"));
            CHECK(r.body == "websocket only\n");
            CHECK(conn.is_open());
            auto again = co_await conn.request(wscoro::request("GET", "/anything"));
            CHECK(again.status == 426);
            CHECK(again.body == "websocket only\n");
            REQUIRE(conn.is_open());
            auto result = co_await conn.ws_upgrade("/echo");
            INFO(describe(result));
            REQUIRE(std::holds_alternative<wscoro::upgraded>(result));
            auto& ws = std::get<wscoro::upgraded>(result).socket;
            CHECK_FALSE(conn.is_open());
            std::error_code ec;
            co_await conn.request(wscoro::request("GET", "/"), ec);
            CHECK(ec == code(wscoro::error::connection_upgraded));
            co_await check_echo(ws, "after two HTTP requests");
            co_await close_cleanly(ws);
          }
        },
        10s);
  }
}

// 10.
TEST_CASE("interop: the server drops the connection in the middle of a frame") {
  for (const auto& kind : peer_kinds) {
    INFO("peer: " << kind.name);
    auto peer = kind.start({});
    run_async(
        [&](asio::any_io_executor ex) -> asio::awaitable<void> {
          auto ws = co_await open_ws(ex, peer->port, "/drop-mid-frame");
          auto f = co_await ws.receive();
          CHECK(describe(f) == "nullopt");
          CHECK_FALSE(ws.is_open());
          const std::error_code e = ws.error();
          CAPTURE(e);
          CHECK((e == code(wscoro::error::closed_without_handshake) ||
                 e == std::error_code(asio::error::connection_reset)));
          std::error_code ec;
          co_await ws.send(wscoro::text("anyone?"), ec);
          CHECK(ec == code(wscoro::error::session_ended));
        },
        10s);
  }
}

namespace {

// Parses a flat JSON object of string values (what both peers' /headers send).
// Returns false if the text is not such an object.
bool parse_flat_json(const std::string& s, std::map<std::string, std::string>& out) {
  std::size_t i = 0;
  const auto skip_ws = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')) ++i;
  };
  const auto read_string = [&](std::string& v) {
    if (i >= s.size() || s[i] != '"') return false;
    ++i;
    while (i < s.size() && s[i] != '"') {
      if (s[i] == '\\') {
        if (++i >= s.size()) return false;
        switch (s[i]) {
          case 'n': v += '\n'; break;
          case 't': v += '\t'; break;
          case 'u': return false;  // not needed for these headers
          default: v += s[i];
        }
      } else {
        v += s[i];
      }
      ++i;
    }
    if (i >= s.size()) return false;
    ++i;
    return true;
  };
  skip_ws();
  if (i >= s.size() || s[i++] != '{') return false;
  for (;;) {
    skip_ws();
    std::string name, value;
    if (!read_string(name)) return false;
    skip_ws();
    if (i >= s.size() || s[i++] != ':') return false;
    skip_ws();
    if (!read_string(value)) return false;
    out[name] = value;
    skip_ws();
    if (i < s.size() && s[i] == ',') {
      ++i;
      continue;
    }
    if (i < s.size() && s[i] == '}') return ++i, skip_ws(), i == s.size();
    return false;
  }
}

}  // namespace

// 11.
TEST_CASE("interop: extra upgrade headers reach the server") {
  for (const auto& kind : peer_kinds) {
    INFO("peer: " << kind.name);
    auto peer = kind.start({});
    run_async(
        [&](asio::any_io_executor ex) -> asio::awaitable<void> {
          wscoro::fields headers{{"x-wscoro-test", "42"}, {"X-Other", "a b c"}};
          wscoro::websocket_options options;
          auto up = co_await upgrade(ex, peer->port, "/headers", std::move(headers), std::move(options));
          auto f = co_await up.socket.receive();
          const auto* t = f ? std::get_if<wscoro::text>(&*f) : nullptr;
          INFO("received: " << describe(f));
          REQUIRE(t != nullptr);
          std::map<std::string, std::string> seen;
          REQUIRE(parse_flat_json(t->data, seen));
          CHECK(seen["x-wscoro-test"] == "42");
          CHECK(seen["x-other"] == "a b c");
          CHECK(seen["upgrade"] == "websocket");
          CHECK(wscoro::iequals(seen["connection"], "upgrade"));
          CHECK(seen["sec-websocket-version"] == "13");
          CHECK(seen["sec-websocket-key"].size() == 24);  // base64 of 16 bytes
          CHECK(seen["host"] == "127.0.0.1:" + std::to_string(peer->port));
          CHECK(seen.count("sec-websocket-protocol") == 0);
          CHECK(seen.count("sec-websocket-extensions") == 0);
          co_await check_echo(up.socket, "after headers");
          co_await close_cleanly(up.socket);

          // Headers the upgrade sets itself cannot be overridden; nothing is sent.
          auto conn = co_await wscoro::connection::open(ex, ws_url(peer->port));
          wscoro::fields reserved{{"Sec-WebSocket-Version", "8"}};
          auto result = co_await conn.ws_upgrade("/headers", std::move(reserved));
          INFO(describe(result));
          REQUIRE(std::holds_alternative<wscoro::failed>(result));
          CHECK(std::get<wscoro::failed>(result).error == code(wscoro::error::reserved_upgrade_header));
          CHECK(conn.is_open());
          auto after = co_await conn.ws_upgrade("/echo");
          INFO(describe(after));
          REQUIRE(std::holds_alternative<wscoro::upgraded>(after));
          co_await check_echo(std::get<wscoro::upgraded>(after).socket, "second try");
          co_await close_cleanly(std::get<wscoro::upgraded>(after).socket);
        },
        10s);
  }
}
