// Every way a Websocket upgrade can fail, each played by a scripted peer,
// and each ending in its own named error.
#include <doctest/doctest.h>

#include <asio/read.hpp>
#include <asio/write.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include "async.hpp"
#include "scripted_peer.hpp"
#include "wscoro/wscoro.hpp"

using namespace wscoro;
using namespace wscoro::test;
using asio::awaitable;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

// Answers the upgrade request with `answer(request_head)` and keeps the
// connection open until the client closes it.
template <class Answer>
awaitable<void> answer_upgrade(scripted_server& server, Answer answer) {
  auto s = co_await server.accept();
  const std::string head = co_await read_request_head(s);
  co_await write_all(s, answer(head));
  char c;
  std::error_code ec;
  co_await s.async_read_some(asio::buffer(&c, 1), asio::redirect_error(asio::use_awaitable, ec));
}

// What an upgrade gave, kept as plain values: a websocket must not outlive
// the io_context it runs on.
struct upgrade_summary {
  bool upgraded = false;
  std::error_code error;
  std::string protocol;
  std::string socket_protocol;
  fields headers;
};

// The outcome of an upgrade against a peer that answers with `answer`.
template <class Answer>
upgrade_summary upgrade_against(Answer answer, fields extra = {}, websocket_options options = websocket_options()) {
  upgrade_summary out;
  run_async([&](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto peer = spawn(ex, answer_upgrade(server, answer));
    {
      auto conn = co_await connection::open(ex, server.url());
      auto r = co_await conn.ws_upgrade("/chat", extra, options);
      if (auto* up = std::get_if<upgraded>(&r)) {
        out.upgraded = true;
        out.protocol = up->protocol;
        out.socket_protocol = up->socket.protocol();
        out.headers = up->headers;
        std::error_code ignored;
        co_await up->socket.close(close_code::normal, {}, ignored);
      } else if (auto* f = std::get_if<failed>(&r)) {
        out.error = f->error;
      }
    }
    co_await join(peer);
  });
  return out;
}

std::error_code failure_of(const upgrade_summary& r) {
  CHECK_FALSE(r.upgraded);
  return r.error;
}

std::error_code failure_of(const upgrade_result& r) {
  REQUIRE(std::holds_alternative<failed>(r));
  return std::get<failed>(r).error;
}

std::string replace(std::string s, std::string_view from, std::string_view to) {
  const auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("upgrade fails: wrong Sec-WebSocket-Accept") {
  auto r = upgrade_against([](const std::string& head) {
    const std::string good = switching_protocols(head);
    const std::string key = header_value(good, "sec-websocket-accept");
    return replace(good, key, "dGhpcyBpcyBub3QgdGhlIGtleQ==");
  });
  CHECK(failure_of(r) == error::accept_key_mismatch);
}

TEST_CASE("upgrade fails: missing Sec-WebSocket-Accept") {
  auto r = upgrade_against([](const std::string&) {
    return std::string("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
  });
  CHECK(failure_of(r) == error::accept_key_missing);
}

TEST_CASE("upgrade fails: a 101 without Upgrade: websocket") {
  auto r = upgrade_against(
      [](const std::string& head) { return replace(switching_protocols(head), "Upgrade: websocket\r\n", ""); });
  CHECK(failure_of(r) == error::upgrade_header_missing);
  auto other = upgrade_against(
      [](const std::string& head) { return replace(switching_protocols(head), "Upgrade: websocket", "Upgrade: h2c"); });
  CHECK(failure_of(other) == error::upgrade_header_missing);
}

TEST_CASE("upgrade fails: a 101 without Connection: Upgrade") {
  auto r = upgrade_against(
      [](const std::string& head) { return replace(switching_protocols(head), "Connection: Upgrade\r\n", ""); });
  CHECK(failure_of(r) == error::connection_header_missing);
}

TEST_CASE("upgrade fails: a subprotocol the client did not offer") {
  fields offer{{"sec-websocket-protocol", "chat"}};
  auto r = upgrade_against(
      [](const std::string& head) { return switching_protocols(head, "Sec-WebSocket-Protocol: superchat\r\n"); }, offer);
  CHECK(failure_of(r) == error::unoffered_subprotocol);
  auto none_offered = upgrade_against(
      [](const std::string& head) { return switching_protocols(head, "Sec-WebSocket-Protocol: chat\r\n"); });
  CHECK(failure_of(none_offered) == error::unoffered_subprotocol);
}

TEST_CASE("upgrade succeeds: the offered subprotocol the server selected is reported") {
  websocket_options options;
  options.protocols = {"v2.chat", "v1.chat"};
  std::string offered;
  auto r = upgrade_against(
      [&](const std::string& head) {
        offered = header_value(head, "sec-websocket-protocol");
        return switching_protocols(head, "Sec-WebSocket-Protocol: v1.chat\r\n");
      },
      {}, options);
  REQUIRE(r.upgraded);
  CHECK(offered == "v2.chat, v1.chat");
  CHECK(r.protocol == "v1.chat");
  CHECK(r.socket_protocol == "v1.chat");
  CHECK(r.headers.find("sec-websocket-protocol") == "v1.chat");
}

TEST_CASE("upgrade fails: an extension the client did not offer") {
  auto r = upgrade_against([](const std::string& head) {
    return switching_protocols(head, "Sec-WebSocket-Extensions: permessage-deflate\r\n");
  });
  CHECK(failure_of(r) == error::unoffered_extension);
}

TEST_CASE("upgrade fails: the peer closes mid-handshake") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await server.accept();
      const std::string head = co_await read_request_head(s);
      co_await write_all(s, switching_protocols(head).substr(0, 40));
      s.close();
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, server.url());
    auto r = co_await conn.ws_upgrade("/");
    CHECK(failure_of(r) == error::closed_during_handshake);
    co_await join(peer);
  });
}

TEST_CASE("upgrade fails: the peer closes before answering at all") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await server.accept();
      co_await read_request_head(s);
      s.close();
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, server.url());
    auto r = co_await conn.ws_upgrade("/");
    CHECK(failure_of(r) == error::closed_during_handshake);
    co_await join(peer);
  });
}

TEST_CASE("upgrade fails: handshake timeout when the peer never answers") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await server.accept();
      co_await read_request_head(s);
      char c;
      std::error_code ec;  // wait for the client to give up
      co_await s.async_read_some(asio::buffer(&c, 1), asio::redirect_error(asio::use_awaitable, ec));
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, server.url());
    websocket_options options;
    options.handshake_timeout = 200ms;
    const auto start = std::chrono::steady_clock::now();
    auto r = co_await conn.ws_upgrade("/", {}, options);
    CHECK(failure_of(r) == error::handshake_timeout);
    CHECK(since(start) >= 190ms);
    CHECK(since(start) < 2000ms);
    CHECK_FALSE(conn.is_open());
    co_await join(peer);
  });
}

TEST_CASE("upgrade fails: a response head larger than max_header_size") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await server.accept();
      const std::string head = co_await read_request_head(s);
      std::error_code ec;
      // An endless header: the client must stop reading at its limit.
      co_await asio::async_write(s, asio::buffer(std::string("HTTP/1.1 101 Switching Protocols\r\nX-Endless: ")),
                                 asio::redirect_error(asio::use_awaitable, ec));
      const std::string filler(4096, 'a');
      for (int i = 0; i < 1000 && !ec; ++i)
        co_await asio::async_write(s, asio::buffer(filler), asio::redirect_error(asio::use_awaitable, ec));
    };
    auto peer = spawn(ex, script());
    connection_options options;
    options.max_header_size = 8 * 1024;
    auto conn = co_await connection::open(ex, server.url(), options);
    auto r = co_await conn.ws_upgrade("/");
    CHECK(failure_of(r) == error::header_too_large);
    co_await join(peer);
  });
}

TEST_CASE("upgrade fails: garbage instead of HTTP") {
  auto r = upgrade_against([](const std::string&) { return std::string("SSH-2.0-OpenSSH_9.2p1\r\n\r\n"); });
  CHECK(failure_of(r) == error::bad_response);
}

TEST_CASE("upgrade fails on an HTTP/1.0 connection, and sends nothing") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    std::size_t received = 99;
    auto script = [&]() -> awaitable<void> {
      auto s = co_await server.accept();
      std::string all;
      char chunk[256];
      std::error_code ec;
      while (!ec) {
        const std::size_t n =
            co_await s.async_read_some(asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
        all.append(chunk, n);
      }
      received = all.size();
    };
    auto peer = spawn(ex, script());
    {
      connection_options options;
      options.version = http_version::http_1_0;
      auto conn = co_await connection::open(ex, server.url(), options);
      auto r = co_await conn.ws_upgrade("/");
      CHECK(failure_of(r) == error::upgrade_needs_http_1_1);
    }  // the connection closes here
    co_await join(peer);
    CHECK(received == 0);
  });
}

TEST_CASE("upgrade fails: extra headers may not replace the handshake's own") {
  for (const char* name : {"Upgrade", "connection", "Sec-WebSocket-Key", "sec-websocket-version"}) {
    fields extra{{name, "x"}};
    run_async([&](asio::any_io_executor ex) -> awaitable<void> {
      scripted_server server(ex);
      auto conn = co_await connection::open(ex, server.url());
      auto r = co_await conn.ws_upgrade("/", extra);
      CHECK(failure_of(r) == error::reserved_upgrade_header);
      CHECK(conn.is_open());
    });
  }
}

TEST_CASE("upgrade: extra headers go out as given, with the handshake's own headers") {
  std::string request;
  fields extra{{"Origin", "https://example.org"}, {"X-Trace", "abc"}, {"Sec-WebSocket-Protocol", "chat"}};
  auto r = upgrade_against(
      [&](const std::string& head) {
        request = head;
        return switching_protocols(head);
      },
      extra);
  REQUIRE(r.upgraded);
  CHECK(request.rfind("GET /chat HTTP/1.1\r\n", 0) == 0);
  CHECK(header_value(request, "origin") == "https://example.org");
  CHECK(header_value(request, "x-trace") == "abc");
  CHECK(header_value(request, "sec-websocket-protocol") == "chat");
  CHECK(header_value(request, "upgrade") == "websocket");
  CHECK(header_value(request, "connection") == "Upgrade");
  CHECK(header_value(request, "sec-websocket-version") == "13");
  CHECK(header_value(request, "sec-websocket-key").size() == 24);
  CHECK(header_value(request, "host").rfind("127.0.0.1:", 0) == 0);
  CHECK(r.protocol.empty());  // offered, but the server chose none
}

TEST_CASE("upgrade refused: the whole response is kept, and the connection stays usable") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await server.accept();
      co_await read_request_head(s);
      co_await write_all(s,
                         "HTTP/1.1 426 Upgrade Required\r\nX-Why: version\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "5\r\nolder\r\n9\r\n protocol\r\n0\r\n\r\n");
      const std::string second = co_await read_request_head(s);
      co_await write_all(s, switching_protocols(second));
      char c;
      std::error_code ec;
      co_await s.async_read_some(asio::buffer(&c, 1), asio::redirect_error(asio::use_awaitable, ec));
    };
    auto peer = spawn(ex, script());
    {
      auto conn = co_await connection::open(ex, server.url());
      auto r = co_await conn.ws_upgrade("/");
      REQUIRE(std::holds_alternative<refused>(r));
      const response& resp = std::get<refused>(r).response;
      CHECK(resp.status == 426);
      CHECK(resp.reason == "Upgrade Required");
      CHECK(resp.headers.find("x-why") == "version");
      CHECK(resp.body == "older protocol");
      CHECK(conn.is_open());
      auto again = co_await conn.ws_upgrade("/");
      CHECK(std::holds_alternative<upgraded>(again));
    }
    co_await join(peer);
  });
}

TEST_CASE("upgrade: frames sent right behind the 101, in the same write, are not lost") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await server.accept();
      const std::string head = co_await read_request_head(s);
      co_await write_all(s, switching_protocols(head) + server_frame(text("first")) + server_frame(ping("p")));
      client_frames from_client;
      auto pong_back = co_await from_client.next(s);
      CHECK(pong_back == frame(pong("p")));
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, server.url());
    auto r = co_await conn.ws_upgrade("/");
    REQUIRE(std::holds_alternative<upgraded>(r));
    auto& ws = std::get<upgraded>(r).socket;
    CHECK(co_await ws.receive() == frame(text("first")));
    CHECK(co_await ws.receive() == frame(ping("p")));
    co_await join(peer);
  });
}
