// The README's guide as a program. Every ```cpp block of README.md is the
// text between a "[guide:NAME]" and a "[guide:end]" line of this file or of
// lifecycle.cpp (tests/guide checks it), so the guide's code is compiled.
// Against an echo server it upgrades, sends, closes and prints what it
// received:
//
//   guide ws://127.0.0.1:PORT/echo
#include <wscoro/wscoro.hpp>

#include <iostream>

#include "../run_main.hpp"

// [guide:open_options]
asio::awaitable<void> open_variants(asio::any_io_executor ex) {
  wscoro::connection_options tls;
  tls.tls_ca_file = "/etc/myapp/ca.pem";  // a private CA, trusted besides the system store
  tls.connect_timeout = std::chrono::seconds(5);
  auto secure = co_await wscoro::connection::open(ex, "wss://example.org:8443/live", tls);

  wscoro::connection_options local;
  local.unix_socket_path = "/run/myapp/ws.sock";  // the URL still gives the Host header and the target
  auto over_unix = co_await wscoro::connection::open(ex, "ws://localhost/live", local);

  // Every operation also has an overload that sets an error_code instead of throwing.
  std::error_code ec;
  const wscoro::connection_options defaults;
  auto maybe = co_await wscoro::connection::open(ex, "ws://127.0.0.1:9", defaults, ec);
  if (ec) std::cerr << "cannot connect: " << ec.message() << "\n";
}
// [guide:end]

// [guide:request]
asio::awaitable<void> check_health(wscoro::connection& conn) {
  auto health = co_await conn.request(wscoro::request("GET", "/health"));
  std::cout << health.status << " " << health.reason << ": " << health.body << "\n";
  if (auto type = health.headers.find("content-type")) std::cout << "content-type: " << *type << "\n";

  const wscoro::fields json{{"content-type", "application/json"}};
  auto created = co_await conn.request(wscoro::request("POST", "/items", json, R"({"name": "x"})"));
  std::cout << created.status << "\n";
}
// [guide:end]

// [guide:subprotocols]
asio::awaitable<void> upgrade_with_options(wscoro::connection& conn) {
  wscoro::websocket_options options;
  options.protocols = {"v2.chat", "v1.chat"};  // offered in order of preference
  options.max_message_size = 1024 * 1024;
  auto result = co_await conn.ws_upgrade("/live", {}, options);
  if (auto* up = std::get_if<wscoro::upgraded>(&result)) std::cout << "speaking " << up->protocol << "\n";
}
// [guide:end]

// [guide:compress]
asio::awaitable<void> upgrade_compressed(wscoro::connection& conn) {
  wscoro::websocket_options options;
  options.compress = wscoro::deflate_options();  // Gun's `compress`: offer permessage-deflate
  auto result = co_await conn.ws_upgrade("/feed", {}, options);
  if (auto* up = std::get_if<wscoro::upgraded>(&result)) {
    // e.g. "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12";
    // empty when the server declined: the session then runs uncompressed.
    std::cout << "extensions: " << up->extensions << "\n";
  }
}
// [guide:end]

// [guide:send]
asio::awaitable<void> send_some(wscoro::websocket& ws) {
  co_await ws.send(wscoro::text("Hello!"));
  co_await ws.send(wscoro::binary(std::string("\x01\x02", 2)));
  co_await ws.send(wscoro::ping("still there?"));  // the server answers with a pong

  std::vector<wscoro::frame> batch;  // back to back, in one write where it fits
  batch.push_back(wscoro::text("one"));
  batch.push_back(wscoro::text("two"));
  co_await ws.send(std::move(batch));
}
// [guide:end]

// [guide:receive]
void print(const wscoro::frame& frame) {
  if (auto* t = std::get_if<wscoro::text>(&frame)) std::cout << "text: " << t->data << "\n";
  else if (auto* b = std::get_if<wscoro::binary>(&frame)) std::cout << "binary: " << b->data.size() << " bytes\n";
  else if (auto* p = std::get_if<wscoro::pong>(&frame)) std::cout << "pong: " << p->data << "\n";
  else if (auto* c = std::get_if<wscoro::close_frame>(&frame)) std::cout << "close: " << c->code << "\n";
  // and wscoro::ping: pings are answered for you, and delivered too unless silence_pings is set
}

asio::awaitable<void> print_everything(wscoro::websocket& ws) {
  while (auto frame = co_await ws.receive()) print(*frame);
  // Empty once the session has ended; error() says why (empty after a clean close).
  std::cout << "ended: " << (ws.error() ? ws.error().message() : "clean close") << "\n";
}
// [guide:end]

// [guide:close]
asio::awaitable<void> say_goodbye(wscoro::websocket& ws) {
  co_await ws.close(wscoro::close_code::normal, "bye");  // or send(wscoro::close_frame(1000, "bye"))
}
// [guide:end]

// [guide:open]
asio::awaitable<void> chat(asio::any_io_executor ex, std::string url) {
  auto conn = co_await wscoro::connection::open(ex, url);  // "wss://example.org/chat", for one
// [guide:end]

  // [guide:upgrade]
  const wscoro::fields headers{{"sec-websocket-protocol", "chat"}, {"x-client", "guide"}};
  auto result = co_await conn.ws_upgrade(conn.target(), headers);  // the URL's path, or any target
  if (auto* r = std::get_if<wscoro::refused>(&result)) {
    std::cerr << "refused: " << r->response.status << " " << r->response.reason << "\n" << r->response.body;
    co_return;
  }
  if (auto* f = std::get_if<wscoro::failed>(&result)) {
    std::cerr << "failed: " << f->error.message() << "\n";  // e.g. wscoro::error::accept_key_mismatch
    co_return;
  }
  auto& up = std::get<wscoro::upgraded>(result);
  std::cout << "subprotocol: " << up.protocol << "\n";  // one we offered, or empty
  wscoro::websocket& ws = up.socket;                     // up.headers: the 101's headers
  // [guide:end]

  co_await send_some(ws);
  // An echo server answers the five frames; a close sent earlier would end
  // the session before its answers.
  for (int answers = 0; answers < 5; ++answers)
    if (auto frame = co_await ws.receive()) print(*frame);
  co_await say_goodbye(ws);
  co_await print_everything(ws);  // the server's close frame
}

asio::awaitable<int> run_chat(asio::any_io_executor ex, std::string url) {
  co_await chat(ex, url);
  co_return 0;
}

int main(int argc, char** argv) { return samples::run_with_url(argc, argv, "guide URL", run_chat); }
