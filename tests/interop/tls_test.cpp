
#include <doctest/doctest.h>

#include <asio/ssl/context.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "async.hpp"
#include "child_process.hpp"
#include "interop_checks.hpp"
#include "test_pki.hpp"
#include "wscoro/wscoro.hpp"

namespace {

using namespace std::chrono_literals;
using wscoro::test::code;
using wscoro::test::describe;
using wscoro::test::echo_over;
using wscoro::test::open_fails;
using wscoro::test::pki;
using wscoro::test::run_async;

// Checks with `openssl verify` that each certificate is what its name says.
void check_certificates() {
  const auto& p = pki();
  const auto verify = [&](const std::string& args) {
    const int status = p.openssl("verify -CAfile ca.crt " + args);
    INFO("openssl verify -CAfile ca.crt " << args << ":\n" << p.last_output());
    return status;
  };
  REQUIRE(verify("-verify_ip 127.0.0.1 good.crt") == 0);
  REQUIRE(verify("-verify_hostname localhost good.crt") == 0);
  REQUIRE(verify("-verify_hostname other.example other.crt") == 0);
  REQUIRE(verify("-verify_ip 127.0.0.1 other.crt") != 0);
  REQUIRE(p.last_output().find("IP address mismatch") != std::string::npos);
  REQUIRE(verify("-verify_ip 127.0.0.1 expired.crt") != 0);
  REQUIRE(p.last_output().find("certificate has expired") != std::string::npos);
  REQUIRE(verify("-verify_ip 127.0.0.1 selfsigned.crt") != 0);
  REQUIRE(p.last_output().find("self-signed certificate") != std::string::npos);
}

std::string wss(const char* host, unsigned short port) {
  return std::string("wss://") + host + ":" + std::to_string(port) + "/";
}

}  // namespace

TEST_CASE("tls: the test certificates are what they claim to be") { check_certificates(); }

TEST_CASE("tls: a certificate from a trusted CA, by address and by name") {
  auto peer = wscoro::test::start_python_peer(pki().server_args("good"));
  run_async(
      [&](asio::any_io_executor ex) -> asio::awaitable<void> {
        wscoro::connection_options trusted;
        trusted.tls_ca_file = pki().ca();
        co_await echo_over(ex, wss("127.0.0.1", peer->port), trusted);
        co_await echo_over(ex, wss("localhost", peer->port), trusted);
        // Verification turned off accepts it too.
        wscoro::connection_options skip;
        skip.insecure_skip_tls_verification = true;
        co_await echo_over(ex, wss("127.0.0.1", peer->port), skip);
      },
      15s);
}

TEST_CASE("tls: without the CA (system trust only) the certificate is untrusted") {
  auto peer = wscoro::test::start_python_peer(pki().server_args("good"));
  run_async(
      [&](asio::any_io_executor ex) -> asio::awaitable<void> {
        wscoro::connection_options system_only;
        co_await open_fails(ex, wss("127.0.0.1", peer->port), system_only,
                            code(wscoro::error::tls_untrusted_certificate));
        co_await open_fails(ex, wss("localhost", peer->port), system_only,
                            code(wscoro::error::tls_untrusted_certificate));
      },
      15s);
}

TEST_CASE("tls: a CA file that cannot be read is reported as such") {
  auto peer = wscoro::test::start_python_peer(pki().server_args("good"));
  run_async(
      [&](asio::any_io_executor ex) -> asio::awaitable<void> {
        wscoro::connection_options missing;
        missing.tls_ca_file = pki().path("no-such-ca.crt");
        co_await open_fails(ex, wss("127.0.0.1", peer->port), missing,
                            code(wscoro::error::tls_ca_file_unreadable));
      },
      15s);
}

TEST_CASE("tls: a certificate for another host name is a host name mismatch") {
  auto peer = wscoro::test::start_python_peer(pki().server_args("other"));
  run_async(
      [&](asio::any_io_executor ex) -> asio::awaitable<void> {
        wscoro::connection_options trusted;
        trusted.tls_ca_file = pki().ca();
        co_await open_fails(ex, wss("127.0.0.1", peer->port), trusted,
                            code(wscoro::error::tls_hostname_mismatch));
        co_await open_fails(ex, wss("localhost", peer->port), trusted,
                            code(wscoro::error::tls_hostname_mismatch));
        // Without verification the name does not matter.
        wscoro::connection_options skip;
        skip.insecure_skip_tls_verification = true;
        co_await echo_over(ex, wss("127.0.0.1", peer->port), skip);
      },
      15s);
}

TEST_CASE("tls: an expired certificate") {
  auto peer = wscoro::test::start_python_peer(pki().server_args("expired"));
  run_async(
      [&](asio::any_io_executor ex) -> asio::awaitable<void> {
        wscoro::connection_options trusted;
        trusted.tls_ca_file = pki().ca();
        co_await open_fails(ex, wss("127.0.0.1", peer->port), trusted,
                            code(wscoro::error::tls_certificate_expired));
      },
      15s);
}

TEST_CASE("tls: a self-signed certificate not from the CA; insecure_skip_tls_verification accepts it") {
  auto peer = wscoro::test::start_python_peer(pki().server_args("selfsigned"));
  run_async(
      [&](asio::any_io_executor ex) -> asio::awaitable<void> {
        wscoro::connection_options trusted;
        trusted.tls_ca_file = pki().ca();
        co_await open_fails(ex, wss("127.0.0.1", peer->port), trusted,
                            code(wscoro::error::tls_untrusted_certificate));
        wscoro::connection_options system_only;
        co_await open_fails(ex, wss("localhost", peer->port), system_only,
                            code(wscoro::error::tls_untrusted_certificate));

        wscoro::connection_options skip;
        skip.insecure_skip_tls_verification = true;
        co_await echo_over(ex, wss("127.0.0.1", peer->port), skip);
        co_await echo_over(ex, wss("localhost", peer->port), skip);
      },
      15s);
}

TEST_CASE("tls: the node peer with a trusted certificate") {
  auto peer = wscoro::test::start_node_peer(pki().server_args("good"));
  run_async(
      [&](asio::any_io_executor ex) -> asio::awaitable<void> {
        wscoro::connection_options trusted;
        trusted.tls_ca_file = pki().ca();
        co_await echo_over(ex, wss("127.0.0.1", peer->port), trusted);
        co_await echo_over(ex, wss("localhost", peer->port), trusted);
      },
      15s);
}

namespace {

// Over TLS: a server-initiated close handshake ends cleanly, and a server
// that vanishes mid-frame (no close frame, no close_notify) is reported as a
// close without handshake, with no frame delivered.
asio::awaitable<void> tls_session_ends(asio::any_io_executor ex, unsigned short port) {
  wscoro::connection_options trusted;
  trusted.tls_ca_file = pki().ca();
  {
    INFO("/close?code=4001&reason=bye%20now");
    auto conn = co_await wscoro::connection::open(ex, wss("localhost", port), trusted);
    auto result = co_await conn.ws_upgrade("/close?code=4001&reason=bye%20now");
    INFO(describe(result));
    REQUIRE(std::holds_alternative<wscoro::upgraded>(result));
    auto& ws = std::get<wscoro::upgraded>(result).socket;
    auto f = co_await ws.receive();
    CHECK(describe(f) == "close 4001 \"bye now\"");
    f = co_await ws.receive();
    CHECK(describe(f) == "nullopt");
    CHECK(ws.error() == std::error_code());
  }
  {
    INFO("/drop-mid-frame");
    auto conn = co_await wscoro::connection::open(ex, wss("localhost", port), trusted);
    auto result = co_await conn.ws_upgrade("/drop-mid-frame");
    INFO(describe(result));
    REQUIRE(std::holds_alternative<wscoro::upgraded>(result));
    auto& ws = std::get<wscoro::upgraded>(result).socket;
    auto f = co_await ws.receive();
    CHECK(describe(f) == "nullopt");
    const std::error_code e = ws.error();
    CAPTURE(e);
    CHECK((e == code(wscoro::error::closed_without_handshake) ||
           e == std::error_code(asio::error::connection_reset)));
  }
  {
    INFO("/send of 4 MiB binary");
    auto conn = co_await wscoro::connection::open(ex, wss("localhost", port), trusted);
    auto result = co_await conn.ws_upgrade("/send?size=4194304&type=binary");
    INFO(describe(result));
    REQUIRE(std::holds_alternative<wscoro::upgraded>(result));
    auto& ws = std::get<wscoro::upgraded>(result).socket;
    auto f = co_await ws.receive();
    const auto* b = f ? std::get_if<wscoro::binary>(&*f) : nullptr;
    INFO("received: " << describe(f));
    REQUIRE(b != nullptr);
    std::string expected(4194304, '\0');
    for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = static_cast<char>(i % 251);
    CHECK(b->data.size() == expected.size());
    CHECK((b->data == expected));
    std::error_code ec;
    co_await ws.close(1000, "", ec);
    CHECK(ec == std::error_code());
  }
}

}  // namespace

TEST_CASE("tls: server-initiated close, a dropped connection and a large message, python and node") {
  {
    INFO("peer: python websockets");
    auto peer = wscoro::test::start_python_peer(pki().server_args("good"));
    run_async([&](asio::any_io_executor ex) { return tls_session_ends(ex, peer->port); }, 15s);
  }
  {
    INFO("peer: node ws");
    auto peer = wscoro::test::start_node_peer(pki().server_args("good"));
    run_async([&](asio::any_io_executor ex) { return tls_session_ends(ex, peer->port); }, 15s);
  }
}

TEST_CASE("tls: a user-supplied ssl::context is used for trust, and host names are still verified") {
  auto good = wscoro::test::start_python_peer(pki().server_args("good"));
  auto other = wscoro::test::start_python_peer(pki().server_args("other"));
  run_async(
      [&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
        context->load_verify_file(pki().ca());
        context->set_verify_mode(asio::ssl::verify_peer);
        wscoro::connection_options own;
        own.tls_context = context;
        co_await echo_over(ex, wss("localhost", good->port), own);
        co_await open_fails(ex, wss("127.0.0.1", other->port), own, code(wscoro::error::tls_hostname_mismatch));

        auto empty = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
        empty->set_verify_mode(asio::ssl::verify_peer);
        wscoro::connection_options untrusting;
        untrusting.tls_context = empty;
        co_await open_fails(ex, wss("localhost", good->port), untrusting,
                            code(wscoro::error::tls_untrusted_certificate));
      },
      15s);
}
