// An echo client: sends every text or binary message back unchanged, and
// exits 0 once the server has closed the session cleanly.
//
//   wsecho [--compress] ws://host:port/target
//
// --compress offers permessage-deflate with its default parameters.
#include <wscoro/wscoro.hpp>

#include <iostream>
#include <string_view>

#include "run_main.hpp"
#include "upgraded_or_report.hpp"

asio::awaitable<int> echo(asio::any_io_executor ex, std::string url, bool compress) {
  auto conn = co_await wscoro::connection::open(ex, url);
  wscoro::websocket_options options;
  if (compress) options.compress = wscoro::deflate_options();
  wscoro::fields no_headers;
  auto result = co_await conn.ws_upgrade(conn.target(), std::move(no_headers), std::move(options));
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

int main(int argc, char** argv) {
  // --compress, when it comes first, offers permessage-deflate; the URL follows.
  const bool compress = argc > 1 && std::string_view(argv[1]) == "--compress";
  if (compress) {
    --argc;
    ++argv;
  }
  return samples::run_with_url(argc, argv, "wsecho [--compress] URL",
                               [compress](asio::any_io_executor ex, const std::string& url) {
                                 return echo(std::move(ex), url, compress);
                               });
}
