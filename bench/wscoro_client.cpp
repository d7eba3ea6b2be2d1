// The benchmark client written as a wscoro user would write it.
//
//   bench_wscoro --url ws://127.0.0.1:PORT/ --size 64 --count 100000 --window 64 --conns 1 --mode echo
//
// echo: on each connection one sender coroutine keeps `window` binary
// messages in flight (it sends whatever credit the receiver returned as one
// batch, which the library writes with one write) and one receiver coroutine
// takes the echoes. latency: one message in flight, send then receive.
// Prints one `result impl=wscoro ...` line (see common.hpp).
#include <wscoro/wscoro.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "common.hpp"

namespace {

using asio::awaitable;

/// Wakes one coroutine of the same executor: a timer that never expires,
/// cancelled as the signal.
class wakeup {
 public:
  explicit wakeup(const asio::any_io_executor& ex) : timer_(ex, asio::steady_timer::time_point::max()) {}
  awaitable<void> wait() {
    std::error_code ignored;
    waiting_ = true;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    waiting_ = false;
  }
  void notify() {
    if (waiting_) timer_.cancel();
  }

 private:
  asio::steady_timer timer_;
  bool waiting_ = false;
};

struct client {
  client(asio::any_io_executor ex, bench::options o)
      : executor(std::move(ex)), opts(std::move(o)), payload(opts.size, 'x'), all_done(executor) {}

  asio::any_io_executor executor;
  bench::options opts;
  std::string payload;
  bench::measurement m;
  std::size_t running = 0;
  wakeup all_done;
};

struct conn_state {
  conn_state(wscoro::websocket socket, std::size_t window)
      : ws(std::move(socket)), credit_returned(ws.get_executor()), times(window), credits(window) {}
  wscoro::websocket ws;
  wakeup credit_returned;
  bench::send_times times;
  std::size_t credits;
  std::size_t sent = 0;
  // Received echoes (each holds the payload), sent again as the next
  // messages: wscoro moves strings in and out, so a client that passes them
  // on neither allocates nor copies per message, as the Beast client writes
  // its one payload buffer again and again.
  std::vector<std::string> spare;

  wscoro::frame next_message(const std::string& payload) {
    if (spare.empty()) return wscoro::frame(std::in_place_type<wscoro::binary>, payload);
    std::string data = std::move(spare.back());
    spare.pop_back();
    return wscoro::frame(std::in_place_type<wscoro::binary>, std::move(data));
  }
};

void fail(const std::string& what) {
  std::fprintf(stderr, "bench_wscoro: %s\n", what.c_str());
  std::exit(1);
}

awaitable<wscoro::websocket> open(client& c) {
  auto conn = co_await wscoro::connection::open(c.executor, c.opts.url);
  auto result = co_await conn.ws_upgrade(c.opts.target);
  if (auto* f = std::get_if<wscoro::failed>(&result)) fail("upgrade failed: " + f->error.message());
  if (std::holds_alternative<wscoro::refused>(result)) fail("upgrade refused");
  co_return std::move(std::get<wscoro::upgraded>(result).socket);
}

awaitable<void> sender(client& c, conn_state& s) {
  const std::size_t count = c.opts.count;
  while (s.sent < count) {
    if (s.credits == 0) {
      co_await s.credit_returned.wait();
      continue;
    }
    const std::size_t n = std::min(s.credits, count - s.sent);
    s.credits -= n;
    s.sent += n;
    const auto now = bench::clock::now();
    for (std::size_t i = 0; i < n; ++i) s.times.push(now);
    if (n == 1) {
      wscoro::frame f = s.next_message(c.payload);
      co_await s.ws.send(std::move(f));
    } else {
      std::vector<wscoro::frame> batch;
      batch.reserve(n);
      for (std::size_t i = 0; i < n; ++i) batch.push_back(s.next_message(c.payload));
      co_await s.ws.send(std::move(batch));
    }
  }
}

awaitable<void> receiver(client& c, conn_state& s) {
  for (std::size_t received = 0; received < c.opts.count; ++received) {
    auto f = co_await s.ws.receive();
    if (!f) fail("session ended early: " + s.ws.error().message());
    if (!std::holds_alternative<wscoro::binary>(*f) || std::get<wscoro::binary>(*f).data.size() != c.opts.size)
      fail("unexpected frame");
    c.m.rtt.add(s.times.pop(), bench::clock::now());
    s.spare.push_back(std::move(std::get<wscoro::binary>(*f).data));
    ++s.credits;
    s.credit_returned.notify();
  }
  if (--c.running == 0) c.all_done.notify();
}

awaitable<void> latency_loop(client& c, conn_state& s) {
  for (std::size_t i = 0; i < c.opts.count; ++i) {
    const auto sent_at = bench::clock::now();
    wscoro::frame f = s.next_message(c.payload);
    co_await s.ws.send(std::move(f));
    auto echo = co_await s.ws.receive();
    if (!echo) fail("session ended early: " + s.ws.error().message());
    if (auto* b = std::get_if<wscoro::binary>(&*echo)) s.spare.push_back(std::move(b->data));
    c.m.rtt.add(sent_at, bench::clock::now());
  }
  if (--c.running == 0) c.all_done.notify();
}

awaitable<void> run(client& c) {
  std::vector<std::unique_ptr<conn_state>> conns;
  conns.reserve(c.opts.conns);
  for (std::size_t i = 0; i < c.opts.conns; ++i) {
    auto ws = co_await open(c);
    conns.push_back(std::make_unique<conn_state>(std::move(ws), c.opts.window));
  }
  c.running = conns.size();
  c.m.start();
  for (auto& s : conns) {
    if (c.opts.run_mode == bench::mode::latency) {
      asio::co_spawn(c.executor, latency_loop(c, *s), asio::detached);
    } else {
      asio::co_spawn(c.executor, sender(c, *s), asio::detached);
      asio::co_spawn(c.executor, receiver(c, *s), asio::detached);
    }
  }
  while (c.running != 0) co_await c.all_done.wait();
  c.m.stop();
  for (auto& s : conns) co_await s->ws.close();
}

}  // namespace

int main(int argc, char** argv) {
  const auto opts = bench::parse_options(argc, argv);
  asio::io_context io(1);
  auto c = std::make_unique<client>(io.get_executor(), opts);
  asio::co_spawn(io, run(*c), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& err) {
      fail(err.what());
    }
  });
  io.run();
  bench::print_result("wscoro", c->opts, c->m);
  return 0;
}
