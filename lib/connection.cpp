#include "wscoro/connection.hpp"

#include "wscoro/error.hpp"
#include "connection_state.hpp"
#include "http/request_writer.hpp"
#include "net/deadline.hpp"
#include "session.hpp"
#include "tracing.hpp"
#include "ws/deflate_codec.hpp"
#include "ws/handshake.hpp"

namespace wscoro {
namespace detail {

std::error_code connection_state::usable() const {
  if (upgraded) return error::connection_upgraded;
  if (!transport || !transport->is_open()) return error::connection_not_open;
  return {};
}

// Writes a request and reads its response into `parser`; a 101 stops after
// its head, leaving what follows in `received`.
asio::awaitable<std::error_code> connection_state::exchange(request req, bool head_request,
                                                            std::chrono::milliseconds timeout, error timeout_error) {
  std::string out;
  if (auto ec = http::write_request(req, url.host_header, options.version, out)) co_return ec;
  auto self = shared_from_this();
  net::deadline limit(executor, timeout, [self] { self->close(); });
  const auto started = trace_start(options.tracer, &tracer::request_sent, req);
  std::error_code ec;
  try {
    co_await transport->write(asio::buffer(out), ec);
    if (!ec) {
      parser.start(head_request);
      ec = co_await read_response();
    }
  } catch (...) {
    close();  // cancelled or failed mid-exchange: the stream's position is unknown
    throw;
  }
  if (limit.expired()) ec = timeout_error;
  trace_since(options.tracer, started, &tracer::response_received, parser.get(), ec);
  if (ec) {
    close();
  } else if (!parser.switching_protocols() && !parser.keep_alive()) {
    close_gracefully();
  }
  co_return ec;
}

// Feeds what is read to the parser until the response (or a 101's head) is complete.
asio::awaitable<std::error_code> connection_state::read_response() {
  std::error_code ec;
  std::string chunk;
  while (!ec) {
    if (!received.empty()) {
      const auto r = parser.feed(received);
      received.erase(0, r.consumed);
      if (r.error) {
        ec = r.error;
        break;
      }
      if (parser.done()) break;
    }
    chunk.resize(16 * 1024);
    const std::size_t n = co_await transport->read_some(asio::buffer(chunk), ec);
    if (ec == asio::error::eof) {
      ec = parser.finish();
      break;
    }
    if (ec == error::tls_truncated) {
      // A FIN without close_notify: a body that ends where the connection
      // does may have been cut by anyone on the path, so it is not taken.
      // A response that is incomplete anyway says so with its own error.
      if (auto incomplete = parser.finish()) ec = incomplete;
      break;
    }
    received.append(chunk, 0, n);
  }
  co_return ec;
}

namespace {

bool is_reserved_upgrade_header(std::string_view name) {
  return iequals(name, "upgrade") || iequals(name, "connection") || iequals(name, "sec-websocket-key") ||
         iequals(name, "sec-websocket-version");
}

}  // namespace

asio::awaitable<connection_state::handshake_result> connection_state::handshake(std::string target, fields extra,
                                                                               websocket_options options) {
  const auto& t = this->options.tracer;
  const auto started = trace_clock(t);
  auto outcome = co_await upgrade(std::move(target), std::move(extra), std::move(options));
  if (t) [[unlikely]] {
    auto kind = upgrade_outcome::refused;
    std::string_view protocol;
    std::error_code ec;
    if (const auto* f = std::get_if<failed>(&outcome)) {
      kind = upgrade_outcome::failed;
      ec = f->error;
    } else if (const auto* done = std::get_if<switched>(&outcome)) {
      kind = upgrade_outcome::upgraded;
      protocol = done->protocol;
    }
    trace_since(t, started, &tracer::upgrade_end, kind, protocol, ec);
  }
  co_return outcome;
}

asio::awaitable<connection_state::handshake_result> connection_state::upgrade(std::string target, fields extra,
                                                                             websocket_options options) {
  if (this->options.version == http_version::http_1_0) co_return failed{error::upgrade_needs_http_1_1};
  if (auto ec = usable()) co_return failed{ec};
  for (const header& h : extra)
    if (is_reserved_upgrade_header(h.name)) co_return failed{error::reserved_upgrade_header};
  if (options.compress && !ws::deflate_available()) co_return failed{error::compression_unavailable};

  ws::handshake_offer offer{ws::make_key(), options.protocols, options.compress};
  for (auto& p : ws::offered_protocols(extra)) offer.protocols.push_back(std::move(p));

  request req("GET", std::move(target));
  req.headers.add("Upgrade", "websocket");
  req.headers.add("Connection", "Upgrade");
  req.headers.add("Sec-WebSocket-Key", offer.key);
  req.headers.add("Sec-WebSocket-Version", "13");
  if (!options.protocols.empty()) {
    std::string list;
    for (const auto& p : options.protocols) list += (list.empty() ? "" : ", ") + p;
    req.headers.add("Sec-WebSocket-Protocol", std::move(list));
  }
  if (offer.deflate) req.headers.add("Sec-WebSocket-Extensions", ws::deflate_offer(*offer.deflate));
  for (const header& h : extra) req.headers.add(h.name, h.value);

  auto self = shared_from_this();
  std::error_code ec = co_await exchange(std::move(req), false, options.handshake_timeout, error::handshake_timeout);
  if (ec == error::connection_closed || ec == asio::error::eof) ec = error::closed_during_handshake;
  if (ec) co_return failed{ec};

  response& head = parser.get();
  if (!parser.switching_protocols()) co_return refused{std::move(head)};
  std::string protocol;
  std::optional<ws::deflate_parameters> deflate;
  if ((ec = ws::check_upgrade_response(head, offer, protocol, deflate))) {
    close();
    co_return failed{ec};
  }
  co_return switched{std::move(protocol), std::move(head.headers), deflate};
}

}  // namespace detail

connection::connection(std::shared_ptr<detail::connection_state> state) noexcept : state_(std::move(state)) {}
connection::connection(connection&&) noexcept = default;
connection& connection::operator=(connection&&) noexcept = default;
connection::~connection() {
  if (state_ && !state_->upgraded) state_->close_gracefully();
}

asio::awaitable<connection> connection::open(asio::any_io_executor ex, std::string url,
                                             connection_options options, std::error_code& ec) {
  http::url parsed;
  ec = http::parse_url(url, parsed);
  // Even a failed open gives a usable object: it reports connection_not_open.
  auto state = std::make_shared<detail::connection_state>(ex, std::move(parsed), std::move(options));
  if (!ec) state->transport = co_await net::connect(ex, state->url, state->options, ec, &state->proxy_refusal);
  co_return connection(std::move(state));
}

asio::awaitable<connection> connection::open(asio::any_io_executor ex, std::string url,
                                             connection_options options) {
  std::error_code ec;
  auto c = co_await open(std::move(ex), std::move(url), std::move(options), ec);
  if (ec) throw std::system_error(ec);
  co_return c;
}

// Not a coroutine: the default options are built here, outside any
// co_await expression of the caller (see options.hpp).
asio::awaitable<connection> connection::open(asio::any_io_executor ex, std::string url) {
  return open(std::move(ex), std::move(url), connection_options());
}

asio::awaitable<upgrade_result> connection::ws_upgrade(std::string target, fields extra) {
  return ws_upgrade(std::move(target), std::move(extra), websocket_options());
}

asio::any_io_executor connection::get_executor() const { return state_->executor; }

const std::string& connection::target() const noexcept {
  static const std::string root = "/";
  return state_ ? state_->url.target : root;
}

const response* connection::proxy_refusal() const noexcept {
  return state_ && state_->proxy_refusal.status != 0 ? &state_->proxy_refusal : nullptr;
}

bool connection::is_open() const noexcept { return state_ && !state_->usable(); }

void connection::close() noexcept {
  if (state_ && !state_->upgraded) state_->close_gracefully();
}

asio::awaitable<response> connection::request(wscoro::request req, std::error_code& ec) {
  ec = state_ ? state_->usable() : std::error_code(error::connection_not_open);
  if (ec) co_return response{};
  auto state = state_;
  const bool head_request = req.method == "HEAD";
  ec = co_await state->exchange(std::move(req), head_request, state->options.request_timeout, error::request_timeout);
  if (ec) co_return response{};
  co_return std::move(state->parser.get());
}

asio::awaitable<response> connection::request(wscoro::request req) {
  std::error_code ec;
  auto r = co_await request(std::move(req), ec);
  if (ec) throw std::system_error(ec);
  co_return r;
}

namespace {

// Hands the upgraded connection to a new session (kept out of the
// coroutine above, whose frame GCC 12 otherwise misjudges).
upgraded start_session(detail::connection_state& state, detail::connection_state::switched done,
                       std::string target, fields extra, websocket_options options) {
  state.upgraded = true;
  std::unique_ptr<detail::reconnect_plan> plan;
  if (options.retry.attempts > 0) {
    plan = std::make_unique<detail::reconnect_plan>();
    plan->url = state.url;
    plan->connection = state.options;
    plan->target = std::move(target);
    plan->extra = std::move(extra);
    plan->options = options;
  }
  ws::session_link first{done.protocol, {}, done.deflate, std::move(state.received)};
  auto s = std::make_shared<detail::session>(std::move(state.transport), std::move(first), std::move(options),
                                             std::move(plan));
  s->trace_with(state.options.tracer);
  s->start();
  std::string extensions = s->extensions();
  return upgraded{websocket(std::move(s)), std::move(done.protocol), std::move(done.headers), std::move(extensions)};
}

}  // namespace

asio::awaitable<upgrade_result> connection::ws_upgrade(std::string target, fields extra,
                                                       websocket_options options) {
  if (!state_) co_return failed{error::connection_not_open};
  auto state = state_;
  auto outcome = co_await state->handshake(target, extra, options);
  if (auto* f = std::get_if<failed>(&outcome)) co_return std::move(*f);
  if (auto* r = std::get_if<refused>(&outcome)) co_return std::move(*r);
  auto& done = std::get<detail::connection_state::switched>(outcome);

  co_return start_session(*state, std::move(done), std::move(target), std::move(extra), std::move(options));
}

}  // namespace wscoro
