// permessage-deflate against real servers: Python `websockets` (which
// negotiates it by default) and Node `ws` (perMessageDeflate enabled, every
// message compressed), with context takeover on and off and the window
// limits either side may ask for; and against scripted servers whose
// answers the client must refuse, or whose frames show what went on the wire.
//
// GCC 12: no aggregate temporary or initializer_list is built inside a
// co_await expression here; such values get their own statement first.

#include <doctest/doctest.h>

#include <asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "async.hpp"
#include "child_process.hpp"
#include "payloads.hpp"
#include "scripted_peer.hpp"
#include "wscoro/wscoro.hpp"
#include "ws/deflate_codec.hpp"

#if WSCORO_HAVE_ZLIB

namespace {

using namespace std::chrono_literals;
using wscoro::test::noise;
using wscoro::test::run_async;

std::string ws_url(unsigned short port) { return "ws://127.0.0.1:" + std::to_string(port); }

// One way of setting up compression: what the client offers and what each
// server is told to ask for.
struct setup {
  std::string name;
  wscoro::deflate_options offer;
  std::vector<std::string> python_args;
  std::vector<std::string> node_args;
};

std::vector<setup> setups() {
  std::vector<setup> all;
  all.push_back({"defaults", {}, {}, {"--deflate"}});

  setup none{"no context takeover, asked by the client", {}, {}, {"--deflate"}};
  none.offer.client_no_context_takeover = true;
  none.offer.server_no_context_takeover = true;
  all.push_back(none);

  all.push_back({"no context takeover, asked by the server",
                 {},
                 {"--deflate-server-no-context-takeover", "--deflate-client-no-context-takeover"},
                 {"--deflate-server-no-context-takeover", "--deflate-client-no-context-takeover"}});

  setup small{"small windows, offered by the client", {}, {}, {"--deflate"}};
  small.offer.client_max_window_bits = 9;
  small.offer.server_max_window_bits = 10;
  all.push_back(small);

  // Python's zlib cannot compress with 8 bits, so only the client's window is 8 there.
  all.push_back({"small windows, chosen by the server",
                 {},
                 {"--deflate-client-max-window-bits", "8", "--deflate-server-max-window-bits", "9"},
                 {"--deflate-client-max-window-bits", "9", "--deflate-server-max-window-bits", "9"}});

  setup compat{"compat: no parameters offered", {}, {}, {"--deflate"}};
  compat.offer.compat = true;
  all.push_back(compat);

  setup threshold{"messages under 200 bytes sent plain", {}, {}, {"--deflate"}};
  threshold.offer.min_size = 200;
  threshold.offer.level = 1;
  all.push_back(threshold);
  return all;
}

struct peer_kind {
  std::string name;
  bool python;
};
const peer_kind peer_kinds[] = {{"python websockets", true}, {"node ws", false}};

std::unique_ptr<wscoro::test::peer_server> start(const peer_kind& kind, const setup& s) {
  return kind.python ? wscoro::test::start_python_peer(s.python_args) : wscoro::test::start_node_peer(s.node_args);
}

// Runs `scenario(executor, setup, port)` against a server of each kind
// started for each setup, within `limit`.
template <class Scenario>
void against_each_server(const std::vector<setup>& list, std::chrono::seconds limit, Scenario scenario) {
  for (const setup& s : list) {
    for (const auto& kind : peer_kinds) {
      INFO("setup: " << s.name << "; peer: " << kind.name);
      auto peer = start(kind, s);
      const unsigned short port = peer->port;
      run_async([&](asio::any_io_executor ex) { return scenario(ex, s, port); }, limit);
    }
  }
}

// JSON-like text with repeated keys and varying numbers: compresses as real traffic does.
std::string json_text(std::size_t size, unsigned seed) {
  std::string s;
  unsigned x = seed;
  while (s.size() < size) {
    x = x * 1103515245u + 12345u;
    s += "{\"symbol\":\"EURUSD\",\"bid\":1.0" + std::to_string(x % 10000) + ",\"size\":" + std::to_string(x >> 20) +
         "},";
  }
  s.resize(size);
  return s;
}

// Empty when `f` is a text (or binary) message holding exactly `expected`.
std::string mismatch(const std::optional<wscoro::frame>& f, bool binary, const std::string& expected) {
  const std::string* data = nullptr;
  if (f && binary && std::holds_alternative<wscoro::binary>(*f)) data = &std::get<wscoro::binary>(*f).data;
  if (f && !binary && std::holds_alternative<wscoro::text>(*f)) data = &std::get<wscoro::text>(*f).data;
  if (!data) return "not the expected kind of message (or none)";
  if (*data == expected) return {};
  return "got " + std::to_string(data->size()) + " bytes instead of " + std::to_string(expected.size());
}

std::string describe(const wscoro::upgrade_result& r) {
  if (const auto* f = std::get_if<wscoro::failed>(&r)) return "failed: " + f->error.message();
  if (const auto* x = std::get_if<wscoro::refused>(&r)) return "refused: " + std::to_string(x->response.status);
  return "upgraded with extensions \"" + std::get<wscoro::upgraded>(r).extensions + "\"";
}

asio::awaitable<wscoro::upgraded> upgrade(asio::any_io_executor ex, unsigned short port, std::string target,
                                          wscoro::websocket_options options) {
  auto conn = co_await wscoro::connection::open(ex, ws_url(port));
  wscoro::fields none;
  auto result = co_await conn.ws_upgrade(std::move(target), std::move(none), std::move(options));
  INFO(describe(result));
  REQUIRE(std::holds_alternative<wscoro::upgraded>(result));
  co_return std::move(std::get<wscoro::upgraded>(result));
}

wscoro::websocket_options compressing(const wscoro::deflate_options& offer) {
  wscoro::websocket_options o;
  o.compress = offer;
  o.max_message_size = 32 << 20;
  return o;
}

asio::awaitable<void> close_cleanly(wscoro::websocket& ws) {
  std::error_code ec;
  co_await ws.close(1000, "done", ec);
  CHECK(ec == std::error_code());
  CHECK(ws.error() == std::error_code());
}

}  // namespace

TEST_CASE("interop compression: every message size both ways, in every setup") {
  const std::size_t sizes[] = {0, 1, 125, 126, 65535, 65536, 1 << 20, 16 << 20};
  against_each_server(
      setups(), 120s,
      [&](asio::any_io_executor ex, const setup& s, unsigned short port) -> asio::awaitable<void> {
            auto up = co_await upgrade(ex, port, "/echo", compressing(s.offer));
            INFO("negotiated: " << up.extensions);
            CHECK(up.extensions.rfind("permessage-deflate", 0) == 0);
            CHECK(up.socket.extensions() == up.extensions);
            CHECK(up.headers.contains("sec-websocket-extensions"));
            if (s.offer.server_no_context_takeover || s.name.find("asked by the server") != std::string::npos)
              CHECK(up.extensions.find("server_no_context_takeover") != std::string::npos);
            wscoro::websocket& ws = up.socket;
            // The biggest messages only in the first two setups: the others
            // change nothing that size would show.
            const bool full = s.name == "defaults" || s.name == "no context takeover, asked by the client";
            for (std::size_t n : sizes) {
              if (n > (1u << 20) && !full) continue;
              for (bool binary : {false, true}) {
                // Each message twice: with context takeover the second refers
                // back to the first (beyond any window at 16 MiB: once is enough).
                const std::string message = binary ? noise(n, static_cast<unsigned>(n)) : json_text(n, 1);
                for (int round = 0; round < (n > (1u << 20) ? 1 : 2); ++round) {
                  INFO("size " << n << (binary ? " binary" : " text") << ", round " << round);
                  if (binary) {
                    co_await ws.send(wscoro::binary(message));
                  } else {
                    co_await ws.send(wscoro::text(message));
                  }
                  auto back = co_await ws.receive();
                  REQUIRE(mismatch(back, binary, message) == "");
                }
              }
            }
            co_await close_cleanly(ws);
      });
}

TEST_CASE("interop compression: fragmented compressed messages from the server, with and without context takeover") {
  std::vector<setup> both;
  both.push_back(setups()[0]);
  both.push_back(setups()[2]);
  against_each_server(
      both, 60s, [&](asio::any_io_executor ex, const setup& s, unsigned short port) -> asio::awaitable<void> {
            for (const char* type : {"text", "binary"}) {
              for (std::size_t size : {1u, 100u, 5000u, 70000u}) {
                INFO(type << " in 4 parts of " << size);
                const std::string target =
                    "/fragmented?parts=4&size=" + std::to_string(size) + "&type=" + std::string(type);
                auto up = co_await upgrade(ex, port, target, compressing(s.offer));
                REQUIRE(up.extensions != "");
                std::string expected(4 * size, '\0');
                for (std::size_t i = 0; i < expected.size(); ++i)
                  expected[i] = type[0] == 'b' ? static_cast<char>(i % 251) : static_cast<char>('a' + i % 26);
                auto first = co_await up.socket.receive();
                CHECK(mismatch(first, type[0] == 'b', expected) == "");
                // Then the echo goes on through the same compression context.
                co_await up.socket.send(wscoro::text("after the fragments"));
                auto echoed = co_await up.socket.receive();
                CHECK(mismatch(echoed, false, "after the fragments") == "");
                co_await close_cleanly(up.socket);
              }
            }
      });
}

TEST_CASE("interop compression: 500 JSON messages sent in one batch come back in order") {
  std::vector<setup> both;
  both.push_back(setups()[0]);
  both.push_back(setups()[1]);
  against_each_server(
      both, 60s, [&](asio::any_io_executor ex, const setup& s, unsigned short port) -> asio::awaitable<void> {
            auto up = co_await upgrade(ex, port, "/echo", compressing(s.offer));
            wscoro::websocket& ws = up.socket;
            // Many messages in flight at once, as a busy feed sends them.
            std::vector<std::string> sent;
            for (unsigned i = 0; i < 500; ++i) sent.push_back(json_text(100 + (i * 37) % 1900, i));
            std::vector<wscoro::frame> batch;
            for (const auto& m : sent) batch.push_back(wscoro::text(m));
            co_await ws.send(std::move(batch));
            for (const auto& m : sent) {
              auto back = co_await ws.receive();
              REQUIRE(mismatch(back, false, m) == "");
            }
            co_await close_cleanly(ws);
      });
}

TEST_CASE("interop compression: max_message_size bounds the inflated size; the server gets 1009") {
  for (const auto& kind : peer_kinds) {
    INFO("peer: " << kind.name);
    auto peer = start(kind, setups()[0]);
    run_async(
        [&](asio::any_io_executor ex) -> asio::awaitable<void> {
          auto options = compressing(wscoro::deflate_options());
          options.max_message_size = 1 << 20;
          // 4 MiB of a 26-letter cycle compresses to a few kilobytes.
          auto up = co_await upgrade(ex, peer->port, "/send?size=4194304&type=text", std::move(options));
          auto f = co_await up.socket.receive();
          while (f && !std::holds_alternative<wscoro::close_frame>(*f)) f = co_await up.socket.receive();
          // The server answers our 1009 with its own close, or just closes.
          if (f) CHECK(std::get<wscoro::close_frame>(*f).code == 1009);
          CHECK(up.socket.error() == wscoro::make_error_code(wscoro::error::message_too_big));
        },
        20s);
  }
}

TEST_CASE("interop compression: a server without compression gives an uncompressed session") {
  for (const auto& kind : peer_kinds) {
    INFO("peer: " << kind.name);
    auto peer = kind.python ? wscoro::test::start_python_peer({"--no-compression"}) : wscoro::test::start_node_peer();
    run_async(
        [&](asio::any_io_executor ex) -> asio::awaitable<void> {
          auto up = co_await upgrade(ex, peer->port, "/echo", compressing(wscoro::deflate_options()));
          CHECK(up.extensions == "");
          CHECK(up.socket.extensions() == "");
          const std::string m = json_text(5000, 3);
          co_await up.socket.send(wscoro::text(m));
          auto back = co_await up.socket.receive();
          CHECK(mismatch(back, false, m) == "");
          co_await close_cleanly(up.socket);
        },
        20s);
  }
}

namespace {

// A 101 that answers the client's upgrade with `extensions`; the client's
// upgrade result.
wscoro::upgrade_result upgrade_against(std::string extensions, wscoro::deflate_options offer,
                                       std::string* request_extensions = nullptr) {
  wscoro::upgrade_result result = wscoro::failed{std::error_code()};
  run_async(
      [&](asio::any_io_executor ex) -> asio::awaitable<void> {
        wscoro::test::scripted_server server(ex);
        auto peer = [&]() -> asio::awaitable<void> {
          auto s = co_await server.accept();
          const std::string head = co_await wscoro::test::read_request_head(s);
          if (request_extensions) *request_extensions = wscoro::test::header_value(head, "sec-websocket-extensions");
          const std::string answer =
              wscoro::test::switching_protocols(head, "Sec-WebSocket-Extensions: " + extensions + "\r\n");
          co_await wscoro::test::write_all(s, answer);
          co_await wscoro::test::wait_for_eof(s);
        };
        auto task = wscoro::test::spawn(ex, peer());
        auto conn = co_await wscoro::connection::open(ex, server.url());
        wscoro::websocket_options options;
        options.compress = offer;
        wscoro::fields none;
        result = co_await conn.ws_upgrade("/", std::move(none), std::move(options));
        if (auto* up = std::get_if<wscoro::upgraded>(&result)) {
          wscoro::websocket gone = std::move(up->socket);  // aborts: the peer sees EOF
        }
        co_await wscoro::test::join(task);
      },
      10s);
  return result;
}

std::error_code failure(const wscoro::upgrade_result& r) {
  const auto* f = std::get_if<wscoro::failed>(&r);
  return f ? f->error : std::error_code();
}

}  // namespace

TEST_CASE("compression handshake: answers the client did not allow fail the upgrade with a named error") {
  using wscoro::error;
  wscoro::deflate_options offer;
  offer.server_max_window_bits = 10;
  offer.server_no_context_takeover = true;
  std::string sent;
  auto ok = upgrade_against("permessage-deflate; server_no_context_takeover; server_max_window_bits=10", offer, &sent);
  CHECK(sent == "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits");
  INFO(describe(ok));
  REQUIRE(std::holds_alternative<wscoro::upgraded>(ok));
  CHECK(std::get<wscoro::upgraded>(ok).extensions ==
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=10");

  CHECK(failure(upgrade_against("permessage-deflate; server_no_context_takeover; server_max_window_bits=12", offer)) ==
        error::extension_parameter_rejected);
  CHECK(failure(upgrade_against("permessage-deflate; server_max_window_bits=10", offer)) ==
        error::extension_parameter_rejected);
  CHECK(failure(upgrade_against("permessage-deflate; server_no_context_takeover; server_max_window_bits=10; "
                                "server_max_window_bits=10",
                                offer)) == error::duplicate_extension_parameter);
  CHECK(failure(upgrade_against("permessage-deflate; server_no_context_takeover; server_max_window_bits=16", offer)) ==
        error::invalid_extension_parameter);
  CHECK(failure(upgrade_against("permessage-deflate; x-unknown", offer)) == error::invalid_extension_parameter);
  CHECK(failure(upgrade_against("x-webkit-deflate-frame", offer)) == error::unoffered_extension);
  CHECK(failure(upgrade_against("permessage-deflate, permessage-deflate", wscoro::deflate_options())) ==
        error::duplicate_extension);

  wscoro::deflate_options compat;
  compat.compat = true;
  auto bare = upgrade_against("permessage-deflate", compat, &sent);
  CHECK(sent == "permessage-deflate");
  CHECK(std::holds_alternative<wscoro::upgraded>(bare));
  CHECK(failure(upgrade_against("permessage-deflate; client_max_window_bits=10", compat)) ==
        error::extension_parameter_rejected);
}

TEST_CASE("compression on the wire: RSV1 on the first frame of each compressed message, never on control frames") {
  run_async(
      [&](asio::any_io_executor ex) -> asio::awaitable<void> {
        wscoro::test::scripted_server server(ex);
        const std::string message(3000, 'x');
        auto peer = [&]() -> asio::awaitable<void> {
          auto s = co_await wscoro::test::accept_upgrade(server, "Sec-WebSocket-Extensions: permessage-deflate\r\n");
          // The client's frames, read raw: header bytes, then the masked payload.
          std::string raw;
          char chunk[4096];
          // text(3000 x) compresses to a few bytes (under 126: a 2-byte
          // header and the mask key), then a ping of 1 byte follows.
          const auto frame_end = [&]() -> std::size_t { return 2 + 4 + (static_cast<unsigned char>(raw[1]) & 0x7F); };
          while (raw.size() < 2 || raw.size() < frame_end() + 7) {
            const std::size_t n = co_await s.async_read_some(asio::buffer(chunk), asio::use_awaitable);
            raw.append(chunk, n);
          }
          const auto first = static_cast<unsigned char>(raw[0]);
          CHECK(first == 0xC1);  // FIN, RSV1, text
          const std::size_t length = static_cast<unsigned char>(raw[1]) & 0x7F;
          CHECK(length < 100);
          const auto ping_byte = static_cast<unsigned char>(raw[2 + 4 + length]);
          CHECK(ping_byte == 0x89);  // FIN, ping: no RSV1
          // Then a compressed message from the server, which the client inflates.
          wscoro::ws::message_deflater deflater(15, false, -1, 8);
          std::string compressed;
          deflater.compress(message, compressed);
          std::string frame("\xC2", 1);
          frame.push_back(static_cast<char>(compressed.size()));
          frame += compressed;
          co_await wscoro::test::write_all(s, frame);
          auto rest = co_await wscoro::test::frames_until_close(s);
          CHECK(rest.size() == 1);  // the close
        };
        auto task = wscoro::test::spawn(ex, peer());
        auto conn = co_await wscoro::connection::open(ex, server.url());
        wscoro::websocket_options options;
        options.compress = wscoro::deflate_options();
        wscoro::fields none;
        auto result = co_await conn.ws_upgrade("/", std::move(none), std::move(options));
        REQUIRE(std::holds_alternative<wscoro::upgraded>(result));
        auto& ws = std::get<wscoro::upgraded>(result).socket;
        co_await ws.send(wscoro::text(message));
        co_await ws.send(wscoro::ping("p"));
        auto got = co_await ws.receive();
        CHECK(mismatch(got, true, message) == "");
        std::error_code ec;
        co_await ws.close(1000, "", ec);
        CHECK(ec == std::error_code());
        co_await wscoro::test::join(task);
      },
      10s);
}

#else

TEST_CASE("compression handshake: without zlib, asking for compression fails before anything is sent") {
  wscoro::test::run_async(
      [&](asio::any_io_executor ex) -> asio::awaitable<void> {
        wscoro::test::scripted_server server(ex);
        auto conn = co_await wscoro::connection::open(ex, server.url());
        wscoro::websocket_options options;
        options.compress = wscoro::deflate_options();
        wscoro::fields none;
        auto result = co_await conn.ws_upgrade("/", std::move(none), std::move(options));
        const auto* f = std::get_if<wscoro::failed>(&result);
        REQUIRE(f != nullptr);
        CHECK(f->error == wscoro::make_error_code(wscoro::error::compression_unavailable));
      },
      std::chrono::seconds(10));
}

#endif
