// The README's demo: upgrade with a subprotocol, send text, binary and a
// ping, print what comes back, and close deliberately.
//
//   echo ws://127.0.0.1:PORT
#include <wscoro/wscoro.hpp>

#include <iostream>

#include "print_frame.hpp"
#include "run_main.hpp"
#include "upgraded_or_report.hpp"

asio::awaitable<int> demo(asio::any_io_executor ex, std::string url) {
  auto conn = co_await wscoro::connection::open(ex, url);
  // Declared apart: GCC 12 rejects a braced list inside a co_await expression.
  const wscoro::fields headers{{"sec-websocket-protocol", "chat"}};
  auto result = co_await conn.ws_upgrade("/echo", headers);

  auto* up = samples::upgraded_or_report(result);
  if (!up) co_return 2;
  std::cout << "upgraded; subprotocol: " << (up->protocol.empty() ? "(none)" : up->protocol) << "\n";

  auto& ws = up->socket;
  co_await ws.send(wscoro::text{"Hello, wscoro!"});
  co_await ws.send(wscoro::binary{std::string("\x00\x01\x02\xff", 4)});
  co_await ws.send(wscoro::ping{"are you there?"});
  for (int answers = 0; answers < 3; ++answers) {
    auto f = co_await ws.receive();
    if (!f) break;
    std::cout << "< " << samples::describe(*f) << "\n";
  }

  co_await ws.close(wscoro::close_code::normal, "bye");
  while (auto f = co_await ws.receive()) std::cout << "< " << samples::describe(*f) << "\n";
  std::cout << "closed: " << (ws.error() ? ws.error().message() : "close handshake complete") << "\n";
  co_return ws.error() ? 1 : 0;
}

int main(int argc, char** argv) {
  const std::string url = argc > 1 ? argv[1] : "ws://127.0.0.1:8080";
  return samples::run_main([&](asio::any_io_executor ex) { return demo(ex, url); });
}
