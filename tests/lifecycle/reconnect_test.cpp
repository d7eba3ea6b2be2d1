// Reconnect after an unexpected loss, and never after a deliberate close.
#include <doctest/doctest.h>

#include <asio/experimental/awaitable_operators.hpp>
#include <csignal>
#include <filesystem>

#include "async.hpp"
#include "child_process.hpp"
#include "lifecycle_util.hpp"
#include "scripted_peer.hpp"
#include "wscoro/wscoro.hpp"

using namespace wscoro;
using namespace wscoro::test;
using namespace asio::experimental::awaitable_operators;
using asio::awaitable;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

websocket_options retrying(unsigned attempts = 5) {
  websocket_options options;
  options.retry.attempts = attempts;
  options.retry.initial_delay = 50ms;
  options.retry.backoff = 2.0;
  options.retry.max_delay = 200ms;
  options.retry.jitter = 0.1;
  return options;
}

awaitable<std::vector<event>> events_until_end(websocket& ws) {
  std::vector<event> out;
  while (auto e = co_await ws.receive_event()) out.push_back(std::move(*e));
  co_return out;
}

// Whether the server sees another connection within `window`.
awaitable<bool> reconnected_within(scripted_server& server, std::chrono::milliseconds window) {
  auto r = co_await (server.accept() || sleep_for(window));
  co_return r.index() == 0;
}

}  // namespace

TEST_CASE("reconnect: a dropped connection comes back with the same target and headers; down and up are reported in order") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    std::vector<std::string> heads;
    auto script = [&]() -> awaitable<void> {
      auto first = co_await server.accept();
      heads.push_back(co_await read_request_head(first));
      co_await write_all(first, switching_protocols(heads.back()) + server_frame(text("before")));
      client_frames from_first;
      CHECK(co_await from_first.next(first) == frame(text("ack")));
      first.close();  // dropped without a close handshake

      auto second = co_await server.accept();
      heads.push_back(co_await read_request_head(second));
      co_await write_all(second, switching_protocols(heads.back(), "Sec-WebSocket-Protocol: chat\r\n") +
                                     server_frame(text("after")));
      auto rest = co_await frames_until_close(second);
      CHECK(rest == std::vector<frame>{text("resent"), close_frame(1000)});
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, server.url());
    const fields headers{{"X-Session", "42"}, {"Sec-WebSocket-Protocol", "chat"}};
    auto r = co_await conn.ws_upgrade("/live?room=7", headers, retrying());
    auto& ws = std::get<upgraded>(r).socket;
    CHECK(co_await ws.receive_event() == event(text("before")));
    co_await ws.send(text("ack"));
    auto gone = co_await ws.receive_event();
    REQUIRE(gone);
    REQUIRE(std::holds_alternative<down>(*gone));
    CHECK(std::get<down>(*gone).reason == error::closed_without_handshake);
    CHECK(ws.is_open());
    auto back = co_await ws.receive_event();
    REQUIRE(back);
    REQUIRE(std::holds_alternative<up>(*back));
    CHECK(std::get<up>(*back).protocol == "chat");
    CHECK(ws.protocol() == "chat");
    CHECK(co_await ws.receive_event() == event(text("after")));
    co_await ws.send(text("resent"));
    co_await ws.close();
    CHECK_FALSE(ws.error());
    co_await join(peer);
    REQUIRE(heads.size() == 2);
    for (const auto& head : heads) {
      CHECK(head.rfind("GET /live?room=7 HTTP/1.1\r\n", 0) == 0);
      CHECK(header_value(head, "x-session") == "42");
      CHECK(header_value(head, "sec-websocket-protocol") == "chat");
    }
    CHECK(header_value(heads[0], "sec-websocket-key") != header_value(heads[1], "sec-websocket-key"));
  });
}

TEST_CASE("reconnect: receive() skips down and up; frames from both connections arrive in order") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto first = co_await accept_upgrade(server);
      co_await write_all(first, server_frame(text("one")) + server_frame(text("two")));
      first.close();
      auto second = co_await accept_upgrade(server);
      co_await write_all(second, server_frame(text("three")) + server_frame(close_frame(1000)));
      auto rest = co_await frames_until_close(second);
      CHECK(rest == std::vector<frame>{close_frame(1000)});
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, server.url());
    auto r = co_await conn.ws_upgrade("/", {}, retrying());
    auto& ws = std::get<upgraded>(r).socket;
    std::vector<frame> got;
    while (auto f = co_await ws.receive()) got.push_back(*f);
    CHECK(got == std::vector<frame>{text("one"), text("two"), text("three"), close_frame(1000)});
    CHECK_FALSE(ws.error());
    co_await join(peer);
  });
}

TEST_CASE("reconnect: sends while down fail with connection_down, or wait for up when asked to") {
  for (bool wait : {false, true}) {
    CAPTURE(wait);
    run_async([&](asio::any_io_executor ex) -> awaitable<void> {
      scripted_server server(ex);
      std::vector<frame> second_saw;
      bool may_accept = false;
      auto script = [&]() -> awaitable<void> {
        auto first = co_await accept_upgrade(server);
        first.close();
        while (!may_accept) co_await sleep_for(5ms);
        auto second = co_await accept_upgrade(server);
        second_saw = co_await frames_until_close(second);
      };
      auto peer = spawn(ex, script());
      auto conn = co_await connection::open(ex, server.url());
      auto options = retrying();
      options.send_waits_while_down = wait;
      auto r = co_await conn.ws_upgrade("/", {}, options);
      auto& ws = std::get<upgraded>(r).socket;
      auto gone = co_await ws.receive_event();
      REQUIRE(std::holds_alternative<down>(*gone));
      std::error_code ec;
      if (!wait) {
        co_await ws.send(text("while down"), ec);
        CHECK(ec == error::connection_down);
        may_accept = true;
        CHECK(std::holds_alternative<up>(*co_await ws.receive_event()));
      } else {
        may_accept = true;
        co_await ws.send(text("while down"), ec);  // waits for the new connection
        CHECK_FALSE(ec);
        CHECK(std::holds_alternative<up>(*co_await ws.receive_event()));
      }
      co_await ws.close();
      co_await join(peer);
      if (wait) {
        CHECK(second_saw == std::vector<frame>{text("while down"), close_frame(1000)});
      } else {
        CHECK(second_saw == std::vector<frame>{close_frame(1000)});
      }
    });
  }
}

TEST_CASE("reconnect: when every attempt fails the session ends with the last error") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    auto server = std::make_unique<scripted_server>(ex);
    const std::string url = server->url();
    auto script = [&]() -> awaitable<void> {
      auto s = co_await accept_upgrade(*server);
      server.reset();  // nobody listens any more: reconnects are refused
      s.close();
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, url);
    const auto start = std::chrono::steady_clock::now();
    auto r = co_await conn.ws_upgrade("/", {}, retrying(3));
    auto& ws = std::get<upgraded>(r).socket;
    auto events = co_await events_until_end(ws);
    REQUIRE(events.size() == 1);
    CHECK(std::holds_alternative<down>(events[0]));
    CHECK(ws.error() == asio::error::connection_refused);
    CHECK_FALSE(ws.is_open());
    // Three waits of about 50, 100 and 200 ms, give or take 10%.
    CHECK(since(start) >= 300ms);
    CHECK(since(start) < 3s);
    co_await join(peer);
  });
}

TEST_CASE("reconnect: a refusal on reconnecting counts as a failed attempt") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    int refusals = 0;
    auto script = [&]() -> awaitable<void> {
      auto first = co_await accept_upgrade(server);
      first.close();
      for (int i = 0; i < 2; ++i) {
        auto s = co_await server.accept();
        co_await read_request_head(s);
        co_await write_all(s, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        ++refusals;
      }
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, server.url());
    auto r = co_await conn.ws_upgrade("/", {}, retrying(2));
    auto& ws = std::get<upgraded>(r).socket;
    auto events = co_await events_until_end(ws);
    CHECK(events.size() == 1);
    CHECK(ws.error() == error::reconnect_refused);
    co_await join(peer);
    CHECK(refusals == 2);
  });
}

TEST_CASE("reconnect never follows a deliberate close, a close frame sent by the user, a server close or a protocol error") {
  enum class ending { user_close, user_close_frame, server_close, protocol_error, peer_drops_after_close };
  for (ending how : {ending::user_close, ending::user_close_frame, ending::server_close, ending::protocol_error,
                     ending::peer_drops_after_close}) {
    CAPTURE(static_cast<int>(how));
    run_async([&](asio::any_io_executor ex) -> awaitable<void> {
      scripted_server server(ex);
      bool came_back = true;
      auto script = [&]() -> awaitable<void> {
        auto s = co_await accept_upgrade(server);
        if (how == ending::server_close) {
          co_await write_all(s, server_frame(close_frame(4000, "bye")));
          co_await frames_until_close(s, close_frame(4000));
        } else if (how == ending::protocol_error) {
          co_await write_all(s, std::string("\x83\x00", 2));
          co_await frames_until_close(s);
        } else if (how == ending::peer_drops_after_close) {
          client_frames from_client;
          co_await from_client.next(s);  // the client's close frame
          s.close();                     // dropped instead of answered
        } else {
          co_await frames_until_close(s);
        }
        came_back = co_await reconnected_within(server, 500ms);
      };
      auto peer = spawn(ex, script());
      auto conn = co_await connection::open(ex, server.url());
      auto r = co_await conn.ws_upgrade("/", {}, retrying());
      auto& ws = std::get<upgraded>(r).socket;
      std::error_code ec;
      if (how == ending::user_close || how == ending::peer_drops_after_close) co_await ws.close(1000, "done", ec);
      if (how == ending::user_close_frame) co_await ws.send(close_frame(1001), ec);
      auto events = co_await events_until_end(ws);
      for (const auto& e : events) {
        CHECK_FALSE(std::holds_alternative<down>(e));
        CHECK_FALSE(std::holds_alternative<up>(e));
      }
      CHECK_FALSE(ws.is_open());
      co_await join(peer);
      CHECK_FALSE(came_back);
    });
  }
}

TEST_CASE("reconnect and Unix sockets against a real server: Python websockets restarted on the same socket path") {
  const auto dir = std::filesystem::temp_directory_path() / ("wscoro-unix-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "ws.sock").string();
  auto server = start_python_peer({"--unix", path, "--no-compression"});
  run_async(
      [&](asio::any_io_executor ex) -> awaitable<void> {
        connection_options via_unix;
        via_unix.unix_socket_path = path;
        auto conn = co_await connection::open(ex, "ws://localhost/", via_unix);
        auto options = retrying(20);
        auto r = co_await conn.ws_upgrade("/echo", {}, options);
        auto& ws = std::get<upgraded>(r).socket;
        co_await ws.send(text("first life"));
        CHECK(co_await ws.receive_event() == event(text("first life")));

        // The server dies (a graceful stop would send close 1001, a server
        // close that ends the session for good)...
        ::kill(server->process.pid(), SIGKILL);
        server.reset();
        auto gone = co_await ws.receive_event();
        REQUIRE(gone);
        CHECK(std::holds_alternative<down>(*gone));
        server = start_python_peer({"--unix", path, "--no-compression"});  // ...and comes back
        auto back = co_await ws.receive_event();
        REQUIRE(back);
        CHECK(std::holds_alternative<up>(*back));
        co_await ws.send(text("second life"));
        CHECK(co_await ws.receive_event() == event(text("second life")));

        co_await ws.close();  // deliberate: the session ends for good
        CHECK_FALSE(ws.error());
        CHECK(co_await ws.receive_event() == event(close_frame(1000)));
        CHECK(co_await ws.receive_event() == std::nullopt);
      },
      30s);
  server.reset();
  std::filesystem::remove_all(dir);
}

TEST_CASE("unix sockets: the Node ws server too, and TLS over a Unix socket is refused by name") {
  const auto dir = std::filesystem::temp_directory_path() / ("wscoro-unix-node-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "ws.sock").string();
  auto server = start_node_peer({"--unix", path});
  run_async([&](asio::any_io_executor ex) -> awaitable<void> {
    connection_options via_unix;
    via_unix.unix_socket_path = path;
    auto conn = co_await connection::open(ex, "ws://localhost/", via_unix);
    auto r = co_await conn.ws_upgrade("/echo");
    auto& ws = std::get<upgraded>(r).socket;
    co_await ws.send(binary(std::string(70000, 'u')));
    CHECK(co_await ws.receive() == frame(binary(std::string(70000, 'u'))));
    co_await ws.close();
    CHECK_FALSE(ws.error());

    std::error_code ec;
    co_await connection::open(ex, "wss://localhost/", via_unix, ec);
    CHECK(ec == error::tls_over_unix_socket);
  });
  server.reset();
  std::filesystem::remove_all(dir);
}

TEST_CASE("reconnect: a close started by a real server (Python and Node) ends the session for good, retry policy on") {
  for (bool node : {false, true}) {
    CAPTURE(node);
    auto server = node ? start_node_peer() : start_python_peer({"--no-compression"});
    run_async([&](asio::any_io_executor ex) -> awaitable<void> {
      auto conn = co_await connection::open(ex, "ws://127.0.0.1:" + std::to_string(server->port));
      auto r = co_await conn.ws_upgrade("/close?code=4001&reason=bye", {}, retrying());
      auto& ws = std::get<upgraded>(r).socket;
      auto events = co_await events_until_end(ws);
      CHECK(events == std::vector<event>{close_frame(4001, "bye")});
      co_await sleep_for(300ms);  // time enough for a (wrong) reconnect attempt
      CHECK_FALSE(ws.is_open());
      CHECK(co_await ws.receive_event() == std::nullopt);
      CHECK_FALSE(ws.error());
    });
  }
}
