#include "ws/session_core.hpp"

#include <algorithm>
#include <utility>

#include "wscoro/error.hpp"
#include "ws/io_sizes.hpp"

namespace wscoro::ws {
namespace {

event as_event(frame&& f) {
  return std::visit([](auto&& v) -> event { return std::move(v); }, std::move(f));
}

template <class Duration>
bool positive(Duration d) noexcept {
  return d.count() > 0;
}

void set_earliest(std::optional<session_core::time_point>& earliest,
                  const std::optional<session_core::time_point>& candidate) noexcept {
  if (candidate && (!earliest || *candidate < *earliest)) earliest = candidate;
}

bool due(const std::optional<session_core::time_point>& deadline, session_core::time_point now) noexcept {
  return deadline && now >= *deadline;
}

}  // namespace

session_core::session_core(const websocket_options& options, session_link first, bool may_reconnect,
                           time_point now, std::function<double()> random_unit)
    : options_(options),
      may_reconnect_(may_reconnect && options.retry.attempts > 0),
      random_unit_(std::move(random_unit)),
      decoder_(role::client, options.max_message_size),
      encoder_(role::client) {
  if (options_.receive_queue_frames == 0) options_.receive_queue_frames = 1;
  start_link(std::move(first), now);
}

void session_core::start_link(session_link&& link, time_point now) {
  ++link_number_;
  protocol_ = std::move(link.protocol);
  reset_codecs(link.deflate);
  read_buffer_ = std::move(link.received);
  read_begin_ = 0;
  read_end_ = read_buffer_.size();
  read_buffer_.resize(std::max(initial_read_buffer, read_end_));
  reading_into_message_ = false;
  payload_committed_ = false;
  phase_ = session_phase::open;
  restart_keepalive(now);
}

void session_core::reset_codecs(const std::optional<deflate_parameters>& deflate) {
  std::unique_ptr<message_inflater> inflater;
  std::unique_ptr<message_deflater> deflater;
  std::size_t min_compressed_size = 0;
  extensions_.clear();
  if (deflate) {
    const deflate_options wanted = clamped(options_.compress.value_or(deflate_options()));
    inflater = std::make_unique<message_inflater>(deflate->server_max_window_bits, deflate->server_no_context_takeover);
    deflater = std::make_unique<message_deflater>(deflate->client_max_window_bits, deflate->client_no_context_takeover,
                                                  wanted.level, wanted.memory_level);
    min_compressed_size = wanted.min_size;
    extensions_ = deflate->to_string();
  }
  decoder_ = decoder(role::client, options_.max_message_size, std::move(inflater));
  encoder_ = encoder(role::client, std::move(deflater), min_compressed_size);
}

// ---- Reading ----

bool session_core::wants_read() const noexcept {
  switch (phase_) {
    case session_phase::open:
      return !receive_queue_full();
    case session_phase::failing:
    case session_phase::closing:
    case session_phase::close_received:
    case session_phase::closed:
      return true;
    case session_phase::down:
    case session_phase::ended:
      break;
  }
  return false;
}

std::span<char> session_core::read_space() {
  if (decoder_.finished()) {
    // Only the peer's end of TCP is awaited: what arrives is discarded.
    read_begin_ = read_end_ = 0;
    return {read_buffer_.data(), read_buffer_.size()};
  }
  if (read_begin_ != 0) {
    read_buffer_.replace(0, read_end_ - read_begin_, read_buffer_, read_begin_, read_end_ - read_begin_);
    read_end_ -= read_begin_;
    read_begin_ = 0;
  }
  if (read_end_ == 0 && decoder_.payload_to_come() >= direct_read_from) {
    reading_into_message_ = true;
    return decoder_.payload_space(largest_read_buffer);
  }
  if (read_end_ == read_buffer_.size()) read_buffer_.resize(read_buffer_.size() * 2);
  return {read_buffer_.data() + read_end_, read_buffer_.size() - read_end_};
}

void session_core::on_read(std::size_t n, time_point now) {
  const bool into_message = std::exchange(reading_into_message_, false);
  if (phase_ == session_phase::down || phase_ == session_phase::ended) return;
  keepalive_heard(now);
  if (into_message) {
    if (const std::error_code violation = decoder_.commit_payload(n)) {
      on_violation(violation, now);
      return;
    }
    payload_committed_ = true;
  } else if (!decoder_.finished()) {
    read_end_ += n;
    if (read_end_ == read_buffer_.size() && read_buffer_.size() < largest_read_buffer)
      read_buffer_.resize(read_buffer_.size() * 2);
  }
  process_input(now);
}

void session_core::on_read_end(bool eof, std::error_code ec, time_point now) {
  // The payload space taken is given back (its bytes no longer matter).
  if (std::exchange(reading_into_message_, false)) (void)decoder_.commit_payload(0);
  const std::error_code abrupt = eof ? std::error_code(error::closed_without_handshake) : ec;
  switch (phase_) {
    case session_phase::open:
      lose(abrupt, now);
      break;
    case session_phase::failing:
    case session_phase::closing:
      end(abrupt);  // the violation, when there was one, names the end
      break;
    case session_phase::close_received:
    case session_phase::closed:
      end({});  // the peer's close came: however TCP ends now, the session ended cleanly
      break;
    case session_phase::down:
    case session_phase::ended:
      break;
  }
}

void session_core::process_input(time_point now) {
  while (!decoder_.finished() && (read_begin_ < read_end_ || payload_committed_)) {
    // Backpressure: bytes stay in the read buffer while the queue is full
    // (wants_read() is then false), except once we closed: see close().
    if (phase_ == session_phase::open && receive_queue_full()) return;
    payload_committed_ = false;
    auto r = decoder_.decode(std::string_view(read_buffer_).substr(read_begin_, read_end_ - read_begin_));
    read_begin_ += r.consumed;
    if (r.error) {
      on_violation(r.error, now);
      break;
    }
    if (!r.event) break;
    on_frame(std::move(*r.event), now);
  }
  if (decoder_.finished()) read_begin_ = read_end_ = 0;
}

void session_core::on_frame(frame&& f, time_point now) {
  if (observer_) [[unlikely]]
    observer_->frame_received(f);
  if (auto* p = std::get_if<ping>(&f)) {
    if (our_close_ == close_progress::not_queued) queue_pong(p->data);
    if (!options_.silence_pings) deliver_or_drop(as_event(std::move(f)));
    return;
  }
  if (auto* p = std::get_if<pong>(&f)) {
    const bool ours = positive(options_.keepalive) && p->data == keepalive_payload;
    if (!options_.silence_pings && !ours) deliver_or_drop(as_event(std::move(f)));
    return;
  }
  if (auto* c = std::get_if<close_frame>(&f)) {
    peer_close_received_ = true;
    if (our_close_ == close_progress::not_queued) {
      queue_close(close_frame(c->code), now);  // the echo (RFC 6455 5.5.1)
    } else if (our_close_ == close_progress::written) {
      phase_ = session_phase::closed;
    } else {
      phase_ = session_phase::close_received;
    }
    deliver(as_event(std::move(f)));
    return;
  }
  deliver_or_drop(as_event(std::move(f)));
}

// The violation takes effect in order: messages decoded before it stay
// deliverable and answerable, and the close (1002, 1007 or 1009) goes out
// once the application asks for more than they were, or after
// closing_timeout at the latest.
void session_core::on_violation(std::error_code ec, time_point now) {
  violation_ = ec;
  if (phase_ == session_phase::open) {
    phase_ = session_phase::failing;
    stop_keepalive();
    if (positive(options_.closing_timeout)) failing_deadline_ = now + options_.closing_timeout;
  } else if (our_close_ == close_progress::written) {
    end(ec);  // our close is out: nothing is left to wait for
  }
}

void session_core::fail_connection(time_point now) {
  if (phase_ == session_phase::failing) queue_close(close_frame(close_code_for(violation_)), now);
}

// ---- Writing ----

std::size_t session_core::pending_write_bytes() const noexcept { return outbox_.size() + outbox_payload_bytes_; }

// While no write is under way, pings are answered one for one (the pongs
// of one read go out together in the next write, up to pong_burst_bytes):
// the peer is reading. While a write is under way, perhaps stuck behind a
// peer that does not read, or past that budget, only the latest ping waits
// for its pong (RFC 6455 5.5.3), so that a ping flood cannot grow the outbox.
void session_core::queue_pong(std::string_view payload) {
  const std::size_t encoded = payload.size() + 6;  // a masked frame of up to 125 bytes
  if (write_in_flight_ || outbox_pong_bytes_ + encoded > pong_burst_bytes) {
    pong_payload_.assign(payload);  // replaces a pong not yet written
    pong_pending_ = true;
    return;
  }
  encode_pending_pong();
  encoder_.encode_frame(opcode::pong, true, payload, outbox_);
  outbox_pong_bytes_ += encoded;
  if (observer_) [[unlikely]]
    observer_->frame_sent(pong(std::string(payload)));
}

void session_core::encode_pending_pong() {
  if (!pong_pending_) return;
  pong_pending_ = false;
  encoder_.encode_frame(opcode::pong, true, pong_payload_, outbox_);
  if (observer_) [[unlikely]]
    observer_->frame_sent(pong(pong_payload_));
}

void session_core::encode_pending_control_frames() {
  encode_pending_pong();
  if (keepalive_ping_pending_) {
    keepalive_ping_pending_ = false;
    encoder_.encode_frame(opcode::ping, true, keepalive_payload, outbox_);
    if (observer_) [[unlikely]]
      observer_->frame_sent(ping(std::string(keepalive_payload)));
  }
  // Our close goes last, and nothing follows it.
  if (our_close_ == close_progress::queued) {
    our_close_ = close_progress::writing;
    encoder_.encode(*pending_close_, outbox_);
    if (observer_) [[unlikely]]
      observer_->frame_sent(*pending_close_);
  }
}

std::span<const std::string_view> session_core::next_write() {
  if (write_in_flight_ || phase_ == session_phase::down || phase_ == session_phase::ended) return {};
  if (our_close_ == close_progress::writing || our_close_ == close_progress::written) return {};
  encode_pending_control_frames();
  if (outbox_.empty()) return {};
  // Everything queued so far goes out in one write.
  write_in_flight_ = true;
  writing_.swap(outbox_);
  outbox_pong_bytes_ = 0;
  writing_payloads_.swap(outbox_payloads_);
  writing_payload_bytes_ = std::exchange(outbox_payload_bytes_, 0);
  writing_user_frames_ = std::exchange(outbox_user_frames_, 0);
  write_pieces_.clear();
  std::size_t from = 0;
  for (const spliced_payload& p : writing_payloads_) {
    write_pieces_.emplace_back(writing_.data() + from, p.at - from);
    write_pieces_.emplace_back(p.data);
    from = p.at;
  }
  if (from != writing_.size()) write_pieces_.emplace_back(writing_.data() + from, writing_.size() - from);
  return write_pieces_;
}

void session_core::on_written(std::error_code ec, time_point now) {
  if (!write_in_flight_ || phase_ == session_phase::ended) return;
  if (ec) {
    if (phase_ == session_phase::open) {
      lose(ec, now);  // counts the frames of this write as unsent
    } else {
      end(peer_close_received_ ? std::error_code{} : ec);
    }
    return;
  }
  write_in_flight_ = false;
  writing_.clear();
  // A sent payload's storage serves the next large message received (an
  // echo-like exchange then allocates nothing per message).
  for (spliced_payload& p : writing_payloads_) decoder_.offer_storage(std::move(p.data));
  writing_payloads_.clear();
  writing_payload_bytes_ = 0;
  writing_user_frames_ = 0;
  if (our_close_ == close_progress::writing) {
    our_close_ = close_progress::written;
    after_close_written();
  }
}

void session_core::after_close_written() {
  if (violation_) {
    end(violation_);  // failing the connection: our close is out, TCP ends now
  } else if (phase_ == session_phase::close_received) {
    phase_ = session_phase::closed;
  }
}

void session_core::drop_pending_writes() noexcept {
  outbox_.clear();
  outbox_pong_bytes_ = 0;
  outbox_payloads_.clear();
  outbox_payload_bytes_ = 0;
  outbox_user_frames_ = 0;
  pong_pending_ = false;
  keepalive_ping_pending_ = false;
}

void session_core::drop_writes() noexcept {
  drop_pending_writes();
  write_in_flight_ = false;
  writing_.clear();
  writing_payloads_.clear();
  writing_payload_bytes_ = 0;
  writing_user_frames_ = 0;
}

// ---- The user's intents ----

std::error_code session_core::send(std::span<frame> batch, time_point now) {
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (auto ec = encoder::validate(batch[i])) return ec;
    // A close frame ends what may be sent, so it can only end a batch.
    if (std::holds_alternative<close_frame>(batch[i]) && i + 1 != batch.size()) return error::invalid_frame_to_send;
  }
  switch (phase_) {
    case session_phase::open:
    case session_phase::failing:
      if (pending_write_bytes() >= options_.send_queue_bytes) return std::make_error_code(std::errc::operation_would_block);
      break;
    case session_phase::down:
      if (options_.send_waits_while_down) return std::make_error_code(std::errc::operation_would_block);
      return error::connection_down;
    default:
      return error::session_ended;
  }
  for (frame& f : batch) {
    if (auto* c = std::get_if<close_frame>(&f)) {
      queue_close(*c, now);
      process_input(now);  // see close(): a full queue no longer holds reading back
    } else {
      queue_user_frame(std::move(f));
    }
  }
  return {};
}

void session_core::queue_user_frame(frame&& f) {
  if (observer_) [[unlikely]]
    observer_->frame_sent(f);
  ++outbox_user_frames_;
  std::string* payload = nullptr;
  opcode op = opcode::binary;
  if (auto* t = std::get_if<text>(&f)) {
    payload = &t->data;
    op = opcode::text;
  } else if (auto* b = std::get_if<binary>(&f)) {
    payload = &b->data;
  }
  // A compressed message is encoded into the outbox: it is small by then.
  if (!payload || payload->size() < splice_payload_from || encoder_.compresses(payload->size())) {
    encoder_.encode(f, outbox_);
    return;
  }
  encoder_.encode_header_masking(op, true, *payload, outbox_);
  outbox_payload_bytes_ += payload->size();
  outbox_payloads_.push_back(spliced_payload{outbox_.size(), std::move(*payload)});
}

void session_core::queue_close(const close_frame& f, time_point now) {
  pending_close_ = f;
  our_close_ = close_progress::queued;
  phase_ = peer_close_received_ ? session_phase::close_received : session_phase::closing;
  failing_deadline_.reset();
  stop_keepalive();
  if (positive(options_.closing_timeout)) closing_deadline_ = now + options_.closing_timeout;
}

std::error_code session_core::close(const close_frame& f, time_point now) {
  if (phase_ == session_phase::ended) return {};
  if (phase_ == session_phase::down) {
    end(down_reason_);  // nothing to hand-shake with: the session ends here, for good
    return {};
  }
  if (our_close_ != close_progress::not_queued) return {};
  if (auto ec = encoder::validate(f)) return ec;
  queue_close(f, now);
  // Reading no longer waits for room in the receive queue, so that the
  // peer's close (perhaps already in the read buffer) is seen at once.
  process_input(now);
  return {};
}

void session_core::abandon(std::error_code reason) noexcept { end(reason); }

// ---- Events ----

bool session_core::receive_queue_full() const noexcept {
  return inbox_.size() >= options_.receive_queue_frames || inbox_bytes_ >= options_.receive_queue_bytes;
}

void session_core::deliver(event&& e) {
  inbox_bytes_ += detail::payload_size(e);
  inbox_.push_back(std::move(e));
  if (keepalive_ != keepalive_phase::off && keepalive_ != keepalive_phase::paused && receive_queue_full()) {
    // Reading pauses: silence from the peer says nothing about it now.
    keepalive_ = keepalive_phase::paused;
    ping_deadline_.reset();
    pong_deadline_.reset();
  }
}

void session_core::deliver_or_drop(event&& e) {
  if (our_close_ != close_progress::not_queued && receive_queue_full()) {
    ++dropped_frames_;
    return;
  }
  deliver(std::move(e));
}

std::optional<event> session_core::poll_event(time_point now) {
  if (inbox_.empty()) {
    fail_connection(now);
    return std::nullopt;
  }
  const bool was_full = receive_queue_full();
  std::optional<event> e(std::move(inbox_.front()));
  inbox_.pop_front();
  inbox_bytes_ -= detail::payload_size(*e);
  if (was_full && !receive_queue_full()) {
    if (reconnect_ == reconnect_step::waiting_for_room) reconnect_ = reconnect_step::wanted;
    if (phase_ == session_phase::open) {
      if (keepalive_ == keepalive_phase::paused) restart_keepalive(now);
      process_input(now);
    }
  }
  return e;
}

// ---- Keepalive ----

void session_core::restart_keepalive(time_point now) {
  pong_deadline_.reset();
  if (!positive(options_.keepalive)) {
    keepalive_ = keepalive_phase::off;
    ping_deadline_.reset();
  } else if (receive_queue_full()) {
    keepalive_ = keepalive_phase::paused;
    ping_deadline_.reset();
  } else {
    keepalive_ = keepalive_phase::quiet;
    ping_deadline_ = now + options_.keepalive;
  }
}

void session_core::stop_keepalive() noexcept {
  keepalive_ = keepalive_phase::off;
  ping_deadline_.reset();
  pong_deadline_.reset();
}

void session_core::keepalive_heard(time_point now) {
  if (keepalive_ != keepalive_phase::quiet && keepalive_ != keepalive_phase::awaiting_pong) return;
  keepalive_ = keepalive_phase::quiet;
  ping_deadline_ = now + options_.keepalive;
  pong_deadline_.reset();
}

// ---- Time ----

std::optional<session_core::time_point> session_core::next_deadline() const noexcept {
  std::optional<time_point> earliest;
  set_earliest(earliest, closing_deadline_);
  set_earliest(earliest, failing_deadline_);
  set_earliest(earliest, ping_deadline_);
  set_earliest(earliest, pong_deadline_);
  set_earliest(earliest, retry_deadline_);
  return earliest;
}

void session_core::on_timeout(time_point now) {
  if (due(closing_deadline_, now)) {
    // The peer answered our close but kept the connection: close it ourselves.
    end(peer_close_received_ ? std::error_code{} : std::error_code(error::closing_timeout));
    return;
  }
  if (due(failing_deadline_, now)) {
    failing_deadline_.reset();
    fail_connection(now);
  }
  if (due(pong_deadline_, now)) {
    lose(error::pong_timeout, now);
    return;
  }
  if (due(ping_deadline_, now)) {
    // Silent for `keepalive`: ping, and give the peer pong_timeout from the
    // first unanswered ping to show life.
    keepalive_ping_pending_ = true;
    ping_deadline_ = now + options_.keepalive;
    if (keepalive_ == keepalive_phase::quiet && positive(options_.pong_timeout)) {
      keepalive_ = keepalive_phase::awaiting_pong;
      pong_deadline_ = now + options_.pong_timeout;
    }
  }
  if (due(retry_deadline_, now)) {
    retry_deadline_.reset();
    reconnect_ = receive_queue_full() ? reconnect_step::waiting_for_room : reconnect_step::wanted;
  }
}

// ---- Losing, reconnecting, ending ----

// An unexpected loss: down when the retry policy allows, else the end.
void session_core::lose(std::error_code reason, time_point now) {
  if (phase_ != session_phase::open || !may_reconnect_) {
    end(reason);
    return;
  }
  const std::size_t unsent = outbox_user_frames_ + (write_in_flight_ ? writing_user_frames_ : 0);
  drop_writes();
  stop_keepalive();
  phase_ = session_phase::down;
  down_reason_ = reason;
  if (observer_) [[unlikely]]
    observer_->went_down(reason);
  deliver(down(reason, unsent));
  attempts_made_ = 0;
  retry_delay_ = options_.retry.initial_delay;
  arm_retry(now);
}

void session_core::arm_retry(time_point now) {
  // Varied by up to ±jitter of itself, so that many clients do not return
  // at the same instant.
  auto delay = retry_delay_;
  if (random_unit_ && options_.retry.jitter > 0) delay *= 1.0 + options_.retry.jitter * (2.0 * random_unit_() - 1.0);
  reconnect_ = reconnect_step::waiting;
  retry_deadline_ = now + std::chrono::duration_cast<clock::duration>(std::max(delay, decltype(delay)::zero()));
}

std::optional<unsigned> session_core::poll_reconnect() noexcept {
  if (reconnect_ != reconnect_step::wanted) return std::nullopt;
  reconnect_ = reconnect_step::attempting;
  ++attempts_made_;
  if (observer_) [[unlikely]]
    observer_->reconnect_attempt(attempts_made_);
  return attempts_made_;
}

bool session_core::on_reconnected(session_link link, time_point now) {
  if (phase_ != session_phase::down || reconnect_ != reconnect_step::attempting) return false;
  reconnect_ = reconnect_step::none;
  fields headers = std::move(link.headers);
  start_link(std::move(link), now);
  if (observer_) [[unlikely]]
    observer_->came_up(protocol_);
  deliver(up(protocol_, std::move(headers), extensions_));
  process_input(now);  // frames that came with the 101
  return true;
}

void session_core::on_reconnect_failed(std::error_code ec, time_point now) {
  if (phase_ != session_phase::down || reconnect_ != reconnect_step::attempting) return;
  if (attempts_made_ >= options_.retry.attempts) {
    end(ec);
    return;
  }
  retry_delay_ = std::min<std::chrono::duration<double, std::milli>>(retry_delay_ * options_.retry.backoff,
                                                                      options_.retry.max_delay);
  arm_retry(now);
}

void session_core::end(std::error_code reason) noexcept {
  if (phase_ == session_phase::ended) return;
  phase_ = session_phase::ended;
  end_reason_ = violation_ ? violation_ : reason;
  reconnect_ = reconnect_step::none;
  stop_keepalive();
  closing_deadline_.reset();
  failing_deadline_.reset();
  retry_deadline_.reset();
  // The pieces of a write in flight stay valid: the driver closes the
  // transport, which cancels that write, only after this call.
  drop_pending_writes();
  if (observer_) [[unlikely]]
    observer_->ended(end_reason_);
}

// ---- Queries ----

bool session_core::can_send() const noexcept {
  return (phase_ == session_phase::open || phase_ == session_phase::failing) &&
         pending_write_bytes() < options_.send_queue_bytes;
}

session_footprint session_core::footprint() const noexcept {
  session_footprint f;
  f.queued_events = inbox_.size();
  f.queued_event_bytes = inbox_bytes_;
  f.pending_write_bytes = pending_write_bytes() + (pong_pending_ ? pong_payload_.size() : 0);
  f.writing_bytes = write_in_flight_ ? writing_.size() + writing_payload_bytes_ : 0;
  f.read_buffer_bytes = read_buffer_.size();
  return f;
}

}  // namespace wscoro::ws
