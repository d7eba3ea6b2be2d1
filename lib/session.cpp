#include "session.hpp"

#include <openssl/rand.h>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/co_spawn.hpp>
#include <asio/redirect_error.hpp>
#include <asio/ssl/error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <new>

#include "wscoro/error.hpp"
#include "tracing.hpp"

namespace wscoro::detail {
namespace {

using clock = ws::session_core::clock;

// A number in [0, 1] from OpenSSL's random source, for the retry jitter.
double random_unit() {
  std::uint32_t r = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&r), sizeof r) != 1) return 0.5;
  return static_cast<double>(r) / 4294967295.0;
}

// Why an exception ended the session.
std::error_code reason_for(std::exception_ptr e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const std::bad_alloc&) {
    return std::make_error_code(std::errc::not_enough_memory);
  } catch (const std::system_error& err) {
    return err.code();
  } catch (...) {
    return error::internal_failure;
  }
}

}  // namespace

/// Forwards the core's reports to the user's tracer.
class session::trace_observer final : public ws::session_observer {
 public:
  explicit trace_observer(std::shared_ptr<tracer> t) noexcept : tracer_(std::move(t)) {}
  void frame_sent(const frame& f) override { trace(tracer_, &tracer::frame_sent, f); }
  void frame_received(const frame& f) override { trace(tracer_, &tracer::frame_received, f); }
  void went_down(std::error_code reason) override { trace(tracer_, &tracer::session_down, reason); }
  void reconnect_attempt(unsigned attempt) override { trace(tracer_, &tracer::reconnect_attempt, attempt); }
  void came_up(std::string_view protocol) override { trace(tracer_, &tracer::session_up, protocol); }
  void ended(std::error_code reason) override { trace(tracer_, &tracer::disconnected, reason); }

 private:
  std::shared_ptr<tracer> tracer_;
};

session::session(std::unique_ptr<net::transport> transport, ws::session_link first, websocket_options options,
                 std::unique_ptr<reconnect_plan> plan)
    : executor_(transport->get_executor()),
      core_(options, std::move(first), plan != nullptr, clock::now(), random_unit),
      plan_(std::move(plan)),
      link_(std::make_shared<link>(std::move(transport))),
      closing_timeout_(options.closing_timeout),
      timer_(executor_),
      event_waiters_(executor_),
      send_waiters_(executor_),
      flush_waiters_(executor_),
      end_waiters_(executor_) {}

session::~session() = default;

void session::trace_with(std::shared_ptr<tracer> t) {
  tracer_ = std::move(t);
  observer_ = tracer_ ? std::make_unique<trace_observer>(tracer_) : nullptr;
  core_.observe_with(observer_.get());
}

void session::start() {
  guarded([&] { core_.start(clock::now()); });
  drive();
}

template <class F>
void session::guarded(F&& f) noexcept {
  try {
    f();
  } catch (...) {
    core_.abandon(reason_for(std::current_exception()));
  }
}

void session::drive(waiter_list::resume how) {
  if (core_.ended()) {
    end_link();
    timer_.cancel();
    if (reconnecting_) stop_reconnect_.emit(asio::cancellation_type::terminal);
    event_waiters_.wake_all(how);
    send_waiters_.wake_all(how);
    flush_waiters_.wake_all(how);
    end_waiters_.wake_all(how);
    return;
  }
  if (core_.phase() == ws::session_phase::down) {
    if (link_) {
      retire_link();
      flush_waiters_.wake_all();
    }
    if (core_.poll_reconnect()) {
      reconnecting_ = true;
      asio::co_spawn(executor_, reconnect(),
                     asio::bind_cancellation_slot(stop_reconnect_.slot(), [self = shared_from_this()](std::exception_ptr e) {
                       self->reconnecting_ = false;
                       if (e) self->guarded([&] { std::rethrow_exception(e); });
                       self->drive();
                     }));
    }
  }
  if (link_) {
    if (!link_->writing) {
      const auto pieces = core_.next_write();
      if (!pieces.empty()) start_write(pieces);
    }
    if (!link_->reading && core_.wants_read()) start_read();
  }
  arm_timer();
  // Receivers wait for an event, or for a change of phase: after a
  // violation, the receive that finds nothing left sends the close. Senders
  // wait for room, or for a change of phase that decides their send
  // otherwise (a close, a down, an up, the end).
  const bool phase_changed = core_.phase() != phase_seen_;
  phase_seen_ = core_.phase();
  if (core_.has_event() || phase_changed) event_waiters_.wake_all(how);
  if (core_.can_send() || phase_changed) send_waiters_.wake_all(how);
}

void session::start_read() {
  const std::span<char> space = core_.read_space();
  link_->reading = true;
  link_->transport->async_read_some(asio::buffer(space.data(), space.size()),
                                    [self = shared_from_this(), l = link_](std::error_code ec, std::size_t n) {
                                      self->on_read(l, ec, n);
                                    });
}

void session::on_read(const std::shared_ptr<link>& l, std::error_code ec, std::size_t n) {
  l->reading = false;
  if (l != link_) return;  // a retired link's read, aborted by its close
  guarded([&] {
    const auto now = clock::now();
    if (n > 0) core_.on_read(n, now);
    if (ec) {
      // A TLS stream cut without close_notify ends like a TCP FIN: the
      // close handshake, not TLS, tells a complete session from a cut one.
      const bool eof =
          ec == asio::error::eof || ec == asio::ssl::error::stream_truncated || ec == error::tls_truncated;
      l->peer_closed = eof;
      core_.on_read_end(eof, ec, now);
    }
  });
  drive(waiter_list::resume::now_if_possible);
}

void session::start_write(std::span<const std::string_view> pieces) {
  link_->writing = true;
  auto done = [self = shared_from_this(), l = link_](std::error_code ec, std::size_t) { self->on_written(l, ec); };
  if (pieces.size() == 1) {
    link_->transport->async_write(asio::buffer(pieces.front()), std::move(done));
    return;
  }
  gather_.clear();
  for (std::string_view p : pieces) gather_.push_back(asio::buffer(p));
  link_->transport->async_write(gather_, std::move(done));
}

void session::on_written(const std::shared_ptr<link>& l, std::error_code ec) {
  l->writing = false;
  if (l != link_) return;
  guarded([&] { core_.on_written(ec, clock::now()); });
  flush_waiters_.wake_all(waiter_list::resume::now_if_possible);
  drive(waiter_list::resume::now_if_possible);
}

// The timer is re-armed only for a deadline earlier than the one it is
// armed for: a deadline that moves later (the keepalive, with every message
// received) costs nothing until the timer fires, finds nothing due and is
// armed again.
void session::arm_timer() {
  const auto next = core_.next_deadline();
  if (!next || (timer_at_ && *timer_at_ <= *next)) return;
  timer_at_ = *next;
  timer_.expires_at(*next);
  timer_.async_wait([self = shared_from_this()](std::error_code ec) { self->on_timer(ec); });
}

void session::on_timer(std::error_code ec) {
  if (ec) return;  // re-armed earlier, or the session ended
  timer_at_.reset();
  guarded([&] { core_.on_timeout(clock::now()); });
  drive(waiter_list::resume::now_if_possible);
}

asio::awaitable<void> session::reconnect() {
  auto state = std::make_shared<connection_state>(executor_, plan_->url, plan_->connection);
  std::error_code ec;
  state->transport = co_await net::connect(executor_, state->url, state->options, ec);
  if (ec) {
    core_.on_reconnect_failed(ec, clock::now());
    co_return;
  }
  auto outcome = co_await state->handshake(plan_->target, plan_->extra, plan_->options);
  if (auto* done = std::get_if<connection_state::switched>(&outcome)) {
    ws::session_link next{std::move(done->protocol), std::move(done->headers), std::move(done->deflate),
                          std::move(state->received)};
    if (core_.on_reconnected(std::move(next), clock::now())) {
      link_ = std::make_shared<link>(std::move(state->transport));
    } else {
      state->close();
    }
    co_return;
  }
  core_.on_reconnect_failed(std::holds_alternative<refused>(outcome) ? std::error_code(error::reconnect_refused)
                                                                     : std::get<failed>(outcome).error,
                            clock::now());
}

void session::retire_link() noexcept {
  if (!link_) return;
  link_->transport->close();
  link_.reset();
}

void session::end_link() noexcept {
  if (!link_) return;
  if (abandoned_) {
    retire_link();
    return;
  }
  // The peer's close_notify is awaited within closing_timeout (a short
  // bound when that is off: an unanswered close_notify must not hold the
  // socket), and hardly at all once it closed TCP: nothing more can come.
  constexpr std::chrono::milliseconds fallback_bound(1000);
  constexpr std::chrono::milliseconds after_peer_closed(50);
  link_->transport->close_gracefully(link_->peer_closed              ? after_peer_closed
                                     : closing_timeout_.count() > 0 ? closing_timeout_
                                                                     : fallback_bound);
  link_.reset();
}

void session::abandon() noexcept {
  abandoned_ = true;
  core_.abandon();
  drive();
}

std::optional<event> session::try_receive() {
  std::optional<event> e;
  guarded([&] { e = core_.poll_event(clock::now()); });
  drive();
  return e;
}

asio::awaitable<void> session::send(std::span<frame> batch, std::error_code& ec) {
  auto self = shared_from_this();
  for (;;) {
    ec = core_.send(batch, clock::now());
    if (ec != std::errc::operation_would_block) break;
    std::error_code woken;
    co_await send_waiters_.async_wait(asio::redirect_error(asio::use_awaitable, woken));
    if (woken) {
      ec = woken;
      co_return;
    }
    const auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) {
      ec = asio::error::operation_aborted;
      co_return;
    }
  }
  drive();
}

asio::awaitable<void> session::flush(std::error_code& ec) {
  auto self = shared_from_this();
  ec = {};
  for (;;) {
    const ws::session_footprint held = core_.footprint();
    if (held.pending_write_bytes == 0 && held.writing_bytes == 0) break;
    if (core_.ended()) {
      ec = core_.end_reason() ? core_.end_reason() : std::error_code(error::session_ended);
      co_return;
    }
    if (core_.phase() == ws::session_phase::down) {
      ec = error::connection_down;
      co_return;
    }
    co_await flush_waiters_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
}

asio::awaitable<void> session::close(close_frame f, std::error_code& ec) {
  auto self = shared_from_this();
  ec = core_.close(f, clock::now());
  drive();
  if (ec) co_return;
  // A cancelled close() returns at once; the session still ends within
  // closing_timeout.
  while (!core_.ended()) {
    co_await end_waiters_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
  ec = core_.end_reason();
}

}  // namespace wscoro::detail
