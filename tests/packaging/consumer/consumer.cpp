// A user's program: upgrades, sends one text message, expects it echoed,
// closes. Prints "echoed: MESSAGE" and exits 0 when all of that happened.
//
//   consumer ws://127.0.0.1:PORT/echo MESSAGE
#include <wscoro/wscoro.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <iostream>

asio::awaitable<int> echo_once(asio::any_io_executor ex, std::string url, std::string message) {
  auto conn = co_await wscoro::connection::open(ex, url);
  auto result = co_await conn.ws_upgrade(conn.target());
  auto* up = std::get_if<wscoro::upgraded>(&result);
  if (!up) {
    std::cerr << "not upgraded\n";
    co_return 2;
  }
  co_await up->socket.send(wscoro::text(message));
  auto answer = co_await up->socket.receive();
  const auto* echoed = answer ? std::get_if<wscoro::text>(&*answer) : nullptr;
  co_await up->socket.close();
  if (!echoed || echoed->data != message) {
    std::cerr << "no echo\n";
    co_return 3;
  }
  std::cout << "echoed: " << echoed->data << std::endl;
  co_return 0;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: consumer URL MESSAGE\n";
    return 2;
  }
  asio::io_context io;
  int status = 1;
  asio::co_spawn(io, echo_once(io.get_executor(), argv[1], argv[2]), [&](std::exception_ptr e, int result) {
    status = e ? 1 : result;
  });
  io.run();
  return status;
}
