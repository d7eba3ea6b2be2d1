// The ceiling: the same workload over plain TCP with length-prefixed
// messages (4-byte big-endian length, then the payload), no Websocket.
//
//   bench_raw --server [--port N]          prints `PORT n`, echoes until killed
//   bench_raw --url tcp://127.0.0.1:PORT/ --size 64 --count 100000 --window 64 --conns 1 --mode echo
//
// Server: per connection a reader coroutine appends every complete message
// of each read to an outbox, and a writer coroutine writes the whole outbox
// in one write (the echoes of one read, batched, like bench_echo_server).
// Client: as bench_wscoro: a writer keeps `window` messages in flight,
// writing all returned credit in one write; a reader counts the echoes.
// Prints one `result impl=raw ...` line.
#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common.hpp"

namespace {

using asio::awaitable;
using asio::use_awaitable;
using tcp = asio::ip::tcp;

constexpr std::size_t read_chunk = 256 * 1024;

class wakeup {
 public:
  explicit wakeup(const asio::any_io_executor& ex) : timer_(ex, asio::steady_timer::time_point::max()) {}
  awaitable<void> wait() {
    std::error_code ignored;
    waiting_ = true;
    co_await timer_.async_wait(asio::redirect_error(use_awaitable, ignored));
    waiting_ = false;
  }
  void notify() {
    if (waiting_) timer_.cancel();
  }

 private:
  asio::steady_timer timer_;
  bool waiting_ = false;
};

std::uint32_t load_be32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) | (std::uint32_t{u[2]} << 8) | u[3];
}

void store_be32(char* p, std::uint32_t v) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}

void fail(const std::string& what) {
  std::fprintf(stderr, "bench_raw: %s\n", what.c_str());
  std::exit(1);
}

// ---------------------------------------------------------------- server

struct server_conn {
  explicit server_conn(tcp::socket s) : socket(std::move(s)), wake(socket.get_executor()) {}
  tcp::socket socket;
  wakeup wake;
  bool reading_done = false;
  std::string outbox;
  std::string writing;
};

awaitable<void> server_reader(std::shared_ptr<server_conn> c) {
  std::string in(read_chunk, '\0');
  std::size_t have = 0;
  for (;;) {
    if (in.size() - have < read_chunk / 4) in.resize(in.size() * 2);
    std::error_code ec;
    const std::size_t n = co_await c->socket.async_read_some(asio::buffer(in.data() + have, in.size() - have),
                                                             asio::redirect_error(use_awaitable, ec));
    if (ec) break;
    have += n;
    // The complete messages at the front go back as they are.
    std::size_t complete = 0;
    while (have - complete >= 4) {
      const std::size_t len = load_be32(in.data() + complete);
      if (have - complete - 4 < len) break;
      complete += 4 + len;
    }
    if (complete == 0) continue;
    c->outbox.append(in, 0, complete);
    std::memmove(in.data(), in.data() + complete, have - complete);
    have -= complete;
    c->wake.notify();
  }
  c->reading_done = true;
  c->wake.notify();
}

awaitable<void> server_writer(std::shared_ptr<server_conn> c) {
  for (;;) {
    while (c->outbox.empty() && !c->reading_done) co_await c->wake.wait();
    if (c->outbox.empty()) co_return;
    c->writing.swap(c->outbox);
    std::error_code ec;
    co_await asio::async_write(c->socket, asio::buffer(c->writing), asio::redirect_error(use_awaitable, ec));
    c->writing.clear();
    if (ec) co_return;
  }
}

awaitable<void> accept_loop(tcp::acceptor& acceptor) {
  for (;;) {
    std::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec) continue;
    socket.set_option(tcp::no_delay(true));
    auto c = std::make_shared<server_conn>(std::move(socket));
    asio::co_spawn(acceptor.get_executor(), server_writer(c), asio::detached);
    asio::co_spawn(acceptor.get_executor(), server_reader(c), asio::detached);
  }
}

int run_server(unsigned short port) {
  asio::io_context io(1);
  tcp::acceptor acceptor(io);
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(4096);
  std::printf("PORT %u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
  std::fflush(stdout);
  asio::co_spawn(io, accept_loop(acceptor), asio::detached);
  io.run();
  return 0;
}

// ---------------------------------------------------------------- client

struct client {
  client(asio::any_io_executor ex, bench::options o)
      : executor(std::move(ex)), opts(std::move(o)), payload(opts.size, 'x'), all_done(executor) {
    store_be32(prefix, static_cast<std::uint32_t>(opts.size));
  }
  asio::any_io_executor executor;
  bench::options opts;
  std::string payload;
  char prefix[4]{};
  bench::measurement m;
  std::size_t running = 0;
  wakeup all_done;
};

struct client_conn {
  client_conn(tcp::socket s, std::size_t window)
      : socket(std::move(s)), credit_returned(socket.get_executor()), times(window), credits(window) {}
  tcp::socket socket;
  wakeup credit_returned;
  bench::send_times times;
  std::size_t credits;
  std::size_t sent = 0;
  std::string out;
  std::vector<asio::const_buffer> gather;
};

awaitable<void> client_writer(client& c, client_conn& s) {
  const bool small = c.opts.size < 64 * 1024;
  while (s.sent < c.opts.count) {
    if (s.credits == 0) {
      co_await s.credit_returned.wait();
      continue;
    }
    const std::size_t n = std::min(s.credits, c.opts.count - s.sent);
    s.credits -= n;
    s.sent += n;
    const auto now = bench::clock::now();
    for (std::size_t i = 0; i < n; ++i) s.times.push(now);
    // Small messages are copied into one buffer, large ones gathered.
    if (small) {
      s.out.clear();
      for (std::size_t i = 0; i < n; ++i) {
        s.out.append(c.prefix, 4);
        s.out.append(c.payload);
      }
      co_await asio::async_write(s.socket, asio::buffer(s.out), use_awaitable);
    } else {
      s.gather.clear();
      for (std::size_t i = 0; i < n; ++i) {
        s.gather.push_back(asio::buffer(c.prefix, 4));
        s.gather.push_back(asio::buffer(c.payload));
      }
      co_await asio::async_write(s.socket, s.gather, use_awaitable);
    }
  }
}

// Counts complete messages in the byte stream without keeping payloads.
struct message_counter {
  char header[4]{};
  std::size_t header_have = 0;
  std::size_t payload_left = 0;
  bool in_payload = false;

  // Feeds bytes; calls done() for each complete message.
  template <class Done>
  void feed(const char* p, std::size_t n, Done&& done) {
    while (n != 0) {
      if (!in_payload) {
        const std::size_t take = std::min(n, 4 - header_have);
        std::memcpy(header + header_have, p, take);
        header_have += take;
        p += take;
        n -= take;
        if (header_have < 4) return;
        header_have = 0;
        payload_left = load_be32(header);
        in_payload = true;
      }
      const std::size_t take = std::min(n, payload_left);
      payload_left -= take;
      p += take;
      n -= take;
      if (payload_left == 0) {
        in_payload = false;
        done();
      }
    }
  }
};

awaitable<void> client_reader(client& c, client_conn& s) {
  std::vector<char> in(std::min<std::size_t>(read_chunk, std::max<std::size_t>(4096, 4 * (c.opts.size + 4) * c.opts.window)));
  message_counter counter;
  std::size_t received = 0;
  while (received < c.opts.count) {
    const std::size_t n = co_await s.socket.async_read_some(asio::buffer(in), use_awaitable);
    counter.feed(in.data(), n, [&] {
      ++received;
      c.m.rtt.add(s.times.pop(), bench::clock::now());
      ++s.credits;
    });
    s.credit_returned.notify();
  }
  if (--c.running == 0) c.all_done.notify();
}

awaitable<void> latency_loop(client& c, client_conn& s) {
  std::vector<char> in(std::min<std::size_t>(read_chunk, c.opts.size + 4));
  message_counter counter;
  for (std::size_t i = 0; i < c.opts.count; ++i) {
    const auto sent_at = bench::clock::now();
    const std::array<asio::const_buffer, 2> message{asio::buffer(c.prefix, 4), asio::buffer(c.payload)};
    co_await asio::async_write(s.socket, message, use_awaitable);
    bool echoed = false;
    while (!echoed) {
      const std::size_t n = co_await s.socket.async_read_some(asio::buffer(in), use_awaitable);
      counter.feed(in.data(), n, [&] { echoed = true; });
    }
    c.m.rtt.add(sent_at, bench::clock::now());
  }
  if (--c.running == 0) c.all_done.notify();
}

awaitable<void> run_client(client& c) {
  tcp::resolver resolver(c.executor);
  const auto endpoints = co_await resolver.async_resolve(c.opts.host, c.opts.port, use_awaitable);
  std::vector<std::unique_ptr<client_conn>> conns;
  conns.reserve(c.opts.conns);
  for (std::size_t i = 0; i < c.opts.conns; ++i) {
    tcp::socket socket(c.executor);
    co_await asio::async_connect(socket, endpoints, use_awaitable);
    socket.set_option(tcp::no_delay(true));
    conns.push_back(std::make_unique<client_conn>(std::move(socket), c.opts.window));
  }
  c.running = conns.size();
  c.m.start();
  for (auto& s : conns) {
    if (c.opts.run_mode == bench::mode::latency) {
      asio::co_spawn(c.executor, latency_loop(c, *s), asio::detached);
    } else {
      asio::co_spawn(c.executor, client_writer(c, *s), asio::detached);
      asio::co_spawn(c.executor, client_reader(c, *s), asio::detached);
    }
  }
  while (c.running != 0) co_await c.all_done.wait();
  c.m.stop();
  for (auto& s : conns) {
    std::error_code ignored;
    s->socket.shutdown(tcp::socket::shutdown_both, ignored);
    s->socket.close(ignored);
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool server = false;
  unsigned short port = 0;
  const auto opts = bench::parse_options(argc, argv, [&](std::string_view arg, auto&& value) {
    if (arg == "--server") {
      server = true;
      return true;
    }
    if (arg == "--port") {
      port = static_cast<unsigned short>(bench::parse_size(argv[0], value()));
      return true;
    }
    return false;
  });
  if (server) return run_server(port);
  asio::io_context io(1);
  auto c = std::make_unique<client>(io.get_executor(), opts);
  asio::co_spawn(io, run_client(*c), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& err) {
      fail(err.what());
    }
  });
  io.run();
  bench::print_result("raw", c->opts, c->m);
  return 0;
}
