// The session engine against a scripted server: what reaches the user, what
// goes back on the wire, and how each kind of ending is reported.
#include <doctest/doctest.h>

#include <asio/co_spawn.hpp>
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

awaitable<websocket> upgrade(asio::any_io_executor ex, scripted_server& server,
                             websocket_options options = websocket_options()) {
  auto conn = co_await connection::open(ex, server.url());
  auto r = co_await conn.ws_upgrade("/", {}, options);
  REQUIRE(std::holds_alternative<upgraded>(r));
  co_return std::move(std::get<upgraded>(r).socket);
}

awaitable<std::vector<frame>> receive_all(websocket& ws) {
  std::vector<frame> out;
  while (auto f = co_await ws.receive()) out.push_back(std::move(*f));
  co_return out;
}

// A server that sends `bytes` after the handshake, then reports the close
// frame the client answers with.
struct violation_outcome {
  std::optional<frame> client_close;
  std::vector<frame> received;
  std::error_code ended_with;
};

violation_outcome play(std::string bytes, websocket_options options = websocket_options()) {
  violation_outcome out;
  run_async([&](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await accept_upgrade(server);
      co_await write_all(s, bytes);
      client_frames from_client;
      out.client_close = co_await from_client.next(s);
      s.close();  // the server closes TCP first, as RFC 6455 7.1.1 asks
    };
    auto peer = spawn(ex, script());
    auto ws = co_await upgrade(ex, server, options);
    out.received = co_await receive_all(ws);
    out.ended_with = ws.error();
    co_await join(peer);
  });
  return out;
}

}  // namespace

TEST_CASE("protocol violations close with the RFC 6455 code and end with a named error") {
  struct violation {
    const char* name;
    std::string bytes;
    std::uint16_t code;
    error expected;
  };
  const violation cases[] = {
      {"reserved opcode", std::string("\x83\x00", 2), 1002, error::reserved_opcode},
      {"RSV1 without extension", std::string("\xc1\x01x", 3), 1002, error::reserved_bits_set},
      {"masked server frame", std::string("\x81\x81\x01\x02\x03\x04x", 7), 1002, error::masked_frame},
      {"fragmented ping", std::string("\x09\x00", 2), 1002, error::fragmented_control_frame},
      {"126-byte ping", std::string("\x89\x7e\x00\x7e", 4) + std::string(126, 'p'), 1002,
       error::control_frame_too_large},
      {"stray continuation", std::string("\x80\x01x", 3), 1002, error::unexpected_continuation},
      {"new message inside a fragmented one", std::string("\x01\x01x\x81\x01y", 6), 1002,
       error::expected_continuation},
      {"invalid UTF-8 text", std::string("\x81\x02\xc0\xaf", 4), 1007, error::invalid_utf8},
      {"1-byte close payload", std::string("\x88\x01\x03", 3), 1002, error::invalid_close_payload},
      {"close code 1005 on the wire", std::string("\x88\x02\x03\xed", 4), 1002, error::invalid_close_code},
      {"invalid UTF-8 close reason", std::string("\x88\x03\x03\xe8\xff", 5), 1007, error::invalid_utf8_close_reason},
      {"non-minimal length", std::string("\x82\x7e\x00\x05hello", 9), 1002, error::non_minimal_length},
  };
  for (const violation& v : cases) {
    CAPTURE(v.name);
    auto out = play(v.bytes);
    REQUIRE(out.client_close);
    CHECK(std::get<close_frame>(*out.client_close).code == v.code);
    CHECK(out.ended_with == v.expected);
    CHECK(out.received.empty());
  }
}

TEST_CASE("a message over max_message_size closes with 1009; messages before it are delivered") {
  websocket_options options;
  options.max_message_size = 1000;
  auto out = play(server_frame(binary(std::string(1000, 'a'))) + server_frame(binary(std::string(1001, 'b'))), options);
  REQUIRE(out.client_close);
  CHECK(std::get<close_frame>(*out.client_close).code == 1009);
  CHECK(out.ended_with == error::message_too_big);
  REQUIRE(out.received.size() == 1);
  CHECK(std::get<binary>(out.received[0]).data == std::string(1000, 'a'));
}

TEST_CASE("a server declaring a 2^63-1 byte frame is refused at its header") {
  auto out = play(std::string("\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff", 10));
  REQUIRE(out.client_close);
  CHECK(std::get<close_frame>(*out.client_close).code == 1009);
  CHECK(out.ended_with == error::message_too_big);
}

TEST_CASE("the server dropping TCP mid-frame: what arrived before is kept, the loss is named") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await accept_upgrade(server);
      co_await write_all(s, server_frame(text("kept")) + server_frame(binary(std::string(100, 'x'))).substr(0, 30));
      s.close();
    };
    auto peer = spawn(ex, script());
    auto ws = co_await upgrade(ex, server);
    auto frames = co_await receive_all(ws);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0] == frame(text("kept")));
    CHECK(ws.error() == error::closed_without_handshake);
    CHECK_FALSE(ws.is_open());
    std::error_code ec;
    co_await ws.send(text("late"), ec);
    CHECK(ec == error::session_ended);
    co_await join(peer);
  });
}

TEST_CASE("pings are answered with the same payload and delivered unless silenced") {
  for (bool silence : {false, true}) {
    CAPTURE(silence);
    run_async([&](asio::any_io_executor ex) -> awaitable<void> {
      scripted_server server(ex);
      auto script = [&]() -> awaitable<void> {
        auto s = co_await accept_upgrade(server);
        co_await write_all(s, server_frame(ping("are you there")) + server_frame(pong("unsolicited")) +
                                  server_frame(text("after")));
        client_frames from_client;
        CHECK(co_await from_client.next(s) == frame(pong("are you there")));
        co_await write_all(s, server_frame(close_frame(1000)));
        CHECK(co_await from_client.next(s) == frame(close_frame(1000)));
        s.close();
      };
      auto peer = spawn(ex, script());
      websocket_options options;
      options.silence_pings = silence;
      auto ws = co_await upgrade(ex, server, options);
      auto frames = co_await receive_all(ws);
      std::vector<frame> expected;
      if (!silence) expected = {ping("are you there"), pong("unsolicited")};
      expected.push_back(text("after"));
      expected.push_back(close_frame(1000));
      CHECK(frames == expected);
      CHECK_FALSE(ws.error());
      co_await join(peer);
    });
  }
}

TEST_CASE("close: everything sent before goes out first, then the close handshake ends the session") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    std::vector<frame> seen;
    auto script = [&]() -> awaitable<void> {
      auto s = co_await accept_upgrade(server);
      seen = co_await frames_until_close(s, close_frame(1000, "ok"));
    };
    auto peer = spawn(ex, script());
    auto ws = co_await upgrade(ex, server);
    for (int i = 0; i < 200; ++i) co_await ws.send(text("m" + std::to_string(i)));
    std::vector<frame> batch;
    batch.push_back(binary("batch-1"));
    batch.push_back(binary("batch-2"));
    co_await ws.send(std::move(batch));
    co_await ws.close(4000, "done here");
    CHECK_FALSE(ws.is_open());
    CHECK_FALSE(ws.error());
    CHECK(co_await ws.receive() == frame(close_frame(1000, "ok")));
    CHECK(co_await ws.receive() == std::nullopt);
    co_await join(peer);
    REQUIRE(seen.size() == 203);
    for (int i = 0; i < 200; ++i) CHECK(seen[static_cast<std::size_t>(i)] == frame(text("m" + std::to_string(i))));
    CHECK(seen[200] == frame(binary("batch-1")));
    CHECK(seen[201] == frame(binary("batch-2")));
    CHECK(seen[202] == frame(close_frame(4000, "done here")));
    std::error_code ec;
    co_await ws.send(text("after close"), ec);
    CHECK(ec == error::session_ended);
    co_await ws.close(1000, {}, ec);  // closing again does nothing
    CHECK_FALSE(ec);
  });
}

TEST_CASE("close: a peer that never answers is cut off after closing_timeout") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await accept_upgrade(server);
      co_await wait_for_eof(s);  // reads the close frame, never answers
    };
    auto peer = spawn(ex, script());
    websocket_options options;
    options.closing_timeout = 200ms;
    auto ws = co_await upgrade(ex, server, options);
    const auto start = std::chrono::steady_clock::now();
    std::error_code ec;
    co_await ws.close(1000, "bye", ec);
    CHECK(ec == error::closing_timeout);
    CHECK(ws.error() == error::closing_timeout);
    CHECK(since(start) >= 190ms);
    CHECK(since(start) < 2000ms);
    co_await join(peer);
  });
}

TEST_CASE("close: a close started by the server is echoed and reported as a close frame") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    std::optional<frame> echoed;
    auto script = [&]() -> awaitable<void> {
      auto s = co_await accept_upgrade(server);
      co_await write_all(s, server_frame(close_frame(4001, "bye now")));
      client_frames from_client;
      echoed = co_await from_client.next(s);
      s.close();
    };
    auto peer = spawn(ex, script());
    auto ws = co_await upgrade(ex, server);
    auto frames = co_await receive_all(ws);
    CHECK(frames == std::vector<frame>{close_frame(4001, "bye now")});
    CHECK_FALSE(ws.error());
    co_await join(peer);
    REQUIRE(echoed);
    CHECK(std::get<close_frame>(*echoed).code == 4001);
  });
}

TEST_CASE("send: frames RFC 6455 forbids are refused with a named error and nothing is sent") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    std::vector<frame> seen;
    auto script = [&]() -> awaitable<void> {
      auto s = co_await accept_upgrade(server);
      seen = co_await frames_until_close(s);
    };
    auto peer = spawn(ex, script());
    auto ws = co_await upgrade(ex, server);
    std::error_code ec;
    co_await ws.send(ping(std::string(126, 'x')), ec);
    CHECK(ec == error::invalid_frame_to_send);
    co_await ws.send(text("\xff\xfe"), ec);
    CHECK(ec == error::invalid_utf8_to_send);
    co_await ws.send(close_frame(1006), ec);
    CHECK(ec == error::invalid_frame_to_send);
    std::vector<frame> close_first;
    close_first.push_back(close_frame(1000));
    close_first.push_back(text("after the close"));
    co_await ws.send(std::move(close_first), ec);
    CHECK(ec == error::invalid_frame_to_send);
    std::vector<frame> half_bad;
    half_bad.push_back(text("fine"));
    half_bad.push_back(pong(std::string(200, 'x')));
    co_await ws.send(std::move(half_bad), ec);
    CHECK(ec == error::invalid_frame_to_send);
    bool threw = false;
    try {
      co_await ws.send(text("\xc0"));
    } catch (const std::system_error& e) {
      threw = e.code() == error::invalid_utf8_to_send;
    }
    CHECK(threw);
    co_await ws.close(1000, {}, ec);
    CHECK_FALSE(ec);
    co_await ws.close(999, {}, ec);  // already ended: nothing to check
    co_await join(peer);
    CHECK(seen == std::vector<frame>{close_frame(1000)});
  });
}

TEST_CASE("send: a close frame sent by the user is a deliberate close") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await accept_upgrade(server);
      client_frames from_client;
      CHECK(co_await from_client.next(s) == frame(close_frame(1001, "going")));
      co_await write_all(s, server_frame(close_frame(1001)));
      s.close();
    };
    auto peer = spawn(ex, script());
    auto ws = co_await upgrade(ex, server);
    co_await ws.send(close_frame(1001, "going"));
    std::error_code ec;
    co_await ws.send(text("no more"), ec);
    CHECK(ec == error::session_ended);
    auto frames = co_await receive_all(ws);
    CHECK(frames == std::vector<frame>{close_frame(1001)});
    CHECK_FALSE(ws.error());
    co_await join(peer);
  });
}

TEST_CASE("send: large messages written from their own strings keep their place among small frames") {
  // Messages from 4 KiB on are masked in place and written as separate
  // buffers of one gathered write; their order with the frames around them,
  // their masking and their content must be as if copied.
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    std::vector<frame> seen;
    auto script = [&]() -> awaitable<void> {
      auto s = co_await accept_upgrade(server);
      seen = co_await frames_until_close(s);
    };
    auto peer = spawn(ex, script());
    auto ws = co_await upgrade(ex, server);
    std::string utf8_text;
    while (utf8_text.size() < 300000) utf8_text += "κόσμε-€-😀 ";
    std::vector<frame> expected;
    expected.emplace_back(std::in_place_type<binary>, std::string(4095, 'a'));
    expected.emplace_back(std::in_place_type<binary>, std::string(4096, 'b'));
    expected.emplace_back(std::in_place_type<ping>, "between");
    expected.emplace_back(std::in_place_type<text>, utf8_text);
    expected.emplace_back(std::in_place_type<binary>, "small");
    expected.emplace_back(std::in_place_type<binary>, std::string(1 << 20, 'c'));
    expected.emplace_back(std::in_place_type<binary>, std::string(70000, 'd'));
    std::vector<frame> batch = expected;
    co_await ws.send(std::move(batch));
    for (int i = 0; i < 20; ++i) {
      frame f(std::in_place_type<binary>, std::string(static_cast<std::size_t>(3000 + i * 500), static_cast<char>('e' + i)));
      expected.push_back(f);
      co_await ws.send(std::move(f));
    }
    co_await ws.close();
    co_await join(peer);
    REQUIRE(seen.size() == expected.size() + 1);
    for (std::size_t i = 0; i < expected.size(); ++i) {
      CAPTURE(i);
      CHECK(seen[i] == expected[i]);
    }
    CHECK(seen.back() == frame(close_frame(1000)));
  });
}

TEST_CASE("many coroutines sending at once: every message arrives whole, each sender's in order") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    std::vector<frame> seen;
    auto script = [&]() -> awaitable<void> {
      auto s = co_await accept_upgrade(server);
      seen = co_await frames_until_close(s);
      REQUIRE(!seen.empty());
      CHECK(seen.back() == frame(close_frame(1000)));
      seen.pop_back();
    };
    auto peer = spawn(ex, script());
    auto ws = co_await upgrade(ex, server);
    constexpr int senders = 8;
    constexpr int each = 150;
    int finished = 0;
    auto sender = [&](int id) -> awaitable<void> {
      for (int n = 0; n < each; ++n)
        co_await ws.send(binary(std::string(static_cast<std::size_t>(1 + (n * 37) % 3000), static_cast<char>('a' + id)) +
                                std::to_string(n)));
      ++finished;
    };
    std::vector<std::shared_ptr<background_task>> tasks;
    for (int id = 0; id < senders; ++id) tasks.push_back(spawn(ex, sender(id)));
    for (auto& t : tasks) co_await join(t);
    CHECK(finished == senders);
    co_await ws.close();
    co_await join(peer);
    REQUIRE(seen.size() == senders * each);
    std::vector<int> next(senders, 0);
    for (const frame& f : seen) {
      const std::string& data = std::get<binary>(f).data;
      const int id = data[0] - 'a';
      REQUIRE(id >= 0);
      REQUIRE(id < senders);
      const int n = next[static_cast<std::size_t>(id)]++;
      CHECK(data == std::string(static_cast<std::size_t>(1 + (n * 37) % 3000), static_cast<char>('a' + id)) +
                        std::to_string(n));
    }
  });
}

TEST_CASE("destroying an open websocket aborts the connection") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    bool saw_eof = false;
    auto script = [&]() -> awaitable<void> {
      auto s = co_await accept_upgrade(server);
      co_await wait_for_eof(s);
      saw_eof = true;
    };
    auto peer = spawn(ex, script());
    {
      auto ws = co_await upgrade(ex, server);
      CHECK(ws.is_open());
    }
    co_await join(peer);
    CHECK(saw_eof);
  });
}

TEST_CASE("a moved-from websocket behaves as an ended session") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await accept_upgrade(server);
      co_await write_all(s, server_frame(text("to the new owner")));
      auto seen = co_await frames_until_close(s);
      CHECK(seen == std::vector<frame>{close_frame(1000)});
    };
    auto peer = spawn(ex, script());
    auto first = co_await upgrade(ex, server);
    websocket second = std::move(first);
    CHECK_FALSE(first.is_open());
    CHECK(co_await first.receive() == std::nullopt);
    std::error_code ec;
    co_await first.send(text("x"), ec);
    CHECK(ec == error::session_ended);
    co_await first.close(1000, {}, ec);
    CHECK_FALSE(ec);
    CHECK(co_await second.receive() == frame(text("to the new owner")));
    co_await second.close();
    co_await join(peer);
  });
}
