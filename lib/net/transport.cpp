#include "net/transport.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <asio/connect.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/ssl/error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "wscoro/error.hpp"
#include "net/deadline.hpp"
#include "net/proxy.hpp"
#include "tracing.hpp"

namespace wscoro::net {

using asio::redirect_error;
using detail::trace_start;
using detail::trace_since;
using asio::use_awaitable;

transport::transport(tcp_socket socket) : stream_(std::in_place_type<tcp_socket>, std::move(socket)) {}

transport::transport(unix_socket socket) : stream_(std::in_place_type<unix_socket>, std::move(socket)) {}

transport::transport(tcp_socket socket, std::shared_ptr<asio::ssl::context> context)
    : context_(std::move(context)), stream_(std::make_unique<tls_stream>(std::move(socket), *context_)) {}

namespace {

// The socket under any of the streams.
template <class Stream>
auto& socket_of(Stream& s) noexcept {
  if constexpr (std::is_same_v<std::decay_t<Stream>, transport::tls_stream>) {
    return s.next_layer();
  } else {
    return s;
  }
}

}  // namespace

asio::any_io_executor transport::get_executor() {
  return visit_stream([](auto& s) { return socket_of(s).get_executor(); });
}

namespace {

asio::awaitable<std::size_t> read_some_tls(transport::tls_stream& stream, asio::mutable_buffer buffer,
                                           std::error_code& ec) {
  const std::size_t n = co_await stream.async_read_some(buffer, redirect_error(use_awaitable, ec));
  if (ec == asio::ssl::error::stream_truncated) ec = error::tls_truncated;
  co_return n;
}

}  // namespace

// Not coroutines themselves: the socket's own awaitable is handed back, so
// a connection waiting for bytes holds no extra coroutine frame.
asio::awaitable<std::size_t> transport::read_some(asio::mutable_buffer buffer, std::error_code& ec) {
  return visit_stream(
      [&](auto& s) -> asio::awaitable<std::size_t> {
        if constexpr (std::is_same_v<std::decay_t<decltype(s)>, tls_stream>) {
          return read_some_tls(s, buffer, ec);
        } else {
          return s.async_read_some(buffer, redirect_error(use_awaitable, ec));
        }
      });
}

asio::awaitable<std::size_t> transport::write(asio::const_buffer buffer, std::error_code& ec) {
  return visit_stream([&](auto& s) { return asio::async_write(s, buffer, redirect_error(use_awaitable, ec)); });
}

void transport::close() noexcept {
  visit_stream([](auto& s) {
    auto& socket = socket_of(s);
    if (!socket.is_open()) return;
    std::error_code ignored;
    socket.shutdown(asio::socket_base::shutdown_both, ignored);
    socket.close(ignored);
  });
}

void transport::close_gracefully(std::chrono::milliseconds bound) noexcept {
  auto* held = std::get_if<std::unique_ptr<tls_stream>>(&stream_);
  if (!held || !(*held)->next_layer().is_open()) {
    close();
    return;
  }
  // The TLS stream moves to the shutdown below, which keeps it (and its
  // context) alive until done; operations still pending on it (a read, the
  // last write) complete first, as Asio queues them. This transport is
  // left holding a closed socket.
  struct closing {
    closing(std::shared_ptr<asio::ssl::context> c, std::unique_ptr<tls_stream> s)
        : context(std::move(c)), stream(std::move(s)), deadline(stream->get_executor()) {}
    std::shared_ptr<asio::ssl::context> context;  // declared first: outlives the stream
    std::unique_ptr<tls_stream> stream;
    asio::steady_timer deadline;
    void close_tcp() noexcept {
      std::error_code ignored;
      stream->next_layer().shutdown(asio::socket_base::shutdown_both, ignored);
      stream->next_layer().close(ignored);
    }
  };
  try {
    auto executor = (*held)->get_executor();
    auto c = std::make_shared<closing>(std::move(context_), std::move(*held));
    stream_.emplace<tcp_socket>(executor);
    c->deadline.expires_after(bound);
    c->deadline.async_wait([c](std::error_code ec) {
      if (!ec) c->close_tcp();  // the peer never answered: give up waiting
    });
    // Sends close_notify, then reads until the peer's (or its EOF).
    c->stream->async_shutdown([c](std::error_code) {
      c->deadline.cancel();
      c->close_tcp();
    });
  } catch (...) {
    // Out of memory: an abrupt close rather than none.
    if (auto* still = std::get_if<std::unique_ptr<tls_stream>>(&stream_); still && *still) close();
  }
}

bool transport::is_open() const noexcept {
  return visit_stream([](const auto& s) { return socket_of(s).is_open(); });
}

namespace {

// Turns OpenSSL's verification verdict into an error that names it.
std::error_code verification_error(SSL* ssl) {
  switch (SSL_get_verify_result(ssl)) {
    case X509_V_OK:
      return {};
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return error::tls_hostname_mismatch;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return error::tls_certificate_expired;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return error::tls_untrusted_certificate;
    default:
      return error::tls_certificate_invalid;
  }
}

std::shared_ptr<asio::ssl::context> make_tls_context(const connection_options& options, std::error_code& ec) {
  if (options.tls_context) return options.tls_context;
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1);
  context->set_default_verify_paths(ec);
  if (ec) return nullptr;
  if (!options.tls_ca_file.empty()) {
    context->load_verify_file(options.tls_ca_file, ec);
    if (ec) {
      ec = error::tls_ca_file_unreadable;
      return nullptr;
    }
  }
  context->set_verify_mode(options.insecure_skip_tls_verification ? asio::ssl::verify_none
                                                                    : asio::ssl::verify_peer);
  return context;
}

// SNI, host name verification and ALPN on one TLS stream.
std::error_code configure_tls(transport::tls_stream& stream, const http::url& url,
                              const connection_options& options) {
  SSL* ssl = stream.native_handle();
  std::error_code not_an_address;
  asio::ip::make_address(url.host, not_an_address);
  const bool host_is_address = !not_an_address;
  // SNI carries host names only (RFC 6066 section 3).
  if (!host_is_address && SSL_set_tlsext_host_name(ssl, url.host.c_str()) != 1) return error::invalid_url;
  if (options.insecure_skip_tls_verification) {
    SSL_set_verify(ssl, SSL_VERIFY_NONE, nullptr);
  } else {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int ok = host_is_address ? X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str())
                                   : X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), url.host.size());
    if (ok != 1) return error::invalid_url;
  }
  static constexpr unsigned char alpn[] = "\x08http/1.1";
  SSL_set_alpn_protos(ssl, alpn, sizeof alpn - 1);
  return {};
}

}  // namespace

asio::awaitable<std::unique_ptr<transport>> connect(asio::any_io_executor ex, http::url url,
                                                    connection_options options, std::error_code& ec,
                                                    response* proxy_refusal) {
  ec = {};
  const auto& t = options.tracer;
  const bool proxied = !options.proxy_url.empty();
  if (!options.unix_socket_path.empty()) {
    if (url.tls || proxied) {
      ec = url.tls ? error::tls_over_unix_socket : error::proxy_with_unix_socket;
      co_return nullptr;
    }
    transport::unix_socket socket(ex);
    deadline timeout(ex, options.connect_timeout, [&socket] {
      std::error_code ignored;
      socket.close(ignored);
    });
    const auto started = trace_start(t, &tracer::connect_start, options.unix_socket_path, std::uint16_t{0});
    co_await socket.async_connect(asio::local::stream_protocol::endpoint(options.unix_socket_path),
                                  redirect_error(use_awaitable, ec));
    if (timeout.expired()) ec = error::connect_timeout;
    trace_since(t, started, &tracer::connect_end, ec);
    if (ec) co_return nullptr;
    co_return std::make_unique<transport>(std::move(socket));
  }
  proxy via;
  if (proxied && (ec = parse_proxy(options, via))) co_return nullptr;
  const http::url& first_hop = proxied ? via.address : url;
  asio::ip::tcp::resolver resolver(ex);
  transport::tcp_socket socket(ex);
  {
    // One deadline for reaching the server: DNS, TCP, and the proxy's answer.
    deadline timeout(ex, options.connect_timeout, [&resolver, &socket] {
      resolver.cancel();
      std::error_code ignored;
      socket.close(ignored);
    });
    auto started = trace_start(t, &tracer::connect_start, first_hop.host, first_hop.port);
    const auto endpoints = co_await resolver.async_resolve(first_hop.host, std::to_string(first_hop.port),
                                                           redirect_error(use_awaitable, ec));
    if (!ec) co_await asio::async_connect(socket, endpoints, redirect_error(use_awaitable, ec));
    if (timeout.expired()) ec = error::connect_timeout;
    trace_since(t, started, &tracer::connect_end, ec);
    if (ec) co_return nullptr;
    if (proxied) {
      started = trace_start(t, &tracer::tunnel_start, url.host, url.port);
      response answer;
      ec = co_await open_tunnel(socket, url, via, options.max_header_size, answer);
      if (timeout.expired()) ec = error::proxy_timeout;
      trace_since(t, started, &tracer::tunnel_end, answer.status, ec);
      if (proxy_refusal && (ec == error::proxy_refused || ec == error::proxy_auth_required))
        *proxy_refusal = std::move(answer);
      if (ec) co_return nullptr;
    }
  }
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  if (ec) co_return nullptr;

  if (!url.tls) co_return std::make_unique<transport>(std::move(socket));

  auto context = make_tls_context(options, ec);
  if (ec) co_return nullptr;
  auto result = std::make_unique<transport>(std::move(socket), std::move(context));
  auto& stream = *result->tls();
  if ((ec = configure_tls(stream, url, options))) co_return nullptr;
  const auto started = trace_start(t, &tracer::tls_handshake_start, url.host);
  {
    transport* closing = result.get();
    deadline timeout(ex, options.tls_handshake_timeout, [closing] { closing->close(); });
    co_await stream.async_handshake(asio::ssl::stream_base::client, redirect_error(use_awaitable, ec));
    if (timeout.expired()) ec = error::tls_handshake_timeout;
  }
  if (ec && ec != error::tls_handshake_timeout) {
    if (auto verdict = verification_error(stream.native_handle())) ec = verdict;
  }
  trace_since(t, started, &tracer::tls_handshake_end, ec);
  if (ec) co_return nullptr;
  co_return result;
}

}  // namespace wscoro::net
