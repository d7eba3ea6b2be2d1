#include "session.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>

#include "wscoro/error.hpp"

namespace wscoro::detail {
namespace {

constexpr std::size_t read_buffer_size = 64 * 1024;

}  // namespace

session::session(std::unique_ptr<net::transport> transport, std::string received,
                 websocket_options options, std::string protocol)
    : transport_(std::move(transport)),
      options_(std::move(options)),
      protocol_(std::move(protocol)),
      decoder_(ws::role::client, options_.max_message_size),
      encoder_(ws::role::client),
      closing_timer_(transport_->get_executor()),
      inbox_filled_(transport_->get_executor()),
      inbox_drained_(transport_->get_executor()),
      outbox_filled_(transport_->get_executor()),
      outbox_drained_(transport_->get_executor()),
      ended_(transport_->get_executor()) {
  if (options_.receive_queue_frames == 0) options_.receive_queue_frames = 1;
  read_buffer_ = std::move(received);
  read_end_ = read_buffer_.size();
  read_buffer_.resize(std::max(read_buffer_size, read_end_));
}

void session::start() {
  auto self = shared_from_this();
  const auto on_exit = [self](std::exception_ptr e) {
    if (e) self->end(std::make_error_code(std::errc::not_enough_memory));
  };
  asio::co_spawn(transport_->get_executor(), read_loop(), on_exit);
  asio::co_spawn(transport_->get_executor(), write_loop(), on_exit);
}

asio::awaitable<void> session::read_loop() {
  auto self = shared_from_this();
  while (phase_ != phase::ended) {
    while (read_begin_ < read_end_ && !decoder_.finished()) {
      // Backpressure: stop decoding (and so reading) while the queue is full.
      if (receive_queue_full()) {
        co_await inbox_drained_.wait();
        if (phase_ == phase::ended) co_return;
        continue;
      }
      auto r = decoder_.decode(std::string_view(read_buffer_).substr(read_begin_, read_end_ - read_begin_));
      read_begin_ += r.consumed;
      if (r.error) {
        on_protocol_error(r.error);
        break;
      }
      if (!r.event) break;
      on_frame(std::move(*r.event));
    }
    if (phase_ == phase::ended) co_return;
    if (decoder_.finished()) {
      read_begin_ = read_end_ = 0;  // after a close frame or an error, bytes are only awaited to see EOF
    } else if (read_begin_ != 0) {
      read_buffer_.replace(0, read_end_ - read_begin_, read_buffer_, read_begin_, read_end_ - read_begin_);
      read_end_ -= read_begin_;
      read_begin_ = 0;
    }
    std::error_code ec;
    const std::size_t n =
        co_await transport_->read_some(asio::buffer(read_buffer_.data() + read_end_, read_buffer_.size() - read_end_), ec);
    if (ec) {
      on_read_error(ec);
      co_return;
    }
    read_end_ += n;
  }
}

asio::awaitable<void> session::write_loop() {
  auto self = shared_from_this();
  for (;;) {
    while (outbox_.empty() && phase_ != phase::ended) co_await outbox_filled_.wait();
    if (phase_ == phase::ended) co_return;
    // Everything queued so far goes out in one write.
    writing_.swap(outbox_);
    outbox_drained_.notify();
    std::error_code ec;
    co_await transport_->write(asio::buffer(writing_), ec);
    writing_.clear();
    if (ec) {
      if (phase_ != phase::ended) end(close_received_ ? std::error_code{} : ec);
      co_return;
    }
  }
}

void session::on_frame(frame f) {
  if (auto* p = std::get_if<ping>(&f)) {
    if (!close_queued_) {
      encoder_.encode(pong{p->data}, outbox_);
      outbox_filled_.notify();
    }
    if (!options_.silence_pings) deliver(std::move(f));
    return;
  }
  if (std::holds_alternative<pong>(f)) {
    if (!options_.silence_pings) deliver(std::move(f));
    return;
  }
  if (auto* c = std::get_if<close_frame>(&f)) {
    close_received_ = true;
    if (!close_queued_) {
      // Echo the peer's code (RFC 6455 5.5.1), then wait for it to close TCP.
      queue_close(close_frame{c->code, {}});
    }
    deliver(std::move(f));
    return;
  }
  deliver(std::move(f));
}

void session::on_protocol_error(std::error_code ec) {
  end_reason_ = ec;
  if (!close_queued_) queue_close(close_frame{ws::close_code_for(ec), {}});
}

void session::on_read_error(std::error_code ec) {
  if (phase_ == phase::ended) return;
  if (ec == asio::error::eof) {
    // A clean end once close frames went both ways, else an abrupt one.
    end(close_received_ ? std::error_code{} : std::error_code(error::closed_without_handshake));
    return;
  }
  end(ec);
}

void session::queue_close(const close_frame& f) {
  encoder_.encode(f, outbox_);
  outbox_filled_.notify();
  close_queued_ = true;
  phase_ = phase::closing;
  if (options_.closing_timeout.count() <= 0) return;
  closing_timer_.expires_after(options_.closing_timeout);
  closing_timer_.async_wait([self = shared_from_this()](std::error_code ec) {
    if (ec || self->phase_ == phase::ended) return;
    // The peer answered our close but kept the connection: close it ourselves.
    self->end(self->close_received_ ? std::error_code{} : std::error_code(error::closing_timeout));
  });
}

void session::deliver(frame f) {
  inbox_.push_back(std::move(f));
  inbox_filled_.notify();
}

void session::end(std::error_code reason) noexcept {
  if (phase_ == phase::ended) return;
  phase_ = phase::ended;
  if (!end_reason_) end_reason_ = reason;
  transport_->close();
  closing_timer_.cancel();
  inbox_filled_.notify();
  inbox_drained_.notify();
  outbox_filled_.notify();
  outbox_drained_.notify();
  ended_.notify();
}

void session::abandon() noexcept { end(error::session_ended); }

asio::awaitable<std::optional<frame>> session::receive() {
  while (inbox_.empty() && phase_ != phase::ended) co_await inbox_filled_.wait();
  if (inbox_.empty()) co_return std::nullopt;
  const bool was_full = receive_queue_full();
  frame f = std::move(inbox_.front());
  inbox_.pop_front();
  if (was_full) inbox_drained_.notify();
  co_return f;
}

asio::awaitable<void> session::send(std::span<frame> batch, std::error_code& ec) {
  ec = {};
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if ((ec = ws::encoder::validate(batch[i]))) co_return;
    // A close frame ends what may be sent, so it can only end a batch.
    if (std::holds_alternative<close_frame>(batch[i]) && i + 1 != batch.size()) {
      ec = error::invalid_frame_to_send;
      co_return;
    }
  }
  while (phase_ == phase::open && outbox_.size() >= options_.send_queue_bytes) co_await outbox_drained_.wait();
  if (phase_ != phase::open) {
    ec = error::session_ended;
    co_return;
  }
  for (frame& f : batch) {
    if (auto* c = std::get_if<close_frame>(&f)) {
      queue_close(*c);
    } else {
      encoder_.encode(f, outbox_);
    }
  }
  outbox_filled_.notify();
}

asio::awaitable<void> session::close(close_frame f, std::error_code& ec) {
  ec = {};
  if (phase_ == phase::ended) co_return;
  if (!close_queued_) {
    if ((ec = ws::encoder::validate(f))) co_return;
    queue_close(f);
  }
  while (phase_ != phase::ended) co_await ended_.wait();
  ec = end_reason_;
}

}  // namespace wscoro::detail
