// Keeps a session alive across server restarts: after an unexpected loss the
// connection is re-opened and upgraded again, and the transitions are
// printed as they happen. A close by either side ends it for good.
//
//   reconnect URL [UNIX_SOCKET_PATH]
#include <wscoro/wscoro.hpp>

#include <iostream>

#include "print_frame.hpp"
#include "run_main.hpp"
#include "upgraded_or_report.hpp"

using namespace std::chrono_literals;

asio::awaitable<int> stay_connected(asio::any_io_executor ex, std::string url, std::string unix_socket) {
  wscoro::connection_options connect;
  connect.unix_socket_path = unix_socket;
  connect.connect_timeout = 5s;

  wscoro::websocket_options options;
  options.retry.attempts = 10;  // per loss
  options.retry.initial_delay = 200ms;
  options.retry.backoff = 1.5;
  options.retry.max_delay = 5s;
  options.keepalive = 10s;  // notice a peer that vanished without a word
  options.pong_timeout = 5s;

  auto conn = co_await wscoro::connection::open(ex, url, connect);
  auto result = co_await conn.ws_upgrade(conn.target(), {}, options);
  auto* up = samples::upgraded_or_report(result);
  if (!up) co_return 2;
  auto& ws = up->socket;
  std::cout << "up" << std::endl;
  co_await ws.send(wscoro::text("hello"));

  while (auto e = co_await ws.receive_event()) {
    std::cout << samples::describe(*e) << std::endl;
    if (std::holds_alternative<wscoro::up>(*e)) co_await ws.send(wscoro::text("hello again"));
  }
  if (ws.error()) {
    std::cerr << "session ended: " << ws.error().message() << "\n";
    co_return 1;
  }
  co_return 0;
}

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: reconnect URL [UNIX_SOCKET_PATH]\n";
    return 2;
  }
  const std::string url = argv[1];
  const std::string unix_socket = argc == 3 ? argv[2] : "";
  return samples::run_main([&](asio::any_io_executor ex) { return stay_connected(ex, url, unix_socket); });
}
