#include "ws/encoder.hpp"

#include "wscoro/error.hpp"
#include "ws/close_code.hpp"
#include "ws/utf8.hpp"

namespace wscoro::ws {
namespace {

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;  // clang 14 has no aggregate deduction

}  // namespace

std::error_code encoder::validate(const frame& f) noexcept {
  return std::visit(
      overloaded{
          [](const text& t) -> std::error_code {
            return is_valid_utf8(t.data) ? std::error_code{} : error::invalid_utf8_to_send;
          },
          [](const binary&) -> std::error_code { return {}; },
          [](const ping& p) -> std::error_code {
            return p.data.size() <= 125 ? std::error_code{} : error::invalid_frame_to_send;
          },
          [](const pong& p) -> std::error_code {
            return p.data.size() <= 125 ? std::error_code{} : error::invalid_frame_to_send;
          },
          [](const close_frame& c) -> std::error_code {
            if (c.code == close_code::no_status)
              return c.reason.empty() ? std::error_code{} : error::invalid_frame_to_send;
            if (!is_valid_wire_close_code(c.code) || c.reason.size() > max_close_reason_size)
              return error::invalid_frame_to_send;
            return is_valid_utf8(c.reason) ? std::error_code{} : error::invalid_utf8_to_send;
          },
      },
      f);
}

namespace {

frame_header make_header(opcode op, bool fin, std::size_t size, role r, bool compressed = false) {
  frame_header h;
  h.fin = fin;
  h.rsv1 = compressed;
  h.raw_opcode = static_cast<std::uint8_t>(op);
  h.length = size;
  h.masked = r == role::client;
  if (h.masked) h.key = next_mask_key();
  return h;
}

void append_header(const frame_header& h, std::string& out) {
  char header[max_header_size];
  out.append(header, encode_header(h, header));
}

}  // namespace

void encoder::encode_header_masking(opcode op, bool fin, std::string& payload, std::string& out) {
  const frame_header h = make_header(op, fin, payload.size(), role_);
  append_header(h, out);
  if (h.masked) apply_mask(payload.data(), payload.size(), h.key);
}

void encoder::encode_frame(opcode op, bool fin, std::string_view payload, std::string& out, bool compressed) {
  const frame_header h = make_header(op, fin, payload.size(), role_, compressed);
  append_header(h, out);
  const std::size_t body = out.size();
  out.append(payload);
  if (h.masked) apply_mask(out.data() + body, payload.size(), h.key);
}

void encoder::encode_message(opcode op, std::string_view payload, std::string& out) {
  if (!compresses(payload.size())) {
    encode_frame(op, true, payload, out);
    return;
  }
  deflater_->compress(payload, compressed_);
  encode_frame(op, true, compressed_, out, true);
}

void encoder::encode(const frame& f, std::string& out) {
  std::visit(overloaded{
                 [&](const text& t) { encode_message(opcode::text, t.data, out); },
                 [&](const binary& b) { encode_message(opcode::binary, b.data, out); },
                 [&](const ping& p) { encode_frame(opcode::ping, true, p.data, out); },
                 [&](const pong& p) { encode_frame(opcode::pong, true, p.data, out); },
                 [&](const close_frame& c) {
                   if (c.code == close_code::no_status) {
                     encode_frame(opcode::close, true, {}, out);
                     return;
                   }
                   std::string payload;
                   payload.reserve(2 + c.reason.size());
                   payload.push_back(static_cast<char>(c.code >> 8));
                   payload.push_back(static_cast<char>(c.code & 0xFF));
                   payload.append(c.reason);
                   encode_frame(opcode::close, true, payload, out);
                 },
             },
             f);
}

}  // namespace wscoro::ws
