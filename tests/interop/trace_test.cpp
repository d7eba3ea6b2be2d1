// The tracing hook against the real Python server: the exact order and
// content of the events of a session, of failed connects, and of a reconnect.
#include <doctest/doctest.h>

#include <asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "async.hpp"
#include "child_process.hpp"
#include "interop_checks.hpp"
#include "test_pki.hpp"
#include "wscoro/wscoro.hpp"

using namespace wscoro;
using namespace wscoro::test;
using asio::awaitable;
using namespace std::chrono_literals;

namespace {

std::string outcome(std::error_code ec) { return ec ? ec.message() : "ok"; }

std::string describe_frame(const frame& f) {
  if (const auto* c = std::get_if<close_frame>(&f)) return "close " + std::to_string(c->code) + " " + c->reason;
  static const char* const names[] = {"text", "binary", "ping", "pong"};
  const std::size_t size = std::visit(
      [](const auto& v) -> std::size_t {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, close_frame>) {
          return 0;
        } else {
          return v.data.size();
        }
      },
      f);
  return std::string(names[f.index()]) + "[" + std::to_string(size) + "]";
}

// Writes each event down as one line; checks that time never goes back
// and that no duration is negative.
class recording_tracer : public tracer {
 public:
  std::vector<std::string> events;
  bool time_ordered = true;

  void connect_start(time_point at, std::string_view host, std::uint16_t port) override {
    note(at, "connect_start " + std::string(host) + ":" + std::to_string(port));
  }
  void connect_end(time_point at, std::error_code ec, duration d) override {
    note(at, "connect_end " + outcome(ec), d);
  }
  void tunnel_start(time_point at, std::string_view host, std::uint16_t port) override {
    note(at, "tunnel_start " + std::string(host) + ":" + std::to_string(port));
  }
  void tunnel_end(time_point at, unsigned status, std::error_code ec, duration d) override {
    note(at, "tunnel_end " + std::to_string(status) + " " + outcome(ec), d);
  }
  void tls_handshake_start(time_point at, std::string_view host) override {
    note(at, "tls_start " + std::string(host));
  }
  void tls_handshake_end(time_point at, std::error_code ec, duration d) override {
    note(at, "tls_end " + outcome(ec), d);
  }
  void request_sent(time_point at, const request& r) override { note(at, "request " + r.method + " " + r.target); }
  void response_received(time_point at, const response& r, std::error_code ec, duration d) override {
    note(at, "response " + std::to_string(r.status) + " " + outcome(ec), d);
  }
  void upgrade_end(time_point at, upgrade_outcome o, std::string_view protocol, std::error_code ec,
                   duration d) override {
    static const char* const names[] = {"upgraded", "refused", "failed"};
    note(at, std::string("upgrade ") + names[static_cast<int>(o)] + " '" + std::string(protocol) + "' " + outcome(ec),
         d);
  }
  void frame_sent(time_point at, const frame& f) override { note(at, "sent " + describe_frame(f)); }
  void frame_received(time_point at, const frame& f) override { note(at, "received " + describe_frame(f)); }
  void session_down(time_point at, std::error_code reason) override { note(at, "down " + outcome(reason)); }
  void reconnect_attempt(time_point at, unsigned attempt) override {
    note(at, "reconnect_attempt " + std::to_string(attempt));
  }
  void session_up(time_point at, std::string_view protocol) override {
    note(at, "up '" + std::string(protocol) + "'");
  }
  void disconnected(time_point at, std::error_code reason) override { note(at, "disconnected " + outcome(reason)); }

 private:
  void note(time_point at, std::string what, duration d = duration::zero()) {
    if (at < last_ || d < duration::zero() || at - d < first_) time_ordered = false;
    if (events.empty()) first_ = at - d;
    last_ = at;
    events.push_back(std::move(what));
  }
  time_point first_{};
  time_point last_{};
};

std::string at(std::string scheme, unsigned short port, std::string target = "/") {
  return scheme + "://127.0.0.1:" + std::to_string(port) + target;
}

// Whether `expected` appears in `events` in order (other events between).
bool in_order(const std::vector<std::string>& events, const std::vector<std::string>& expected) {
  std::size_t i = 0;
  for (const auto& e : events)
    if (i < expected.size() && e == expected[i]) ++i;
  return i == expected.size();
}

}  // namespace

TEST_CASE("trace: a whole session, from connect to disconnect, in order") {
  auto server = start_python_peer({"--no-compression"});
  auto recorder = std::make_shared<recording_tracer>();
  run_async([&](asio::any_io_executor ex) -> awaitable<void> {
    connection_options options;
    options.tracer = recorder;
    auto conn = co_await connection::open(ex, at("ws", server->port), options);
    websocket_options ws_options;
    ws_options.protocols = {"chat"};
    auto r = co_await conn.ws_upgrade("/echo", {}, ws_options);
    REQUIRE(std::holds_alternative<upgraded>(r));
    auto& ws = std::get<upgraded>(r).socket;
    co_await ws.send(text("hello"));
    CHECK(co_await ws.receive() == frame(text("hello")));
    co_await ws.send(binary("\x01\x02\x03"));
    CHECK(co_await ws.receive() == frame(binary("\x01\x02\x03")));
    const std::string large(5000, 'L');  // large messages take another way to the socket
    co_await ws.send(text(large));
    CHECK(co_await ws.receive() == frame(text(large)));
    co_await ws.close(1000, "bye");
    CHECK(co_await ws.receive() == frame(close_frame(1000, "bye")));
    CHECK(co_await ws.receive() == std::nullopt);
  });
  CHECK(recorder->events == std::vector<std::string>{
                                "connect_start 127.0.0.1:" + std::to_string(server->port),
                                "connect_end ok",
                                "request GET /echo",
                                "response 101 ok",
                                "upgrade upgraded 'chat' ok",
                                "sent text[5]",
                                "received text[5]",
                                "sent binary[3]",
                                "received binary[3]",
                                "sent text[5000]",
                                "received text[5000]",
                                "sent close 1000 bye",
                                "received close 1000 bye",
                                "disconnected ok",
                            });
  CHECK(recorder->time_ordered);
}

TEST_CASE("trace: failed connects, a proxy's refusal, a TLS failure, a refused upgrade") {
  auto server = start_python_peer({"--no-compression"});
  auto tls_server = start_python_peer(pki().server_args("good"));
  auto refusing = start_connect_proxy({"--refuse", "403"});
  auto recorder = std::make_shared<recording_tracer>();
  const unsigned short nobody = closed_port();
  run_async([&](asio::any_io_executor ex) -> awaitable<void> {
    connection_options options;
    options.tracer = recorder;
    std::error_code ec;
    co_await connection::open(ex, at("ws", nobody), options, ec);
    CHECK(ec == asio::error::connection_refused);

    auto via_proxy = options;
    via_proxy.proxy_url = "http://127.0.0.1:" + std::to_string(refusing->port);
    co_await connection::open(ex, at("ws", server->port), via_proxy, ec);
    CHECK(ec == error::proxy_refused);

    co_await connection::open(ex, "wss://localhost:" + std::to_string(tls_server->port) + "/", options, ec);
    CHECK(ec == error::tls_untrusted_certificate);

    auto conn = co_await connection::open(ex, at("http", server->port), options);
    auto r = co_await conn.ws_upgrade("/refuse");
    CHECK(std::holds_alternative<refused>(r));
  });
  const auto port = [](unsigned short p) { return std::to_string(p); };
  CHECK(recorder->events ==
        std::vector<std::string>{
            "connect_start 127.0.0.1:" + port(nobody),
            "connect_end " + std::error_code(asio::error::connection_refused).message(),
            "connect_start 127.0.0.1:" + port(refusing->port),
            "connect_end ok",
            "tunnel_start 127.0.0.1:" + port(server->port),
            "tunnel_end 403 " + make_error_code(error::proxy_refused).message(),
            "connect_start localhost:" + port(tls_server->port),
            "connect_end ok",
            "tls_start localhost",
            "tls_end " + make_error_code(error::tls_untrusted_certificate).message(),
            "connect_start 127.0.0.1:" + port(server->port),
            "connect_end ok",
            "request GET /refuse",
            "response 403 ok",
            "upgrade refused '' ok",
        });
  CHECK(recorder->time_ordered);
}

TEST_CASE("trace: a reconnect after the server is killed: down, attempts, connect, upgrade, up") {
  auto server = start_python_peer({"--no-compression"});
  const unsigned short port = server->port;
  auto recorder = std::make_shared<recording_tracer>();
  run_async(
      [&](asio::any_io_executor ex) -> awaitable<void> {
        connection_options options;
        options.tracer = recorder;
        auto conn = co_await connection::open(ex, at("ws", port), options);
        auto r = co_await conn.ws_upgrade("/echo", {}, retrying_quickly());
        REQUIRE(std::holds_alternative<upgraded>(r));
        auto& ws = std::get<upgraded>(r).socket;
        co_await kill_and_restart(server, ws);
        co_await ws.close();
      },
      30s);
  const auto& events = recorder->events;
  const std::string connect = "connect_start 127.0.0.1:" + std::to_string(port);
  CHECK(in_order(events, {connect, "connect_end ok", "request GET /echo", "response 101 ok", "upgrade upgraded '' ok",
                          "down " + make_error_code(error::closed_without_handshake).message(), "reconnect_attempt 1",
                          connect}));
  // The last attempt is the one that came back; the session then closes.
  const std::vector<std::string> tail{connect,
                                      "connect_end ok",
                                      "request GET /echo",
                                      "response 101 ok",
                                      "upgrade upgraded '' ok",
                                      "up ''",
                                      "sent close 1000 ",
                                      "received close 1000 ",
                                      "disconnected ok"};
  REQUIRE(events.size() > tail.size());
  CHECK(std::vector<std::string>(events.end() - static_cast<std::ptrdiff_t>(tail.size()), events.end()) == tail);
  CHECK(recorder->time_ordered);
}
