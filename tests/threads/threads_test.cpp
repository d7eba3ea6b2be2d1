// Many threads: one io_context run by several threads, each websocket on a
// strand of its own, against a real server (Python websockets). Every
// handler the session runs must run on the websocket's strand; the suite
// runs this file under ThreadSanitizer too, which reports any that does not.
#include <doctest/doctest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <thread>

#include "child_process.hpp"
#include "wscoro/wscoro.hpp"

using namespace wscoro;
using namespace wscoro::test;
using namespace asio::experimental::awaitable_operators;
using asio::awaitable;
using namespace std::chrono_literals;

namespace {

struct totals {
  std::atomic<int> sessions_done{0};
  std::atomic<int> echoes{0};
  std::atomic<int> cancelled_receives{0};
  std::atomic<int> failures{0};
};

// One session: a sender and a receiver coroutine on the strand, messages
// echoed back in order, receives raced against a short timer, keepalive
// pings on the way, then a close.
awaitable<void> one_session(std::string url, int messages, totals& t) {
  auto ex = co_await asio::this_coro::executor;
  auto conn = co_await connection::open(ex, url);
  websocket_options options;
  options.keepalive = 5ms;  // pings and their timer run beside the traffic
  options.send_queue_bytes = 256;
  auto r = co_await conn.ws_upgrade("/echo", {}, options);
  auto& ws = std::get<upgraded>(r).socket;
  bool sender_done = false;
  auto sender = [&]() -> awaitable<void> {
    for (int i = 0; i < messages; ++i) co_await ws.send(text(std::to_string(i)));
    sender_done = true;
  };
  asio::co_spawn(ex, sender(), asio::detached);
  int next = 0;
  asio::steady_timer timer(ex);
  while (next < messages) {
    timer.expires_after(100us);
    auto raced = co_await (ws.receive() || timer.async_wait(asio::use_awaitable));
    if (raced.index() == 1) {
      ++t.cancelled_receives;
      continue;
    }
    auto& f = std::get<0>(raced);
    if (!f) break;
    auto* got = std::get_if<text>(&*f);
    if (!got) continue;  // a pong of ours is not delivered; a server ping may be
    if (got->data != std::to_string(next)) ++t.failures;
    ++next;
    ++t.echoes;
  }
  if (next != messages || !sender_done) ++t.failures;
  co_await ws.close();
  if (ws.error()) ++t.failures;
  ++t.sessions_done;
}

}  // namespace

TEST_CASE("threads: websockets on strands of one io_context run by four threads echo in order") {
  auto server = start_python_peer({"--no-compression"});
  const std::string url = "ws://127.0.0.1:" + std::to_string(server->port);
  constexpr int sessions = 8;
  constexpr int messages = 1500;
  asio::io_context io(4);
  totals t;
  std::atomic<int> escaped{0};
  for (int i = 0; i < sessions; ++i) {
    asio::co_spawn(asio::make_strand(io), one_session(url, messages, t), [&](std::exception_ptr e) {
      if (e) ++escaped;
    });
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&] { io.run_for(60s); });
  for (auto& th : threads) th.join();
  MESSAGE("threads: " << t.echoes.load() << " echoes, " << t.cancelled_receives.load() << " receives cancelled by their timer");
  CHECK(escaped == 0);
  CHECK(t.failures == 0);
  CHECK(t.sessions_done == sessions);
  CHECK(t.echoes == sessions * messages);
}
