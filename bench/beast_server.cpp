// The echo server both Websocket clients are measured against: Boost.Beast,
// so that neither wscoro nor the Beast client talks to its own code.
//
//   bench_echo_server [--port N] [--beast-writes]
//
// Prints `PORT n` (the bound port; 0 picks one), then echoes every message
// on every connection until killed. One thread; permessage-deflate off.
//
// It must not be the bottleneck (see DESIGN.md "Measuring speed honestly"):
// a server that makes one send() per echoed 64 B message caps every client
// near the same figure. So, per connection:
//
//  - a reader coroutine reads messages with Beast (ws.async_read: Beast
//    parses the frames, unmasks them and checks their rules) and appends
//    the echo of each, as an unmasked server frame (RFC 6455 5.2 header +
//    payload), to an outbox;
//  - a writer coroutine writes the whole outbox in one write on the socket
//    under the stream. Beast has no call that writes several messages at
//    once, so the writer encodes the (trivial, unmasked) server frames
//    itself and writes them with net::async_write(ws.next_layer(), ...).
//    Beast's own writes (the reply to the client's close) only happen after
//    every echo was written, so the two never interleave.
//  - "the echoes of one read": Beast completes an async_read whose message
//    is already in its buffer without touching the socket, but through a
//    post. The writer, once woken, yields (net::post) until a round passes
//    in which the reader queued nothing: by then the reader has drained what
//    Beast had buffered and waits on the socket, and the outbox holds the
//    echoes of everything that read brought.
//
// --beast-writes instead writes each echo with ws.async_write (one message,
// one send()), as a plain Beast echo server would: kept to show how much the
// batching matters.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using net::awaitable;
using net::use_awaitable;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

bool beast_writes = false;

class wakeup {
 public:
  explicit wakeup(const net::any_io_executor& ex) : timer_(ex, net::steady_timer::time_point::max()) {}
  awaitable<void> wait() {
    error_code ignored;
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

struct connection {
  explicit connection(tcp::socket s) : ws(std::move(s)), wake(ws.get_executor()) {}
  websocket::stream<tcp::socket> ws;
  wakeup wake;
  bool reading_done = false;
  std::uint64_t produced = 0;  // echoes queued so far
  // Batched writes: encoded frames.
  std::string outbox;
  std::string writing;
  // --beast-writes: payloads, and whether each was text.
  std::deque<std::pair<std::string, bool>> messages;
};

// An unmasked server frame header (RFC 6455 5.2) for a whole message.
void append_header(std::string& out, bool text, std::size_t n) {
  out.push_back(static_cast<char>(0x80 | (text ? 0x1 : 0x2)));
  if (n < 126) {
    out.push_back(static_cast<char>(n));
  } else if (n < 65536) {
    out.push_back(static_cast<char>(126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((static_cast<std::uint64_t>(n) >> shift) & 0xFF));
  }
}

awaitable<void> reader(std::shared_ptr<connection> c) {
  beast::flat_buffer buffer;
  for (;;) {
    error_code ec;
    const std::size_t n = co_await c->ws.async_read(buffer, net::redirect_error(use_awaitable, ec));
    if (ec) break;  // websocket::error::closed once Beast has answered the client's close
    const auto data = buffer.cdata();
    const std::string_view payload(static_cast<const char*>(data.data()), n);
    if (beast_writes) {
      c->messages.emplace_back(std::string(payload), c->ws.got_text());
    } else {
      append_header(c->outbox, c->ws.got_text(), n);
      c->outbox.append(payload);
    }
    buffer.consume(n);
    ++c->produced;
    c->wake.notify();
  }
  c->reading_done = true;
  c->wake.notify();
}

awaitable<void> batched_writer(std::shared_ptr<connection> c) {
  const auto ex = c->ws.get_executor();
  for (;;) {
    while (c->outbox.empty() && !c->reading_done) co_await c->wake.wait();
    if (c->outbox.empty()) co_return;
    // Let the reader drain what Beast already holds (see the top of the file).
    for (std::uint64_t seen = c->produced;; seen = c->produced) {
      co_await net::post(ex, use_awaitable);
      if (c->produced == seen) break;
    }
    c->writing.swap(c->outbox);
    error_code ec;
    co_await net::async_write(c->ws.next_layer(), net::buffer(c->writing), net::redirect_error(use_awaitable, ec));
    c->writing.clear();
    if (ec) co_return;
  }
}

awaitable<void> beast_writer(std::shared_ptr<connection> c) {
  for (;;) {
    while (c->messages.empty() && !c->reading_done) co_await c->wake.wait();
    if (c->messages.empty()) co_return;
    auto [payload, text] = std::move(c->messages.front());
    c->messages.pop_front();
    c->ws.text(text);
    error_code ec;
    co_await c->ws.async_write(net::buffer(payload), net::redirect_error(use_awaitable, ec));
    if (ec) co_return;
  }
}

awaitable<void> serve(tcp::socket socket) {
  socket.set_option(tcp::no_delay(true));
  auto c = std::make_shared<connection>(std::move(socket));
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds(30);
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  c->ws.set_option(timeouts);
  c->ws.auto_fragment(false);
  c->ws.binary(true);
  c->ws.read_message_max(64 * 1024 * 1024);
  error_code ec;
  co_await c->ws.async_accept(net::redirect_error(use_awaitable, ec));
  if (ec) co_return;
  const auto ex = c->ws.get_executor();
  if (beast_writes) {
    net::co_spawn(ex, beast_writer(c), net::detached);
  } else {
    net::co_spawn(ex, batched_writer(c), net::detached);
  }
  co_await reader(c);
}

awaitable<void> accept_loop(tcp::acceptor& acceptor) {
  for (;;) {
    error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(net::redirect_error(use_awaitable, ec));
    if (ec) continue;  // e.g. EMFILE: keep serving the connections we have
    net::co_spawn(acceptor.get_executor(), serve(std::move(socket)), net::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  unsigned short port = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--port" && i + 1 < argc) {
      port = static_cast<unsigned short>(std::stoul(argv[++i]));
    } else if (arg == "--beast-writes") {
      beast_writes = true;
    } else {
      std::fprintf(stderr, "usage: %s [--port N] [--beast-writes]\n", argv[0]);
      return 2;
    }
  }
  net::io_context io(1);
  tcp::acceptor acceptor(io);
  const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(net::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(4096);
  std::printf("PORT %u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
  std::fflush(stdout);
  net::co_spawn(io, accept_loop(acceptor), net::detached);
  io.run();
  return 0;
}
