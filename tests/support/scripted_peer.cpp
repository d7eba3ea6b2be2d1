#include "scripted_peer.hpp"

#include <array>

#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/read_until.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "wscoro/http.hpp"
#include "ws/handshake.hpp"

namespace wscoro::test {

using asio::ip::tcp;

scripted_server::scripted_server(const asio::any_io_executor& ex)
    : acceptor_(ex, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}

unsigned short scripted_server::port() const { return acceptor_.local_endpoint().port(); }

std::string scripted_server::url(std::string_view path, std::string_view scheme) const {
  return std::string(scheme) + "://127.0.0.1:" + std::to_string(port()) + std::string(path);
}

asio::awaitable<tcp::socket> scripted_server::accept() { co_return co_await acceptor_.async_accept(asio::use_awaitable); }

asio::awaitable<std::string> read_request_head(tcp::socket& s) {
  std::string head;
  // One byte at a time so that nothing after the head is consumed.
  char c;
  while (head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0) {
    co_await asio::async_read(s, asio::buffer(&c, 1), asio::use_awaitable);
    head.push_back(c);
  }
  co_return head;
}

std::string header_value(std::string_view head, std::string_view name) {
  std::size_t at = head.find("\r\n");
  while (at != std::string_view::npos && at + 2 < head.size()) {
    const std::size_t end = head.find("\r\n", at + 2);
    std::string_view line = head.substr(at + 2, end - at - 2);
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos && iequals(line.substr(0, colon), name)) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      return std::string(value);
    }
    at = end;
  }
  return {};
}

std::string switching_protocols(std::string_view request_head, std::string_view extra) {
  const std::string key = header_value(request_head, "sec-websocket-key");
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
         ws::accept_for(key) + "\r\n" + std::string(extra) + "\r\n";
}

asio::awaitable<void> write_all(tcp::socket& s, std::string_view bytes) {
  co_await asio::async_write(s, asio::buffer(bytes), asio::use_awaitable);
}

asio::awaitable<tcp::socket> accept_upgrade(scripted_server& server, std::string_view extra) {
  auto s = co_await server.accept();
  const std::string head = co_await read_request_head(s);
  co_await write_all(s, switching_protocols(head, extra));
  co_return s;
}

asio::awaitable<std::optional<frame>> client_frames::next(tcp::socket& s) {
  for (;;) {
    auto r = decoder_.decode(buffer_);
    buffer_.erase(0, r.consumed);
    if (r.error) {
      error_ = r.error;
      co_return std::nullopt;
    }
    if (r.event) co_return std::move(*r.event);
    std::array<char, 64 * 1024> chunk;
    std::error_code ec;
    const std::size_t n = co_await s.async_read_some(asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      error_ = ec;
      co_return std::nullopt;
    }
    buffer_.append(chunk.data(), n);
  }
}

asio::awaitable<std::vector<frame>> frames_until_close(tcp::socket& s, const close_frame& answer) {
  std::vector<frame> seen;
  client_frames from_client;
  while (auto f = co_await from_client.next(s)) {
    seen.push_back(*f);
    if (std::holds_alternative<close_frame>(*f)) break;
  }
  co_await write_all(s, server_frame(answer));
  s.close();
  co_return seen;
}

asio::awaitable<void> wait_for_eof(tcp::socket& s) {
  char chunk[256];
  std::error_code ec;
  while (!ec) co_await s.async_read_some(asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
}

std::string server_frame(const frame& f) {
  static thread_local ws::encoder encoder(ws::role::server);
  std::string out;
  encoder.encode(f, out);
  return out;
}

}  // namespace wscoro::test
