
#include <doctest/doctest.h>

#include <asio/ssl/context.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

#include "async.hpp"
#include "child_process.hpp"
#include "wscoro/wscoro.hpp"

namespace {

using namespace std::chrono_literals;
using wscoro::test::run_async;

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

// The certificates, made once per test run, removed at exit.
class test_pki {
 public:
  test_pki() {
    char dir_template[] = "/tmp/wscoro-tls-XXXXXX";
    if (::mkdtemp(dir_template) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp");
    dir_ = dir_template;
    try {
      make();
    } catch (...) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
      throw;
    }
  }
  ~test_pki() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  test_pki(const test_pki&) = delete;
  test_pki& operator=(const test_pki&) = delete;

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string ca() const { return path("ca.crt"); }
  std::vector<std::string> server_args(const std::string& name) const {
    return {"--tls", path(name + ".crt"), path(name + ".key")};
  }

  /// Runs `openssl args` in the directory, bounded to 30 s; returns its exit status.
  int openssl(const std::string& args) const {
    const std::string log = path("openssl.log");
    const std::string command = "cd '" + dir_.string() + "' && timeout 30 openssl " + args + " >'" + log +
                                "' 2>&1";
    const int status = std::system(command.c_str());
    last_output_ = read_file(log);
    return status;
  }
  const std::string& last_output() const { return last_output_; }

 private:
  void run(const std::string& args) const {
    if (openssl(args) != 0) throw std::runtime_error("openssl " + args + " failed:\n" + last_output_);
  }

  // An EC P-256 key and a CSR for `cn`.
  void key_and_csr(const std::string& name, const std::string& cn) const {
    run("req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + name + ".key -out " + name +
        ".csr -subj '/CN=" + cn + "'");
  }

  void make() {
    run("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt -days 30 "
        "-subj '/CN=wscoro test CA' -addext 'basicConstraints=critical,CA:TRUE' "
        "-addext 'keyUsage=critical,keyCertSign,cRLSign'");

    write_file(dir_ / "localhost.ext",
               "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
               "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n");
    write_file(dir_ / "other.ext",
               "subjectAltName=DNS:other.example\nbasicConstraints=CA:FALSE\n"
               "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n");

    key_and_csr("good", "localhost");
    run("x509 -req -in good.csr -CA ca.crt -CAkey ca.key -set_serial 2 -days 30 -sha256 -extfile localhost.ext "
        "-out good.crt");

    key_and_csr("other", "other.example");
    run("x509 -req -in other.csr -CA ca.crt -CAkey ca.key -set_serial 3 -days 30 -sha256 -extfile other.ext "
        "-out other.crt");

    // `openssl x509 -req` cannot date a certificate in the past; `openssl ca` can.
    std::filesystem::create_directory(dir_ / "newcerts");
    write_file(dir_ / "index.txt", "");
    write_file(dir_ / "serial", "04\n");
    write_file(dir_ / "ca.cnf",
               "[ ca ]\n"
               "default_ca = test_ca\n"
               "[ test_ca ]\n"
               "dir = " + dir_.string() + "\n"
               "database = $dir/index.txt\n"
               "new_certs_dir = $dir/newcerts\n"
               "certificate = $dir/ca.crt\n"
               "private_key = $dir/ca.key\n"
               "serial = $dir/serial\n"
               "default_md = sha256\n"
               "policy = policy_any\n"
               "unique_subject = no\n"
               "copy_extensions = none\n"
               "x509_extensions = server_ext\n"
               "[ policy_any ]\n"
               "commonName = supplied\n"
               "[ server_ext ]\n"
               "subjectAltName = DNS:localhost,IP:127.0.0.1\n"
               "basicConstraints = CA:FALSE\n"
               "keyUsage = critical,digitalSignature\n"
               "extendedKeyUsage = serverAuth\n");
    key_and_csr("expired", "localhost");
    run("ca -batch -config ca.cnf -notext -in expired.csr -out expired.crt "
        "-startdate 20200101000000Z -enddate 20200102000000Z");

    run("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout selfsigned.key "
        "-out selfsigned.crt -days 30 -subj '/CN=localhost' "
        "-addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' -addext 'basicConstraints=critical,CA:FALSE'");
  }

  std::filesystem::path dir_;
  mutable std::string last_output_;
};

const test_pki& pki() {
  static const test_pki instance;
  return instance;
}

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

std::error_code code(wscoro::error e) { return wscoro::make_error_code(e); }

std::string describe(const std::optional<wscoro::frame>& f) {
  if (!f) return "nullopt";
  if (const auto* t = std::get_if<wscoro::text>(&*f)) return "text \"" + t->data + "\"";
  if (const auto* b = std::get_if<wscoro::binary>(&*f)) return "binary[" + std::to_string(b->data.size()) + "]";
  if (const auto* p = std::get_if<wscoro::ping>(&*f)) return "ping \"" + p->data + "\"";
  if (const auto* p = std::get_if<wscoro::pong>(&*f)) return "pong \"" + p->data + "\"";
  const auto& c = std::get<wscoro::close_frame>(*f);
  return "close " + std::to_string(c.code) + " \"" + c.reason + "\"";
}

std::string describe(const wscoro::upgrade_result& r) {
  if (const auto* f = std::get_if<wscoro::failed>(&r)) return "failed: " + f->error.message();
  if (const auto* x = std::get_if<wscoro::refused>(&r)) return "refused: " + std::to_string(x->response.status);
  return "upgraded";
}

// Opens `url` (which must succeed), upgrades to /echo, echoes a text and a
// binary message and closes cleanly.
asio::awaitable<void> echo_over(asio::any_io_executor ex, std::string url, wscoro::connection_options options) {
  std::error_code ec;
  auto conn = co_await wscoro::connection::open(ex, url, std::move(options), ec);
  INFO("open " << url << ": " << ec.message());
  REQUIRE(ec == std::error_code());
  REQUIRE(conn.is_open());
  auto result = co_await conn.ws_upgrade("/echo");
  INFO(describe(result));
  REQUIRE(std::holds_alternative<wscoro::upgraded>(result));
  auto& ws = std::get<wscoro::upgraded>(result).socket;

  co_await ws.send(wscoro::text("over tls"));
  auto f = co_await ws.receive();
  CHECK(describe(f) == "text \"over tls\"");

  const std::string bytes(70000, '\xa5');  // more than one TLS record
  co_await ws.send(wscoro::binary(bytes));
  f = co_await ws.receive();
  const auto* b = f ? std::get_if<wscoro::binary>(&*f) : nullptr;
  INFO("received: " << describe(f));
  REQUIRE(b != nullptr);
  CHECK(b->data == bytes);

  co_await ws.close(1000, "bye", ec);
  CHECK(ec == std::error_code());
  f = co_await ws.receive();
  CHECK(describe(f) == "close 1000 \"bye\"");
  f = co_await ws.receive();
  CHECK(describe(f) == "nullopt");
  CHECK(ws.error() == std::error_code());
}

// Opens `url` expecting the error `expected`.
asio::awaitable<void> open_fails(asio::any_io_executor ex, std::string url, wscoro::connection_options options,
                                 std::error_code expected) {
  std::error_code ec;
  auto conn = co_await wscoro::connection::open(ex, url, std::move(options), ec);
  INFO("open " << url << " -> " << std::string(ec.category().name()) << ":" << ec.value() << " " << ec.message());
  CHECK(ec == expected);
  CHECK_FALSE(conn.is_open());
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
