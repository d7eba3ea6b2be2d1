// The lifecycle part of the README's guide as a program (see guide.cpp):
// timeouts, keepalive, backpressure and reconnect options, cancellation,
// and receive_event(). Against an echo server it waits 200 ms for nothing,
// has one message echoed, closes, and prints what it received:
//
//   lifecycle ws://127.0.0.1:PORT/echo
#include <wscoro/wscoro.hpp>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <iostream>

#include "../run_main.hpp"

using namespace std::chrono_literals;

// [guide:cancellation]
asio::awaitable<void> wait_a_little(wscoro::websocket& ws) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(ws.get_executor(), 200ms);
  auto first = co_await (ws.receive() || timer.async_wait(asio::use_awaitable));
  if (first.index() == 1) std::cout << "nothing within 200 ms; the session goes on\n";
}
// [guide:end]

// [guide:receive_event]
asio::awaitable<void> follow(wscoro::websocket& ws) {
  while (auto e = co_await ws.receive_event()) {
    if (auto* d = std::get_if<wscoro::down>(&*e))
      std::cout << "down: " << d->reason.message() << "; " << d->unsent_frames << " frames may not have arrived\n";
    else if (std::holds_alternative<wscoro::up>(*e))
      std::cout << "up again\n";
    else if (auto* t = std::get_if<wscoro::text>(&*e))
      std::cout << "text: " << t->data << "\n";
    else if (auto* c = std::get_if<wscoro::close_frame>(&*e))
      std::cout << "close: " << c->code << "\n";
  }
}
// [guide:end]

asio::awaitable<int> stay_up(asio::any_io_executor ex, std::string url) {
  // [guide:timeouts]
  wscoro::connection_options connect;
  connect.connect_timeout = 5s;  // DNS and TCP: error::connect_timeout
  connect.tls_handshake_timeout = 5s;
  connect.request_timeout = 10s;
  wscoro::websocket_options options;
  options.handshake_timeout = 5s;
  options.closing_timeout = 2s;
  // [guide:end]

  // [guide:keepalive]
  options.keepalive = 20s;    // a ping after 20 s without receiving anything,
  options.pong_timeout = 5s;  // then 5 s more of silence loses the connection
  // [guide:end]

  // [guide:backpressure]
  options.receive_queue_frames = 256;  // Gun's flow: the socket is not read beyond this
  options.receive_queue_bytes = 4 * 1024 * 1024;
  options.send_queue_bytes = 1024 * 1024;  // send() waits beyond this
  // [guide:end]

  // [guide:reconnect]
  options.retry.attempts = 5;  // after each unexpected loss
  options.retry.initial_delay = 500ms;
  options.retry.backoff = 2.0;
  options.retry.max_delay = 10s;
  options.send_waits_while_down = true;  // rather than error::connection_down
  // [guide:end]

  auto conn = co_await wscoro::connection::open(ex, url, connect);
  auto result = co_await conn.ws_upgrade(conn.target(), {}, options);
  auto* up = std::get_if<wscoro::upgraded>(&result);
  if (!up) co_return 2;
  auto& ws = up->socket;
  co_await wait_a_little(ws);
  co_await ws.send(wscoro::text("still here"));
  if (auto echo = co_await ws.receive(); echo && std::holds_alternative<wscoro::text>(*echo))
    std::cout << "echoed: " << std::get<wscoro::text>(*echo).data << "\n";
  co_await ws.close();
  co_await follow(ws);
  co_return ws.error() ? 1 : 0;
}

int main(int argc, char** argv) { return samples::run_with_url(argc, argv, "lifecycle URL", stay_up); }
