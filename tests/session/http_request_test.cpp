// HTTP/1.1 requests on a connection, before any upgrade.
#include <doctest/doctest.h>

#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include "async.hpp"
#include "scripted_peer.hpp"
#include "wscoro/wscoro.hpp"

using namespace wscoro;
using namespace wscoro::test;
using asio::awaitable;
using namespace std::chrono_literals;

TEST_CASE("request: keep-alive responses with Content-Length and chunked bodies share one connection") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    std::string first_request;
    auto script = [&]() -> awaitable<void> {
      auto s = co_await server.accept();
      first_request = co_await read_request_head(s);
      std::string body(5, '\0');
      co_await asio::async_read(s, asio::buffer(body), asio::use_awaitable);
      CHECK(body == "hello");
      co_await write_all(s, "HTTP/1.1 201 Created\r\nContent-Length: 2\r\nX-Id: 7\r\n\r\nok");
      co_await read_request_head(s);
      co_await write_all(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nchun\r\n3\r\nked\r\n0\r\n\r\n");
      co_await wait_for_eof(s);
    };
    auto peer = spawn(ex, script());
    {
      auto conn = co_await connection::open(ex, server.url("/ignored"));
      const fields headers{{"Content-Type", "text/plain"}};
      auto created = co_await conn.request(request("POST", "/items", headers, "hello"));
      CHECK(created.status == 201);
      CHECK(created.reason == "Created");
      CHECK(created.body == "ok");
      CHECK(created.headers.find("x-id") == "7");
      CHECK(conn.is_open());
      auto chunked = co_await conn.request(request("GET", "/next"));
      CHECK(chunked.body == "chunked");
    }
    co_await join(peer);
    CHECK(first_request.rfind("POST /items HTTP/1.1\r\n", 0) == 0);
    CHECK(header_value(first_request, "content-length") == "5");
    CHECK(header_value(first_request, "content-type") == "text/plain");
  });
}

TEST_CASE("request: a body read until the server closes, then the connection is closed") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await server.accept();
      co_await read_request_head(s);
      co_await write_all(s, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of ");
      co_await write_all(s, "this body");
      s.close();
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, server.url());
    auto r = co_await conn.request(request("GET", "/"));
    CHECK(r.body == "all of this body");
    CHECK_FALSE(conn.is_open());
    std::error_code ec;
    co_await conn.request(request("GET", "/again"), ec);
    CHECK(ec == error::connection_not_open);
    co_await join(peer);
  });
}

TEST_CASE("request: HEAD responses have no body even with a Content-Length") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await server.accept();
      co_await read_request_head(s);
      co_await write_all(s, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
      co_await read_request_head(s);
      co_await write_all(s, "HTTP/1.1 204 No Content\r\n\r\n");
      co_await wait_for_eof(s);
    };
    auto peer = spawn(ex, script());
    {
      auto conn = co_await connection::open(ex, server.url());
      auto head = co_await conn.request(request("HEAD", "/"));
      CHECK(head.headers.find("content-length") == "100");
      CHECK(head.body.empty());
      auto none = co_await conn.request(request("DELETE", "/x"));
      CHECK(none.status == 204);
    }
    co_await join(peer);
  });
}

TEST_CASE("request: the server dying mid-response is an error, and a slow one times out") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await server.accept();
      co_await read_request_head(s);
      co_await write_all(s, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part");
      s.close();
      auto slow = co_await server.accept();
      co_await read_request_head(slow);
      co_await wait_for_eof(slow);
    };
    auto peer = spawn(ex, script());
    auto conn = co_await connection::open(ex, server.url());
    std::error_code ec;
    co_await conn.request(request("GET", "/"), ec);
    CHECK(ec == error::connection_closed);

    connection_options options;
    options.request_timeout = 150ms;
    auto slow = co_await connection::open(ex, server.url(), options);
    const auto start = std::chrono::steady_clock::now();
    co_await slow.request(request("GET", "/"), ec);
    CHECK(ec == error::request_timeout);
    CHECK(since(start) < 2000ms);
    CHECK_FALSE(slow.is_open());
    co_await join(peer);
  });
}

TEST_CASE("request: then an upgrade on the same connection") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto script = [&]() -> awaitable<void> {
      auto s = co_await server.accept();
      co_await read_request_head(s);
      co_await write_all(s, "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nhealthy");
      const std::string upgrade = co_await read_request_head(s);
      co_await write_all(s, switching_protocols(upgrade) + server_frame(text("welcome")));
      co_await wait_for_eof(s);
    };
    auto peer = spawn(ex, script());
    {
      auto conn = co_await connection::open(ex, server.url());
      auto health = co_await conn.request(request("GET", "/health"));
      CHECK(health.body == "healthy");
      auto r = co_await conn.ws_upgrade("/ws");
      REQUIRE(std::holds_alternative<upgraded>(r));
      CHECK(co_await std::get<upgraded>(r).socket.receive() == frame(text("welcome")));
      std::error_code ec;
      co_await conn.request(request("GET", "/"), ec);
      CHECK(ec == error::connection_upgraded);
      auto again = co_await conn.ws_upgrade("/ws");
      CHECK(std::get<failed>(again).error == error::connection_upgraded);
    }
    co_await join(peer);
  });
}

TEST_CASE("request: a request that would inject headers is refused before anything is sent") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    scripted_server server(ex);
    auto conn = co_await connection::open(ex, server.url());
    std::error_code ec;
    const fields evil{{"X-Evil", "a\r\nInjected: yes"}};
    co_await conn.request(request("GET", "/", evil), ec);
    CHECK(ec == error::invalid_request);
    CHECK(conn.is_open());
  });
}

TEST_CASE("open: bad URLs and refused connections have named errors") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    std::error_code ec;
    co_await connection::open(ex, "not a url", connection_options(), ec);
    CHECK(ec == error::invalid_url);
    co_await connection::open(ex, "gopher://example.org", connection_options(), ec);
    CHECK(ec == error::unsupported_scheme);
    unsigned short closed_port = 0;
    {
      scripted_server probe(ex);
      closed_port = probe.port();
    }
    co_await connection::open(ex, "ws://127.0.0.1:" + std::to_string(closed_port), connection_options(), ec);
    CHECK(ec == asio::error::connection_refused);
    bool threw = false;
    try {
      co_await connection::open(ex, "ws://127.0.0.1:" + std::to_string(closed_port));
    } catch (const std::system_error& e) {
      threw = e.code() == asio::error::connection_refused;
    }
    CHECK(threw);
  });
}

TEST_CASE("a connection whose open failed reports connection_not_open") {
  run_async([](asio::any_io_executor ex) -> awaitable<void> {
    std::error_code ec;
    auto conn = co_await connection::open(ex, "ws://", connection_options(), ec);
    CHECK(ec == error::invalid_url);
    CHECK_FALSE(conn.is_open());
    co_await conn.request(request("GET", "/"), ec);
    CHECK(ec == error::connection_not_open);
    auto r = co_await conn.ws_upgrade("/");
    CHECK(std::get<failed>(r).error == error::connection_not_open);
  });
}
