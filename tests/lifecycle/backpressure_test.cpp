// When the user does not read, the session stops reading the socket and
// TCP pushes back on the server: memory stays bounded, nothing is lost.
#include <doctest/doctest.h>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/redirect_error.hpp>
#include <asio/write.hpp>
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

// Message n: its index, then filler up to `size` bytes.
std::string numbered(std::size_t n, std::size_t size) {
  std::string m = std::to_string(n) + ":";
  m.resize(size, static_cast<char>('a' + n % 26));
  return m;
}

}  // namespace

TEST_CASE("backpressure: a server flooding a client that sleeps is held back; memory stays bounded; all arrive in order") {
  constexpr std::size_t message_size = 16 * 1024;
  constexpr std::size_t messages = 8000;  // 125 MiB in all
  run_async(
      [&](asio::any_io_executor ex) -> awaitable<void> {
        scripted_server server(ex);
        std::size_t written = 0;
        auto flood = [&]() -> awaitable<void> {
          auto s = co_await accept_upgrade(server);
          for (; written < messages; ++written)
            co_await write_all(s, server_frame(binary(numbered(written, message_size))));
          auto rest = co_await frames_until_close(s);
          CHECK(rest == std::vector<frame>{close_frame(1000)});
        };
        auto peer = spawn(ex, flood());
        auto conn = co_await connection::open(ex, server.url());
        websocket_options options;
        options.receive_queue_frames = 64;
        options.receive_queue_bytes = 512 * 1024;
        auto r = co_await conn.ws_upgrade("/", {}, options);
        auto& ws = std::get<upgraded>(r).socket;

        const std::size_t before = resident_bytes();
        co_await sleep_for(2s);  // the server floods; the client does not read
        const std::size_t during = resident_bytes();
        const std::size_t written_while_asleep = written;
        const double grown_mib = (static_cast<double>(during) - static_cast<double>(before)) / (1 << 20);
        std::cout << "flood: server wrote " << written_while_asleep << " of " << messages << " messages ("
                  << written_while_asleep * message_size / 1024 << " KiB) while the client slept 2 s; resident memory grew "
                  << grown_mib << " MiB\n";
        // Held back: kernel socket buffers plus our bounded queue, not the flood.
        CHECK(written_while_asleep * message_size < 32u * 1024 * 1024);
        CHECK(grown_mib < 16.0);

        for (std::size_t n = 0; n < messages; ++n) {
          auto f = co_await ws.receive();
          REQUIRE(f);
          const auto* b = std::get_if<binary>(&*f);
          REQUIRE(b);
          if (b->data != numbered(n, message_size)) {
            FAIL("message " << n << " out of order or damaged: starts with " << b->data.substr(0, 12));
          }
        }
        co_await ws.close();
        CHECK_FALSE(ws.error());
        co_await join(peer);
      },
      60s);
}

TEST_CASE("backpressure: send waits once send_queue_bytes are queued, and everything is delivered once the server reads") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    bool reading = false;
    std::vector<frame> seen;
    auto script = [&]() -> awaitable<void> {
      auto s = co_await accept_upgrade(server);
      while (!reading) co_await sleep_for(10ms);
      seen = co_await frames_until_close(s);
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, server.url());
    websocket_options options;
    options.send_queue_bytes = 1024 * 1024;
    auto r = co_await conn.ws_upgrade("/", {}, options);
    auto& ws = std::get<upgraded>(r).socket;
    const std::size_t before = resident_bytes();
    std::size_t sent = 0;
    bool waited = false;
    while (!waited && sent < 400) {
      auto result = co_await (ws.send(binary(numbered(sent, 256 * 1024))) || sleep_for(300ms));
      if (result.index() == 0) {
        ++sent;
      } else {
        waited = true;  // this send is still waiting: cancelled, so it queued nothing
      }
    }
    CHECK(waited);
    const double grown_mib = (static_cast<double>(resident_bytes()) - static_cast<double>(before)) / (1 << 20);
    std::cout << "send backpressure: " << sent << " sends of 256 KiB completed before send waited; resident memory grew "
              << grown_mib << " MiB\n";
    CHECK(sent < 100);  // kernel buffers and 1 MiB of queue, not 100 MiB
    CHECK(grown_mib < 16.0);
    reading = true;
    for (int extra = 0; extra < 20; ++extra) co_await ws.send(binary(numbered(sent++, 256 * 1024)));
    co_await ws.close();
    co_await join(peer);
    REQUIRE(seen.size() == sent + 1);
    for (std::size_t n = 0; n < sent; ++n) CHECK(std::get<binary>(seen[n]).data == numbered(n, 256 * 1024));
  });
}
