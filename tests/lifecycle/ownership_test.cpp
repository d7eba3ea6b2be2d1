// Every operation keeps its own copies of its arguments: an Asio coroutine
// starts only when awaited, so an awaitable made from temporaries must not
// refer back to them. Each test makes the awaitable in a scope whose
// strings, fields, options and frames are overwritten and destroyed before
// the co_await. Run under ASan (a -Db_sanitize=address,undefined build) a
// kept reference is a heap-use-after-free; without it, a wrong target,
// header or payload.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "async.hpp"
#include "scripted_peer.hpp"
#include "wscoro/wscoro.hpp"

using namespace wscoro;
using namespace wscoro::test;
using asio::awaitable;

namespace {

// Long enough not to fit a short-string buffer: the bytes live on the heap.
std::string long_text(char c) { return std::string(64, c); }

// Destroys a string's contents the way a reused buffer would.
void scribble(std::string& s) {
  s.assign(s.size(), '#');
  s.clear();
  s.shrink_to_fit();
}

// One connection: an HTTP request, then an upgrade; answers every frame
// the client sends until its close.
awaitable<void> http_then_websocket(scripted_server& server, std::string& request_head, std::string& upgrade_head,
                                    std::vector<frame>& frames) {
  auto s = co_await server.accept();
  request_head = co_await read_request_head(s);
  co_await write_all(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  upgrade_head = co_await read_request_head(s);
  co_await write_all(s, switching_protocols(upgrade_head, "Sec-WebSocket-Protocol: owned.v1\r\n"));
  frames = co_await frames_until_close(s);
}

}  // namespace

TEST_CASE("ownership: connection::open keeps its URL and options (all three overloads)") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      for (int i = 0; i < 3; ++i) {
        auto s = co_await server.accept();
        co_await wait_for_eof(s);
      }
    };
    auto peer = spawn(ex, script());
    const std::string path = "/" + long_text('p');
    std::optional<awaitable<connection>> plain, with_options, with_error_code;
    std::error_code ec;
    {
      std::string base = server.url("");
      plain.emplace(connection::open(ex, base + path));
      connection_options options;
      options.connect_timeout = std::chrono::seconds(5);
      with_options.emplace(connection::open(ex, base + path, std::move(options)));
      with_error_code.emplace(connection::open(ex, base + path, connection_options(), ec));
      scribble(base);
    }
    std::string noise = long_text('n') + long_text('n');  // reuses the freed memory
    auto a = co_await std::move(*plain);
    CHECK(a.target() == path);
    CHECK(a.is_open());
    auto b = co_await std::move(*with_options);
    CHECK(b.target() == path);
    auto c = co_await std::move(*with_error_code);
    CHECK_FALSE(ec);
    CHECK(c.target() == path);
    a.close();
    b.close();
    c.close();
    co_await join(peer);
    CHECK(noise.size() == 128);
  });
}

TEST_CASE("ownership: request, ws_upgrade, send and close keep their arguments") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    std::string request_head, upgrade_head;
    std::vector<frame> frames;
    auto peer = spawn(ex, http_then_websocket(server, request_head, upgrade_head, frames));
    auto conn = co_await connection::open(ex, server.url());

    std::optional<awaitable<response>> request_op;
    {
      std::string target = "/" + long_text('t');
      fields headers;
      headers.add("x-" + long_text('h'), long_text('v'));
      request_op.emplace(conn.request(request("GET", target, std::move(headers))));
      scribble(target);
    }
    auto answer = co_await std::move(*request_op);
    CHECK(answer.body == "ok");
    CHECK(request_head.rfind("GET /" + long_text('t') + " HTTP/1.1\r\n", 0) == 0);
    CHECK(header_value(request_head, "x-" + long_text('h')) == long_text('v'));

    std::optional<awaitable<upgrade_result>> upgrade_op;
    {
      std::string target = "/" + long_text('u');
      fields extra;
      extra.add("x-extra", long_text('e'));
      websocket_options options;
      options.protocols.push_back("owned.v1");
      options.protocols.push_back(long_text('q'));
      upgrade_op.emplace(conn.ws_upgrade(target, extra, options));
      scribble(target);
      extra = fields();
      options.protocols.clear();
    }
    auto result = co_await std::move(*upgrade_op);
    REQUIRE(std::holds_alternative<upgraded>(result));
    auto& ws = std::get<upgraded>(result).socket;
    CHECK(upgrade_head.rfind("GET /" + long_text('u') + " HTTP/1.1\r\n", 0) == 0);
    CHECK(header_value(upgrade_head, "x-extra") == long_text('e'));
    CHECK(header_value(upgrade_head, "sec-websocket-protocol") == "owned.v1, " + long_text('q'));
    CHECK(ws.protocol() == "owned.v1");

    std::optional<awaitable<void>> send_one, send_batch, close_op;
    {
      std::string payload = long_text('1');
      send_one.emplace(ws.send(text(payload)));
      std::vector<frame> batch;
      batch.emplace_back(binary(long_text('2')));
      batch.emplace_back(text(long_text('3')));
      send_batch.emplace(ws.send(std::move(batch)));
      std::string reason = long_text('r');
      close_op.emplace(ws.close(close_code::going_away, reason));
      scribble(payload);
      scribble(reason);
    }
    co_await std::move(*send_one);
    co_await std::move(*send_batch);
    co_await std::move(*close_op);
    co_await join(peer);
    REQUIRE(frames.size() == 4);
    CHECK(frames[0] == frame(text(long_text('1'))));
    CHECK(frames[1] == frame(binary(long_text('2'))));
    CHECK(frames[2] == frame(text(long_text('3'))));
    CHECK(frames[3] == frame(close_frame(close_code::going_away, long_text('r'))));
  });
}
