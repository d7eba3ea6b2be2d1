#include "session.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include "wscoro/error.hpp"
#include "tracing.hpp"

namespace wscoro::detail {
namespace {

// The read buffer starts small, so that idle connections stay cheap, and
// doubles whenever a read fills it, up to a size that amortises syscalls
// for bulk transfers.
constexpr std::size_t initial_read_buffer = 256;
constexpr std::size_t largest_read_buffer = 256 * 1024;

// From this size on, a message is masked in its own string and written from
// there rather than copied into the outbox.
constexpr std::size_t splice_payload_from = 4 * 1024;

// With at least this much of a frame's payload still to come and nothing
// else buffered, the payload is read from the socket straight into the
// message, skipping the copy out of the read buffer.
constexpr std::size_t direct_read_from = 64 * 1024;

// The payload of our own keepalive pings; a pong carrying it is not delivered.
constexpr std::string_view keepalive_payload = "wscoro-keepalive";

std::size_t payload_size(const event& e) noexcept {
  return std::visit(
      [](const auto& v) -> std::size_t {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, close_frame>) {
          return v.reason.size();
        } else if constexpr (std::is_same_v<T, down> || std::is_same_v<T, up>) {
          return 0;
        } else {
          return v.data.size();
        }
      },
      e);
}

event as_event(frame&& f) {
  return std::visit([](auto&& v) -> event { return std::move(v); }, std::move(f));
}

// A delay varied by up to ±jitter of itself, from OpenSSL's random source.
std::chrono::milliseconds jittered(std::chrono::duration<double, std::milli> delay, double jitter) {
  std::uint32_t r = 0;
  if (jitter > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(&r), sizeof r) == 1) {
    const double unit = static_cast<double>(r) / 4294967295.0;  // [0, 1]
    delay *= 1.0 + jitter * (2.0 * unit - 1.0);
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::max(0.0, delay.count())));
}

}  // namespace

session::session(std::unique_ptr<net::transport> transport, std::string received, websocket_options options,
                 std::string protocol, std::optional<ws::deflate_parameters> deflate,
                 std::unique_ptr<reconnect_plan> plan)
    : executor_(transport->get_executor()),
      transport_(std::move(transport)),
      options_(std::move(options)),
      protocol_(std::move(protocol)),
      plan_(std::move(plan)),
      decoder_(ws::role::client, options_.max_message_size),
      encoder_(ws::role::client),
      last_received_(std::chrono::steady_clock::now()),
      inbox_filled_(executor_),
      inbox_drained_(executor_),
      outbox_drained_(executor_),
      ended_(executor_) {
  if (options_.receive_queue_frames == 0) options_.receive_queue_frames = 1;
  reset_read_buffer(std::move(received));
  reset_codecs(deflate);
}

void session::reset_codecs(const std::optional<ws::deflate_parameters>& deflate) {
  std::unique_ptr<ws::message_inflater> inflater;
  std::unique_ptr<ws::message_deflater> deflater;
  std::size_t min_compressed_size = 0;
  extensions_.clear();
  if (deflate) {
    const deflate_options wanted = ws::clamped(options_.compress.value_or(deflate_options()));
    inflater = std::make_unique<ws::message_inflater>(deflate->server_max_window_bits,
                                                      deflate->server_no_context_takeover);
    deflater = std::make_unique<ws::message_deflater>(deflate->client_max_window_bits,
                                                      deflate->client_no_context_takeover, wanted.level,
                                                      wanted.memory_level);
    min_compressed_size = wanted.min_size;
    extensions_ = deflate->to_string();
  }
  decoder_ = ws::decoder(ws::role::client, options_.max_message_size, std::move(inflater));
  encoder_ = ws::encoder(ws::role::client, std::move(deflater), min_compressed_size);
}

void session::reset_read_buffer(std::string received) {
  read_buffer_ = std::move(received);
  read_begin_ = 0;
  read_end_ = read_buffer_.size();
  read_buffer_.resize(std::max(initial_read_buffer, read_end_));
}

void session::start() { spawn_loops(); }

void session::spawn_loops() {
  auto self = shared_from_this();
  const auto on_exit = [self](std::exception_ptr e) {
    if (e) self->end(std::make_error_code(std::errc::not_enough_memory));
  };
  asio::co_spawn(executor_, read_loop(generation_), on_exit);
  if (options_.keepalive.count() > 0) asio::co_spawn(executor_, keepalive_loop(generation_), on_exit);
}

asio::awaitable<void> session::read_loop(unsigned generation) {
  auto self = shared_from_this();
  const auto current = [&] { return generation_ == generation && phase_ != phase::ended && phase_ != phase::down; };
  bool read_into_message = false;  // decode() then finishes the frame if its payload is complete
  while (current()) {
    while ((read_begin_ < read_end_ || read_into_message) && !decoder_.finished()) {
      // Backpressure: stop decoding (and so reading) while the queue is full.
      if (receive_queue_full()) {
        flush();  // pongs and a close echo for what was read so far
        co_await inbox_drained_.wait();
        if (!current()) co_return;
        continue;
      }
      read_into_message = false;
      auto r = decoder_.decode(std::string_view(read_buffer_).substr(read_begin_, read_end_ - read_begin_));
      read_begin_ += r.consumed;
      if (r.error) {
        on_protocol_error(r.error);
        break;
      }
      if (!r.event) break;
      on_frame(std::move(*r.event));
    }
    if (!current()) co_return;
    if (decoder_.finished()) {
      read_begin_ = read_end_ = 0;  // after a close frame or an error, bytes are only awaited to see EOF
    } else if (read_begin_ != 0) {
      read_buffer_.replace(0, read_end_ - read_begin_, read_buffer_, read_begin_, read_end_ - read_begin_);
      read_end_ -= read_begin_;
      read_begin_ = 0;
    }
    flush();
    const bool into_message = read_begin_ == read_end_ && decoder_.payload_to_come() >= direct_read_from;
    asio::mutable_buffer into;
    if (into_message) {
      const std::span<char> space = decoder_.payload_space(largest_read_buffer);
      into = asio::buffer(space.data(), space.size());
    } else {
      into = asio::buffer(read_buffer_.data() + read_end_, read_buffer_.size() - read_end_);
    }
    std::error_code ec;
    const std::size_t n = co_await transport_->read_some(into, ec);
    if (generation_ != generation) co_return;
    const std::error_code violation = into_message ? decoder_.commit_payload(n) : std::error_code();
    if (ec) {
      on_read_error(ec);
      co_return;
    }
    last_received_ = std::chrono::steady_clock::now();
    if (into_message) {
      if (violation) {
        on_protocol_error(violation);
      } else {
        read_into_message = true;
      }
      continue;
    }
    read_end_ += n;
    if (read_end_ == read_buffer_.size() && read_buffer_.size() < largest_read_buffer)
      read_buffer_.resize(read_buffer_.size() * 2);
  }
}

asio::awaitable<void> session::keepalive_loop(unsigned generation) {
  auto self = shared_from_this();
  const auto current = [&] { return generation_ == generation && phase_ == phase::open; };
  std::error_code ignored;
  while (current()) {
    const auto quiet_until = last_received_ + options_.keepalive;
    if (std::chrono::steady_clock::now() < quiet_until) {
      timer(keepalive_timer_).expires_at(quiet_until);
      co_await keepalive_timer_->async_wait(asio::redirect_error(asio::use_awaitable, ignored));
      continue;
    }
    // Silent for `keepalive`: ping, and give the peer pong_timeout to show life.
    const auto pinged_at = std::chrono::steady_clock::now();
    queue_frame(ping(std::string(keepalive_payload)));
    flush();
    if (options_.pong_timeout.count() <= 0) {
      last_received_ = pinged_at;  // only ping, once per keepalive interval
      continue;
    }
    timer(keepalive_timer_).expires_after(options_.pong_timeout);
    co_await keepalive_timer_->async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    if (!current()) co_return;
    if (last_received_ < pinged_at) {
      lose(error::pong_timeout);
      co_return;
    }
  }
}

asio::awaitable<void> session::reconnect_loop() {
  auto self = shared_from_this();
  const retry_policy& retry = options_.retry;
  std::chrono::duration<double, std::milli> delay = retry.initial_delay;
  std::error_code last = down_reason_;
  for (unsigned attempt = 0; attempt < retry.attempts; ++attempt) {
    std::error_code ignored;
    timer(retry_timer_).expires_after(jittered(delay, retry.jitter));
    co_await retry_timer_->async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    if (phase_ != phase::down) co_return;  // closed or abandoned meanwhile
    trace(tracer_, &tracer::reconnect_attempt, attempt + 1);
    delay = std::min<std::chrono::duration<double, std::milli>>(delay * retry.backoff, retry.max_delay);

    auto state = std::make_shared<connection_state>(executor_, plan_->url, plan_->connection);
    std::error_code ec;
    state->transport = co_await net::connect(executor_, state->url, state->options, ec);
    if (phase_ != phase::down) {
      state->close();
      co_return;
    }
    if (ec) {
      last = ec;
      continue;
    }
    auto outcome = co_await state->handshake(plan_->target, plan_->extra, options_);
    if (phase_ != phase::down) {
      state->close();
      co_return;
    }
    if (auto* done = std::get_if<connection_state::switched>(&outcome)) {
      adopt(std::move(state->transport), std::move(state->received), std::move(*done));
      co_return;
    }
    last = std::holds_alternative<refused>(outcome) ? std::error_code(error::reconnect_refused)
                                                    : std::get<failed>(outcome).error;
  }
  end(last);
}

void session::adopt(std::unique_ptr<net::transport> transport, std::string received,
                    connection_state::switched done) {
  transport_ = std::move(transport);
  peer_closed_ = false;
  reset_codecs(done.deflate);
  reset_read_buffer(std::move(received));
  drop_outbox();
  writing_.clear();
  writing_frames_ = 0;
  writing_payloads_.clear();
  last_received_ = std::chrono::steady_clock::now();
  protocol_ = done.protocol;
  trace(tracer_, &tracer::session_up, protocol_);
  phase_ = phase::open;
  ++generation_;
  deliver(up(std::move(done.protocol), std::move(done.headers), extensions_));
  outbox_drained_.notify();  // senders waiting for the session to come back
  spawn_loops();
}

void session::on_frame(frame f) {
  trace(tracer_, &tracer::frame_received, f);
  if (auto* p = std::get_if<ping>(&f)) {
    if (!close_queued_) queue_frame(pong(p->data));
    if (!options_.silence_pings) deliver(as_event(std::move(f)));
    return;
  }
  if (auto* p = std::get_if<pong>(&f)) {
    const bool ours = options_.keepalive.count() > 0 && p->data == keepalive_payload;
    if (!options_.silence_pings && !ours) deliver(as_event(std::move(f)));
    return;
  }
  if (auto* c = std::get_if<close_frame>(&f)) {
    close_received_ = true;
    if (!close_queued_) {
      // Echo the peer's code (RFC 6455 5.5.1), then wait for it to close TCP.
      queue_close(close_frame(c->code));
    }
    deliver(as_event(std::move(f)));
    return;
  }
  deliver(as_event(std::move(f)));
}

// The violation takes effect in order: messages that arrived before it stay
// deliverable and answerable, and the close (1002, 1007 or 1009) goes out
// once the application asks for more than they were, or after
// closing_timeout at the latest.
void session::on_protocol_error(std::error_code ec) {
  end_reason_ = ec;
  failing_ = true;
  inbox_filled_.notify();  // a receiver already waiting on an empty queue fails it now
  if (options_.closing_timeout.count() <= 0) return;
  timer(closing_timer_).expires_after(options_.closing_timeout);
  closing_timer_->async_wait([self = shared_from_this()](std::error_code ec) {
    if (!ec) self->fail_connection();
  });
}

void session::fail_connection() {
  if (phase_ == phase::open && !close_queued_) {
    queue_close(close_frame(ws::close_code_for(end_reason_)));
    flush();
  }
}

void session::on_read_error(std::error_code ec) {
  if (phase_ == phase::ended) return;
  if (failing_) {
    end(end_reason_);
    return;
  }
  // Frames delimit themselves, so a TLS stream ended without close_notify
  // loses nothing a close frame did not already account for: as EOF.
  if (ec == asio::error::eof || ec == error::tls_truncated) {
    peer_closed_ = true;
    // A clean end once close frames went both ways, else an abrupt one.
    if (close_received_) {
      end({});
    } else if (phase_ == phase::open) {
      lose(error::closed_without_handshake);
    } else {
      end(error::closed_without_handshake);
    }
    return;
  }
  if (phase_ == phase::open) {
    lose(ec);
  } else {
    end(ec);
  }
}

// An unexpected loss: reconnect when a plan allows it, else the end.
void session::lose(std::error_code reason) {
  if (phase_ != phase::open || !plan_ || failing_) {
    end(reason);
    return;
  }
  phase_ = phase::down;
  down_reason_ = reason;
  trace(tracer_, &tracer::session_down, reason);
  ++generation_;
  transport_->close();
  cancel(keepalive_timer_);
  const std::size_t unsent = outbox_frames_ + writing_frames_;
  drop_outbox();
  deliver(down(reason, unsent));
  inbox_drained_.notify();
  outbox_drained_.notify();
  auto self = shared_from_this();
  asio::co_spawn(executor_, reconnect_loop(), [self](std::exception_ptr e) {
    if (e) self->end(std::make_error_code(std::errc::not_enough_memory));
  });
}

void session::queue_frame(const frame& f) {
  trace(tracer_, &tracer::frame_sent, f);
  encoder_.encode(f, outbox_);
  ++outbox_frames_;
}

void session::queue_frame(frame&& f) {
  std::string* payload = nullptr;
  ws::opcode op = ws::opcode::binary;
  if (auto* t = std::get_if<text>(&f)) {
    payload = &t->data;
    op = ws::opcode::text;
  } else if (auto* b = std::get_if<binary>(&f)) {
    payload = &b->data;
  }
  // A compressed message is encoded into the output buffer: it is small by then.
  if (!payload || payload->size() < splice_payload_from || encoder_.compresses(payload->size())) {
    queue_frame(f);
    return;
  }
  trace(tracer_, &tracer::frame_sent, f);
  encoder_.encode_header_masking(op, true, *payload, outbox_);
  outbox_payload_bytes_ += payload->size();
  outbox_payloads_.push_back(spliced_payload{outbox_.size(), std::move(*payload)});
  ++outbox_frames_;
}

void session::drop_outbox() noexcept {
  outbox_.clear();
  outbox_frames_ = 0;
  outbox_payloads_.clear();
  outbox_payload_bytes_ = 0;
}

void session::flush() {
  if (writing_.empty()) start_write();
}

void session::start_write() {
  if (phase_ == phase::ended || phase_ == phase::down || outbox_.empty()) return;
  // Everything queued so far goes out in one write.
  writing_.swap(outbox_);
  writing_frames_ = std::exchange(outbox_frames_, 0);
  writing_payloads_.swap(outbox_payloads_);
  outbox_payload_bytes_ = 0;
  outbox_drained_.notify();
  auto done = [self = shared_from_this(), generation = generation_](std::error_code ec, std::size_t) {
    self->on_written(generation, ec);
  };
  if (writing_payloads_.empty()) {
    transport_->async_write(asio::buffer(writing_), std::move(done));
    return;
  }
  gather_.clear();
  std::size_t from = 0;
  for (const spliced_payload& p : writing_payloads_) {
    gather_.push_back(asio::buffer(writing_.data() + from, p.at - from));
    gather_.push_back(asio::buffer(p.data));
    from = p.at;
  }
  if (from != writing_.size()) gather_.push_back(asio::buffer(writing_.data() + from, writing_.size() - from));
  transport_->async_write(gather_, std::move(done));
}

void session::on_written(unsigned generation, std::error_code ec) {
  if (generation_ != generation) return;  // a write on a connection since lost
  writing_.clear();
  // A sent payload's storage serves the next large message received (an
  // echo-like exchange then allocates nothing per message).
  for (spliced_payload& p : writing_payloads_) decoder_.offer_storage(std::move(p.data));
  writing_payloads_.clear();
  if (ec) {
    if (phase_ == phase::open) {
      lose(ec);  // counts writing_frames_ as unsent
    } else if (phase_ != phase::ended) {
      end(close_received_ ? std::error_code{} : ec);
    }
    return;
  }
  writing_frames_ = 0;
  start_write();
}

void session::queue_close(const close_frame& f) {
  queue_frame(f);
  close_queued_ = true;
  phase_ = phase::closing;
  if (options_.closing_timeout.count() <= 0) return;
  timer(closing_timer_).expires_after(options_.closing_timeout);
  closing_timer_->async_wait([self = shared_from_this()](std::error_code ec) {
    if (ec || self->phase_ == phase::ended) return;
    // The peer answered our close but kept the connection: close it ourselves.
    self->end(self->close_received_ ? std::error_code{} : std::error_code(error::closing_timeout));
  });
}

void session::deliver(event e) {
  inbox_bytes_ += payload_size(e);
  inbox_.push_back(std::move(e));
  inbox_filled_.notify();
}

asio::steady_timer& session::timer(std::unique_ptr<asio::steady_timer>& slot) {
  if (!slot) slot = std::make_unique<asio::steady_timer>(executor_);
  return *slot;
}

void session::cancel(const std::unique_ptr<asio::steady_timer>& slot) noexcept {
  if (slot) slot->cancel();
}

bool session::receive_queue_full() const noexcept {
  return inbox_.size() >= options_.receive_queue_frames || inbox_bytes_ >= options_.receive_queue_bytes;
}

void session::end(std::error_code reason, ending how) noexcept {
  if (phase_ == phase::ended) return;
  phase_ = phase::ended;
  if (!end_reason_) end_reason_ = reason;
  trace(tracer_, &tracer::disconnected, end_reason_);
  if (how == ending::abort) {
    transport_->close();
  } else {
    // TLS close_notify, then TCP. The peer's own close_notify is awaited
    // within closing_timeout (or a short bound when that is off: an
    // unanswered close_notify must not hold the socket), and hardly at all
    // once it closed TCP: nothing more can come.
    constexpr std::chrono::milliseconds fallback_bound(1000);
    constexpr std::chrono::milliseconds after_peer_closed(50);
    transport_->close_gracefully(peer_closed_                           ? after_peer_closed
                                 : options_.closing_timeout.count() > 0 ? options_.closing_timeout
                                                                        : fallback_bound);
  }
  cancel(closing_timer_);
  cancel(keepalive_timer_);
  cancel(retry_timer_);
  inbox_filled_.notify();
  inbox_drained_.notify();
  outbox_drained_.notify();
  ended_.notify();
}

void session::abandon() noexcept { end(error::session_ended, ending::abort); }

std::optional<event> session::try_receive() {
  if (inbox_.empty()) {
    if (failing_) fail_connection();
    return std::nullopt;
  }
  const bool was_full = receive_queue_full();
  std::optional<event> e(std::move(inbox_.front()));
  inbox_.pop_front();
  inbox_bytes_ -= payload_size(*e);
  if (was_full) inbox_drained_.notify();
  return e;
}

asio::awaitable<void> session::send(outgoing_frames outgoing, std::error_code& ec) {
  const std::span<frame> batch = outgoing.frames();
  ec = {};
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if ((ec = ws::encoder::validate(batch[i]))) co_return;
    // A close frame ends what may be sent, so it can only end a batch.
    if (std::holds_alternative<close_frame>(batch[i]) && i + 1 != batch.size()) {
      ec = error::invalid_frame_to_send;
      co_return;
    }
  }
  for (;;) {
    if (phase_ == phase::open && outbox_.size() + outbox_payload_bytes_ < options_.send_queue_bytes) break;
    if (phase_ == phase::down && !options_.send_waits_while_down) {
      ec = error::connection_down;
      co_return;
    }
    if (phase_ == phase::closing || phase_ == phase::ended) {
      ec = error::session_ended;
      co_return;
    }
    co_await outbox_drained_.wait();
  }
  for (frame& f : batch) {
    if (auto* c = std::get_if<close_frame>(&f)) {
      queue_close(*c);
    } else {
      queue_frame(std::move(f));
    }
  }
  flush();
}

asio::awaitable<void> session::close(close_frame f, std::error_code& ec) {
  ec = {};
  if (phase_ == phase::ended) co_return;
  if (phase_ == phase::down) {
    // Nothing to hand-shake with: the session ends here, for good.
    end(down_reason_);
    co_return;
  }
  if (!close_queued_) {
    if ((ec = ws::encoder::validate(f))) co_return;
    queue_close(f);
    flush();
  }
  while (phase_ != phase::ended) co_await ended_.wait();
  ec = end_reason_;
}

}  // namespace wscoro::detail
