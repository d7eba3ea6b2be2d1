// The sample programs, run as processes against a scripted server that
// runs on its own thread and checks every byte they send.
#include <doctest/doctest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <functional>
#include <thread>

#include "child_process.hpp"
#include "scripted_peer.hpp"

using namespace wscoro;
using namespace wscoro::test;
using asio::awaitable;
using namespace std::chrono_literals;

namespace {

// A scripted server on its own io_context and thread; `script` runs once
// per accepted connection until it returns.
class server_thread {
 public:
  // The script is kept here: a lambda coroutine reads its captures through
  // the lambda object, which must outlive the coroutine.
  explicit server_thread(std::function<awaitable<void>(scripted_server&)> script)
      : server_(io_.get_executor()), script_(std::move(script)) {
    asio::co_spawn(io_, script_(server_), [this](std::exception_ptr e) { failure_ = e; });
    thread_ = std::thread([this] { io_.run_for(20s); });
  }
  ~server_thread() {
    if (thread_.joinable()) thread_.join();
  }
  std::string url(std::string_view path = "/") const { return server_.url(path); }
  /// Waits for the script to finish and rethrows what escaped it.
  void join() {
    thread_.join();
    if (failure_) std::rethrow_exception(failure_);
  }

 private:
  asio::io_context io_;
  scripted_server server_;
  std::function<awaitable<void>(scripted_server&)> script_;
  std::exception_ptr failure_;
  std::thread thread_;
};

}  // namespace

TEST_CASE("sample wsecho: echoes text and binary unchanged, exits 0 after the server closes") {
  std::vector<frame> echoed;
  std::optional<frame> close_reply;
  server_thread server([&](scripted_server& s) -> awaitable<void> {
    auto sock = co_await accept_upgrade(s);
    const std::vector<frame> sent{text("one"), binary(std::string("\x00\x01two", 5)), text(""),
                                  binary(std::string(70000, '\x7f')), text("κόσμε")};
    std::string bytes = server_frame(ping("not echoed"));
    for (const frame& f : sent) bytes += server_frame(f);
    co_await write_all(sock, bytes);
    client_frames from_client;
    while (echoed.size() < sent.size() + 1) {
      auto f = co_await from_client.next(sock);
      if (!f) break;
      echoed.push_back(*f);
    }
    co_await write_all(sock, server_frame(close_frame(1000, "done")));
    close_reply = co_await from_client.next(sock);
    sock.close();
  });
  child_process wsecho({WSCORO_SAMPLE_WSECHO, server.url("/echo")});
  CHECK(wsecho.wait_exit(15s) == 0);
  server.join();
  const std::vector<frame> expected{pong("not echoed"), text("one"), binary(std::string("\x00\x01two", 5)), text(""),
                                    binary(std::string(70000, '\x7f')), text("κόσμε")};
  CHECK(echoed == expected);
  REQUIRE(close_reply);
  CHECK(std::get<close_frame>(*close_reply).code == 1000);
}

TEST_CASE("sample wsecho: a refused upgrade and a protocol error exit non-zero") {
  server_thread refusing([](scripted_server& s) -> awaitable<void> {
    auto sock = co_await s.accept();
    co_await read_request_head(sock);
    co_await write_all(sock, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    sock.close();
  });
  child_process refused({WSCORO_SAMPLE_WSECHO, refusing.url()});
  CHECK(refused.wait_exit(15s) == 2);
  refusing.join();

  std::optional<frame> client_close;
  server_thread hostile([&](scripted_server& s) -> awaitable<void> {
    auto sock = co_await accept_upgrade(s);
    co_await write_all(sock, std::string("\x81\x02\xc0\xaf", 4));  // overlong UTF-8
    client_frames from_client;
    client_close = co_await from_client.next(sock);
    sock.close();
  });
  child_process failing({WSCORO_SAMPLE_WSECHO, hostile.url()});
  CHECK(failing.wait_exit(15s) == 1);
  hostile.join();
  REQUIRE(client_close);
  CHECK(std::get<close_frame>(*client_close).code == 1007);
}

TEST_CASE("sample wscat: stdin lines go out as text, frames are printed, EOF closes") {
  std::vector<frame> received;
  server_thread server([&](scripted_server& s) -> awaitable<void> {
    auto sock = co_await accept_upgrade(s);
    co_await write_all(sock, server_frame(text("from server")) + server_frame(binary("\x01\x02")));
    received = co_await frames_until_close(sock);
  });
  child_process wscat({WSCORO_SAMPLE_WSCAT, server.url("/cat")});
  wscat.write_stdin("line one\nline two\nlast line without newline");
  wscat.close_stdin();
  const std::string printed = wscat.read_all(15s);
  CHECK(wscat.wait_exit(15s) == 0);
  server.join();
  CHECK(printed == "text: from server\nbinary: 2 bytes [0102]\nclose: 1000\n");
  const std::vector<frame> expected{text("line one"), text("line two"), text("last line without newline"),
                                    close_frame(1000)};
  CHECK(received == expected);
}

TEST_CASE("sample wscat --proxy: the session goes through an HTTP CONNECT proxy") {
  std::vector<frame> received;
  server_thread server([&](scripted_server& s) -> awaitable<void> {
    auto sock = co_await accept_upgrade(s);
    co_await write_all(sock, server_frame(text("via proxy")));
    received = co_await frames_until_close(sock);
  });
  auto proxy = start_connect_proxy({"--auth", "me:pw"});
  child_process wscat(
      {WSCORO_SAMPLE_WSCAT, "--proxy", "http://me:pw@127.0.0.1:" + std::to_string(proxy->port), server.url("/cat")});
  wscat.write_stdin("through\n");
  wscat.close_stdin();
  const std::string printed = wscat.read_all(15s);
  CHECK(wscat.wait_exit(15s) == 0);
  server.join();
  CHECK(printed == "text: via proxy\nclose: 1000\n");
  CHECK(received == std::vector<frame>{text("through"), close_frame(1000)});
  const std::string target = server.url("/cat").substr(5, server.url("/cat").size() - 9);  // 127.0.0.1:port
  CHECK(proxy->process.read_line(5s) == "REQUEST CONNECT " + target + " HTTP/1.1");
}

TEST_CASE("sample reconnect: survives a dropped connection, prints down and up, ends at the server's close") {
  std::vector<std::string> greetings;
  server_thread server([&](scripted_server& s) -> awaitable<void> {
    auto first = co_await accept_upgrade(s);
    client_frames from_first;
    auto hello = co_await from_first.next(first);
    REQUIRE(hello);
    greetings.push_back(std::get<text>(*hello).data);
    first.close();  // the server "crashes"
    auto second = co_await accept_upgrade(s);
    client_frames from_second;
    auto again = co_await from_second.next(second);
    REQUIRE(again);
    greetings.push_back(std::get<text>(*again).data);
    co_await write_all(second, server_frame(close_frame(1001, "restarting for good")));
    co_await frames_until_close(second, close_frame(1001));
  });
  child_process reconnect({WSCORO_SAMPLE_RECONNECT, server.url("/live")});
  const std::string printed = reconnect.read_all(20s);
  CHECK(reconnect.wait_exit(20s) == 0);
  server.join();
  CHECK(printed ==
        "up\n"
        "down: the peer closed the connection without a Websocket close handshake (0 frames unsent)\n"
        "up again\n"
        "close: 1001 restarting for good\n");
  CHECK(greetings == std::vector<std::string>{"hello", "hello again"});
}
