// Lines from stdin go out as text frames; every frame received is printed;
// EOF on stdin closes the session deliberately.
//
//   wscat [--proxy http://[user:password@]proxyhost:port] [--trace] ws://host:port/target
//
// --trace prints what the connection does, with timings, to stderr.
#include <wscoro/wscoro.hpp>

#include <asio/co_spawn.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/read_until.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <string>
#include <string_view>

#include "print_frame.hpp"
#include "run_main.hpp"
#include "trace_printer.hpp"
#include "upgraded_or_report.hpp"

// Sends each line of stdin, then closes. A regular file cannot be watched
// by epoll, so it is read directly.
asio::awaitable<void> send_lines(asio::any_io_executor ex, wscoro::websocket& ws) {
  struct stat st {};
  if (::fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
    std::string line;
    while (std::getline(std::cin, line) && ws.is_open()) co_await ws.send(wscoro::text{line});
  } else {
    asio::posix::stream_descriptor in(ex, ::dup(STDIN_FILENO));
    std::string pending;
    for (;;) {
      std::error_code ec;
      const std::size_t n =
          co_await asio::async_read_until(in, asio::dynamic_buffer(pending), '\n', asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      std::string line = pending.substr(0, n - 1);
      pending.erase(0, n);
      if (!ws.is_open()) co_return;
      co_await ws.send(wscoro::text{std::move(line)});
    }
    if (!pending.empty() && ws.is_open()) co_await ws.send(wscoro::text{pending});
  }
  std::error_code ignored;
  co_await ws.close(wscoro::close_code::normal, {}, ignored);
}

asio::awaitable<int> cat(asio::any_io_executor ex, std::string url, wscoro::connection_options options) {
  auto conn = co_await wscoro::connection::open(ex, url, std::move(options));
  auto result = co_await conn.ws_upgrade(conn.target());
  auto* up = samples::upgraded_or_report(result);
  if (!up) co_return 2;
  auto& ws = up->socket;
  asio::co_spawn(ex, send_lines(ex, ws), [](std::exception_ptr) {});
  while (auto f = co_await ws.receive()) std::cout << samples::describe(*f) << std::endl;
  if (ws.error()) std::cerr << "session ended: " << ws.error().message() << "\n";
  co_return ws.error() ? 1 : 0;
}

int main(int argc, char** argv) {
  wscoro::connection_options options;
  std::string url;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--proxy" && i + 1 < argc) {
      options.proxy_url = argv[++i];
    } else if (arg == "--trace") {
      options.tracer = std::make_shared<samples::trace_printer>(std::cerr);
    } else if (url.empty() && !arg.starts_with("--")) {
      url = arg;
    } else {
      url.clear();
      break;
    }
  }
  if (url.empty()) {
    std::cerr << "usage: wscat [--proxy http://[user:password@]host:port] [--trace] URL\n";
    return 2;
  }
  // The stdin reader may still be waiting when the session ends: leave without it.
  std::_Exit(samples::run_main([&](asio::any_io_executor ex) { return cat(ex, url, options); }));
}
