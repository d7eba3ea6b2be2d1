// An echo client: sends every text or binary message back unchanged, and
// exits 0 once the server has closed the session cleanly.
//
//   wsecho ws://host:port/target
#include <wscoro/wscoro.hpp>

#include <iostream>

#include "run_main.hpp"
#include "upgraded_or_report.hpp"

asio::awaitable<int> echo(asio::any_io_executor ex, std::string url) {
  auto conn = co_await wscoro::connection::open(ex, url);
  auto result = co_await conn.ws_upgrade(conn.target());
  auto* up = samples::upgraded_or_report(result);
  if (!up) co_return 2;
  auto& ws = up->socket;
  while (auto f = co_await ws.receive()) {
    if (std::holds_alternative<wscoro::text>(*f) || std::holds_alternative<wscoro::binary>(*f)) {
      std::error_code ec;
      co_await ws.send(std::move(*f), ec);
      if (ec && ec != wscoro::error::session_ended) {
        std::cerr << "send failed: " << ec.message() << "\n";
        co_return 1;
      }
    }
  }
  if (ws.error()) {
    std::cerr << "session ended: " << ws.error().message() << "\n";
    co_return 1;
  }
  co_return 0;
}

int main(int argc, char** argv) { return samples::run_with_url(argc, argv, "wsecho URL", echo); }
