#include "ws/decoder.hpp"

#include <algorithm>

#include "wscoro/error.hpp"
#include "ws/close_code.hpp"

namespace wscoro::ws {

std::error_code decoder::check_header() const noexcept {
  const frame_header& h = header_;
  if (h.rsv2 || h.rsv3 || (h.rsv1 && !inflater_)) return error::reserved_bits_set;
  switch (h.op()) {
    case opcode::continuation:
    case opcode::text:
    case opcode::binary:
    case opcode::close:
    case opcode::ping:
    case opcode::pong:
      break;
    default:
      return error::reserved_opcode;
  }
  if (role_ == role::client && h.masked) return error::masked_frame;
  if (role_ == role::server && !h.masked) return error::unmasked_frame;
  if (is_control(h.op())) {
    if (h.rsv1) return error::compressed_control_frame;
    if (!h.fin) return error::fragmented_control_frame;
    if (h.length > 125) return error::control_frame_too_large;
    return {};
  }
  if (h.op() == opcode::continuation) {
    if (!in_message_) return error::unexpected_continuation;
    if (h.rsv1) return error::compressed_continuation;
  } else if (in_message_) {
    return error::expected_continuation;
  }
  // A compressed message is bounded by its inflated size, as it inflates.
  if (h.rsv1 || (in_message_ && message_is_compressed_)) return {};
  const std::size_t so_far = in_message_ ? message_.size() : 0;
  if (h.length > max_message_size_ - so_far) return error::message_too_big;
  return {};
}

void decoder::begin_frame() {
  in_frame_ = true;
  remaining_ = header_.length;
  mask_offset_ = 0;
  if (is_control(header_.op())) {
    control_.clear();
    return;
  }
  if (header_.op() != opcode::continuation) {
    in_message_ = true;
    message_is_text_ = header_.op() == opcode::text;
    if (message_.capacity() < header_.length && !spares_.empty()) {
      message_.swap(spares_.back());
      spares_.pop_back();
      spare_bytes_ -= message_.capacity();
    }
    message_is_compressed_ = header_.rsv1;
    message_.clear();
    utf8_.reset();
  }
  if (message_is_compressed_) return;  // the inflater sizes the message
  // Reserve only what this frame declares, which check_header bounded.
  message_.reserve(message_.size() + static_cast<std::size_t>(header_.length));
}

std::error_code decoder::check_text(std::size_t from) {
  if (message_is_text_ && !utf8_.feed(std::string_view(message_).substr(from))) return error::invalid_utf8;
  return {};
}

std::error_code decoder::inflate_payload(std::string_view bytes) {
  if (header_.masked) {
    unmasked_.assign(bytes);
    apply_mask(unmasked_.data(), unmasked_.size(), header_.key, mask_offset_);
    mask_offset_ += bytes.size();
    bytes = unmasked_;
  }
  const std::size_t start = message_.size();
  const auto ec = inflater_->inflate(bytes, message_, max_message_size_);
  // What inflated before a failure is checked first, so that the error
  // does not depend on how the bytes were cut into reads.
  if (auto bad_text = check_text(start)) return bad_text;
  return ec;
}

std::error_code decoder::take_payload(std::string_view bytes) {
  if (message_is_compressed_ && !is_control(header_.op())) return inflate_payload(bytes);
  std::string& sink = is_control(header_.op()) ? control_ : message_;
  const std::size_t start = sink.size();
  sink.append(bytes);
  return check_payload(sink, start);
}

// Unmasks and checks the payload bytes appended to `sink` from `start` on.
std::error_code decoder::check_payload(std::string& sink, std::size_t start) {
  const std::size_t n = sink.size() - start;
  if (header_.masked) {
    apply_mask(sink.data() + start, n, header_.key, mask_offset_);
    mask_offset_ += n;
  }
  if (&sink == &message_) return check_text(start);
  return {};
}

std::span<char> decoder::payload_space(std::size_t most) {
  if (payload_to_come() == 0) return {};
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, most));
  space_start_ = message_.size();
  message_.resize(space_start_ + n);
  return {message_.data() + space_start_, n};
}

std::error_code decoder::commit_payload(std::size_t n) {
  message_.resize(space_start_ + n);
  remaining_ -= n;
  if (auto ec = check_payload(message_, space_start_)) {
    finished_ = true;
    return ec;
  }
  return {};
}

decoder::result decoder::finish_frame(std::size_t consumed) {
  in_frame_ = false;
  switch (header_.op()) {
    case opcode::ping:
      return {consumed, ping{std::move(control_)}, {}};
    case opcode::pong:
      return {consumed, pong{std::move(control_)}, {}};
    case opcode::close: {
      finished_ = true;
      if (control_.empty()) return {consumed, close_frame{close_code::no_status, {}}, {}};
      if (control_.size() == 1) return {consumed, std::nullopt, error::invalid_close_payload};
      const auto* p = reinterpret_cast<const unsigned char*>(control_.data());
      const auto code = static_cast<std::uint16_t>((p[0] << 8) | p[1]);
      if (!is_valid_wire_close_code(code)) return {consumed, std::nullopt, error::invalid_close_code};
      std::string reason = control_.substr(2);
      if (!is_valid_utf8(reason)) return {consumed, std::nullopt, error::invalid_utf8_close_reason};
      return {consumed, close_frame{code, std::move(reason)}, {}};
    }
    default:
      break;
  }
  if (!header_.fin) return {consumed, std::nullopt, {}};
  in_message_ = false;
  if (message_is_compressed_) {
    const std::size_t start = message_.size();
    auto ec = inflater_->finish(message_, max_message_size_);
    if (auto bad_text = check_text(start)) ec = bad_text;
    if (ec) return {consumed, std::nullopt, ec};
  }
  if (message_is_text_) {
    if (!utf8_.complete()) return {consumed, std::nullopt, error::invalid_utf8};
    return {consumed, text{std::move(message_)}, {}};
  }
  return {consumed, binary{std::move(message_)}, {}};
}

void decoder::offer_storage(std::string&& storage) noexcept {
  // Enough for a window of a few large messages in flight; more would only
  // hold memory a connection at rest does not need.
  constexpr std::size_t most_spares = 4;
  constexpr std::size_t most_spare_bytes = 16 * 1024 * 1024;
  if (storage.capacity() < 4096 || spares_.size() == most_spares ||
      spare_bytes_ + storage.capacity() > most_spare_bytes)
    return;
  storage.clear();
  spare_bytes_ += storage.capacity();
  spares_.push_back(std::move(storage));
}

decoder::result decoder::decode(std::string_view in) {
  result r;
  while (!finished_) {
    if (!in_frame_) {
      std::error_code ec;
      const std::size_t n = decode_header(in.substr(r.consumed), header_, ec);
      if (!ec && n != 0) ec = check_header();
      if (ec) {
        finished_ = true;
        r.error = ec;
        return r;
      }
      if (n == 0) return r;
      r.consumed += n;
      begin_frame();
    }
    const std::size_t take = static_cast<std::size_t>(
        std::min<std::uint64_t>(remaining_, in.size() - r.consumed));
    if (take != 0) {
      if (auto ec = take_payload(in.substr(r.consumed, take))) {
        finished_ = true;
        r.consumed += take;
        r.error = ec;
        return r;
      }
      r.consumed += take;
      remaining_ -= take;
    }
    if (remaining_ != 0) return r;
    result done = finish_frame(r.consumed);
    if (done.error) finished_ = true;
    if (done.event || done.error) return done;
  }
  return r;
}

std::uint16_t close_code_for(std::error_code ec) noexcept {
  if (ec == error::invalid_utf8 || ec == error::invalid_utf8_close_reason || ec == error::invalid_compressed_data)
    return close_code::invalid_payload;
  if (ec == error::message_too_big) return close_code::message_too_big;
  return close_code::protocol_error;
}

}  // namespace wscoro::ws
