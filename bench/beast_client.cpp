// The same benchmark client written as a good Boost.Beast user would write
// it: websocket::stream<beast::tcp_stream>, C++20 coroutines
// (asio::awaitable / use_awaitable), binary messages, auto_fragment off,
// permessage-deflate off (Beast's default), TCP_NODELAY as wscoro sets it.
//
//   bench_beast --url ws://127.0.0.1:PORT/ --size 64 --count 100000 --window 64 --conns 1 --mode echo
//               [--write-buffer BYTES]
//
// Beast allows one async_write and one async_read outstanding at a time, so
// each connection has one writer coroutine (one async_write per message,
// while the receiver has returned credit) and one reader coroutine.
// A client masks what it sends: Beast copies the payload into its write
// buffer (write_buffer_bytes, 4096 by default) and masks it there, one
// write per buffer-full. A user who sends large messages raises it, so the
// default here is the message size clamped to [4096, 1 MiB]
// (--write-buffer overrides it).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "common.hpp"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using net::awaitable;
using net::use_awaitable;
using tcp = net::ip::tcp;
using ws_stream = websocket::stream<beast::tcp_stream>;

/// Wakes one coroutine of the same executor: a timer that never expires,
/// cancelled as the signal.
class wakeup {
 public:
  explicit wakeup(const net::any_io_executor& ex) : timer_(ex, net::steady_timer::time_point::max()) {}
  awaitable<void> wait() {
    boost::system::error_code ignored;
    waiting_ = true;
    co_await timer_.async_wait(net::redirect_error(use_awaitable, ignored));
    waiting_ = false;
  }
  void notify() {
    if (waiting_) timer_.cancel();
  }

 private:
  net::steady_timer timer_;
  bool waiting_ = false;
};

struct client {
  client(net::any_io_executor ex, bench::options o, std::size_t wbuf)
      : executor(std::move(ex)), opts(std::move(o)), write_buffer(wbuf), payload(opts.size, 'x'), all_done(executor) {}

  net::any_io_executor executor;
  bench::options opts;
  std::size_t write_buffer;
  std::string payload;
  bench::measurement m;
  std::size_t running = 0;
  wakeup all_done;
};

struct conn_state {
  conn_state(ws_stream stream, std::size_t window)
      : ws(std::move(stream)), credit_returned(ws.get_executor()), times(window), credits(window) {}
  ws_stream ws;
  wakeup credit_returned;
  bench::send_times times;
  std::size_t credits;
  std::size_t sent = 0;
  beast::flat_buffer buffer;
};

void fail(const std::string& what) {
  std::fprintf(stderr, "bench_beast: %s\n", what.c_str());
  std::exit(1);
}

awaitable<ws_stream> open(client& c, const tcp::resolver::results_type& endpoints) {
  beast::tcp_stream stream(c.executor);
  co_await stream.async_connect(endpoints, use_awaitable);
  stream.socket().set_option(tcp::no_delay(true));
  ws_stream ws(std::move(stream));
  ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
  ws.binary(true);
  ws.auto_fragment(false);
  ws.write_buffer_bytes(c.write_buffer);
  ws.read_message_max(64 * 1024 * 1024);
  co_await ws.async_handshake(c.opts.host + ":" + c.opts.port, c.opts.target, use_awaitable);
  co_return ws;
}

awaitable<void> writer(client& c, conn_state& s) {
  const auto message = net::buffer(c.payload);
  while (s.sent < c.opts.count) {
    if (s.credits == 0) {
      co_await s.credit_returned.wait();
      continue;
    }
    --s.credits;
    ++s.sent;
    s.times.push(bench::clock::now());
    co_await s.ws.async_write(message, use_awaitable);
  }
}

awaitable<void> reader(client& c, conn_state& s) {
  for (std::size_t received = 0; received < c.opts.count; ++received) {
    const std::size_t n = co_await s.ws.async_read(s.buffer, use_awaitable);
    if (n != c.opts.size || !s.ws.got_binary()) fail("unexpected message");
    s.buffer.consume(n);
    c.m.rtt.add(s.times.pop(), bench::clock::now());
    ++s.credits;
    s.credit_returned.notify();
  }
  if (--c.running == 0) c.all_done.notify();
}

awaitable<void> latency_loop(client& c, conn_state& s) {
  const auto message = net::buffer(c.payload);
  for (std::size_t i = 0; i < c.opts.count; ++i) {
    const auto sent_at = bench::clock::now();
    co_await s.ws.async_write(message, use_awaitable);
    const std::size_t n = co_await s.ws.async_read(s.buffer, use_awaitable);
    s.buffer.consume(n);
    c.m.rtt.add(sent_at, bench::clock::now());
  }
  if (--c.running == 0) c.all_done.notify();
}

awaitable<void> run(client& c) {
  tcp::resolver resolver(c.executor);
  const auto endpoints = co_await resolver.async_resolve(c.opts.host, c.opts.port, use_awaitable);
  std::vector<std::unique_ptr<conn_state>> conns;
  conns.reserve(c.opts.conns);
  for (std::size_t i = 0; i < c.opts.conns; ++i) {
    auto ws = co_await open(c, endpoints);
    conns.push_back(std::make_unique<conn_state>(std::move(ws), c.opts.window));
  }
  c.running = conns.size();
  c.m.start();
  for (auto& s : conns) {
    if (c.opts.run_mode == bench::mode::latency) {
      net::co_spawn(c.executor, latency_loop(c, *s), net::detached);
    } else {
      net::co_spawn(c.executor, writer(c, *s), net::detached);
      net::co_spawn(c.executor, reader(c, *s), net::detached);
    }
  }
  while (c.running != 0) co_await c.all_done.wait();
  c.m.stop();
  // async_close reads and discards until the server's close frame, then closes TCP.
  for (auto& s : conns) co_await s->ws.async_close(websocket::close_code::normal, use_awaitable);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t write_buffer = 0;
  const auto opts = bench::parse_options(argc, argv, [&](std::string_view arg, auto&& value) {
    if (arg != "--write-buffer") return false;
    write_buffer = bench::parse_size(argv[0], value());
    return true;
  });
  if (write_buffer == 0) write_buffer = std::clamp<std::size_t>(opts.size, 4096, 1024 * 1024);
  net::io_context io(1);
  auto c = std::make_unique<client>(io.get_executor(), opts, write_buffer);
  net::co_spawn(io, run(*c), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& err) {
      fail(err.what());
    }
  });
  io.run();
  bench::print_result("beast", c->opts, c->m);
  return 0;
}
