// The same benchmark client written as a good websocketpp user would write
// it: websocketpp::client<websocketpp::config::asio_client> (plain TCP,
// Boost.Asio), its own io_context run on this one thread, binary messages,
// TCP_NODELAY as the other clients set it, permessage-deflate off (the
// config's default), logging off.
//
//   bench_websocketpp --url ws://127.0.0.1:PORT/ --size 64 --count 100000 --window 64 --conns 1 --mode echo
//
// websocketpp is callback-driven: each connection's message handler records
// the echo's round trip and sends the next message while any are left, so
// `window` messages stay in flight (latency mode: window 1, send then
// receive). connection::send copies the payload into a new message, masks
// it and queues it; the library writes everything queued in one write (a
// post later, so the sends made while handling one read go out together).
//
// websocketpp 0.8.2 is C++11 code that does not compile as C++20 (it names
// its constructors and destructors with template-ids, which C++20 removed),
// so bench/meson.build builds this file as C++17; nothing here needs more.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>
#include <websocketpp/client.hpp>
#include <websocketpp/config/asio_no_tls_client.hpp>

#include "common.hpp"

namespace {

using ws_client = websocketpp::client<websocketpp::config::asio_client>;

void fail(const std::string& what) {
  std::fprintf(stderr, "bench_websocketpp: %s\n", what.c_str());
  std::exit(1);
}

struct conn_state {
  explicit conn_state(std::size_t window) : times(window) {}
  ws_client::connection_ptr con;
  bench::send_times times;
  std::size_t sent = 0;
  std::size_t received = 0;
};

class client {
 public:
  explicit client(bench::options o) : opts(std::move(o)), payload_(opts.size, 'x') {
    endpoint_.clear_access_channels(websocketpp::log::alevel::all);
    endpoint_.clear_error_channels(websocketpp::log::elevel::all);
    endpoint_.init_asio(&io_);
    conns_.reserve(opts.conns);
  }

  /// Opens the connections one after the other (as the other clients do),
  /// starts every connection once all are open, closes them all after the
  /// last echo; returns when every connection is closed.
  void run() {
    open_next();
    io_.run();
  }

  bench::options opts;
  bench::measurement m;

 private:
  void open_next() {
    websocketpp::lib::error_code ec;
    auto con = endpoint_.get_connection(opts.url, ec);
    if (ec) fail("get_connection: " + ec.message());
    auto& s = *conns_.emplace_back(std::make_unique<conn_state>(opts.window));
    s.con = con;
    // The socket init handler (set_socket_init_handler) runs on a client's
    // socket before it is opened, where set_option fails with bad_descriptor:
    // a client sets socket options once TCP is connected.
    con->set_tcp_post_init_handler(
        [&s](websocketpp::connection_hdl) { s.con->get_socket().set_option(boost::asio::ip::tcp::no_delay(true)); });
    con->set_open_handler([this](websocketpp::connection_hdl) {
      if (conns_.size() < opts.conns) {
        open_next();
      } else {
        start();
      }
    });
    con->set_fail_handler([&s](websocketpp::connection_hdl) { fail("connect failed: " + s.con->get_ec().message()); });
    con->set_close_handler([this, &s](websocketpp::connection_hdl) {
      if (s.received < opts.count) fail("closed early: " + s.con->get_ec().message());
    });
    con->set_message_handler(
        [this, &s](websocketpp::connection_hdl, ws_client::message_ptr msg) { on_message(s, *msg); });
    endpoint_.connect(con);
  }

  void start() {
    running_ = conns_.size();
    m.start();
    for (auto& s : conns_) {
      while (s->sent < opts.window && s->sent < opts.count) send(*s);
    }
  }

  void send(conn_state& s) {
    ++s.sent;
    s.times.push(bench::clock::now());
    const auto ec = s.con->send(payload_.data(), payload_.size(), websocketpp::frame::opcode::binary);
    if (ec) fail("send: " + ec.message());
  }

  void on_message(conn_state& s, const websocketpp::config::asio_client::message_type& msg) {
    if (msg.get_opcode() != websocketpp::frame::opcode::binary || msg.get_payload().size() != opts.size)
      fail("unexpected message");
    m.rtt.add(s.times.pop(), bench::clock::now());
    ++s.received;
    if (s.sent < opts.count) {
      send(s);
    } else if (s.received == opts.count && --running_ == 0) {
      m.stop();
      // close() sends the close frame once the queued messages are written;
      // the connection ends when the server's close frame and its TCP close
      // have come back.
      for (auto& c : conns_) c->con->close(websocketpp::close::status::normal, "");
    }
  }

  boost::asio::io_context io_{1};
  ws_client endpoint_;
  std::string payload_;
  std::vector<std::unique_ptr<conn_state>> conns_;
  std::size_t running_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  auto c = std::make_unique<client>(bench::parse_options(argc, argv));
  try {
    c->run();
  } catch (const std::exception& e) {
    fail(e.what());
  }
  bench::print_result("websocketpp", c->opts, c->m);
  return 0;
}
