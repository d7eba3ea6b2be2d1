#include "http/response_parser.hpp"

#include "wscoro/error.hpp"

namespace wscoro::http {

// llhttp's callback table, used as llhttp intends: the parser finds the
// message boundaries and framing, these only collect what it reports.
struct parser_callbacks {
  static response_parser& self(llhttp_t* p) { return *static_cast<response_parser*>(p->data); }

  static int on_message_begin(llhttp_t* p) {
    auto& s = self(p);
    s.response_ = response{};
    s.field_name_.clear();
    s.field_value_.clear();
    return HPE_OK;
  }

  static int on_status(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = self(p);
    s.response_.reason.append(at, n);
    return s.note_head_bytes(n) ? HPE_USER : HPE_OK;
  }

  static int on_header_field(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = self(p);
    s.field_name_.append(at, n);
    return s.note_head_bytes(n) ? HPE_USER : HPE_OK;
  }

  static int on_header_value(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = self(p);
    s.field_value_.append(at, n);
    return s.note_head_bytes(n) ? HPE_USER : HPE_OK;
  }

  static int on_header_value_complete(llhttp_t* p) {
    auto& s = self(p);
    s.response_.headers.add(std::move(s.field_name_), std::move(s.field_value_));
    s.field_name_.clear();
    s.field_value_.clear();
    return s.note_head_bytes(4) ? HPE_USER : HPE_OK;  // ": " and CRLF
  }

  static int on_headers_complete(llhttp_t* p) {
    auto& s = self(p);
    s.response_.status = p->status_code;
    s.response_.version_minor = p->http_minor;
    // 1: this response has no body. Neither has a 1xx (RFC 9110 15.2),
    // whatever Content-Length or Transfer-Encoding it names, which llhttp
    // would otherwise read, after a 101 from the upgraded protocol's bytes.
    const bool informational = p->status_code >= 100 && p->status_code < 200;
    return s.head_request_ || s.connect_request_ || informational ? 1 : 0;
  }

  static int on_body(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = self(p);
    if (n > s.max_body_size_ - s.response_.body.size()) {
      s.callback_error_ = error::body_too_large;
      return HPE_USER;
    }
    s.response_.body.append(at, n);
    return HPE_OK;
  }

  static int on_message_complete(llhttp_t* p) {
    auto& s = self(p);
    const unsigned status = p->status_code;
    if (status >= 100 && status < 200 && status != 101) return HPE_OK;  // informational: another head follows
    s.done_ = true;
    s.keep_alive_ = llhttp_should_keep_alive(p) != 0;
    // Stop at the message end. llhttp pauses by itself after a 101 only when
    // it also saw Upgrade and Connection: upgrade; without them it would
    // parse the upgraded protocol's bytes as a next response.
    return HPE_PAUSED;
  }
};

namespace {

const llhttp_settings_t& settings() {
  static const llhttp_settings_t table = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = parser_callbacks::on_message_begin;
    s.on_status = parser_callbacks::on_status;
    s.on_header_field = parser_callbacks::on_header_field;
    s.on_header_value = parser_callbacks::on_header_value;
    s.on_header_value_complete = parser_callbacks::on_header_value_complete;
    s.on_headers_complete = parser_callbacks::on_headers_complete;
    s.on_body = parser_callbacks::on_body;
    s.on_message_complete = parser_callbacks::on_message_complete;
    return s;
  }();
  return table;
}

}  // namespace

response_parser::response_parser(std::size_t max_header_size, std::size_t max_body_size) noexcept
    : max_header_size_(max_header_size), max_body_size_(max_body_size) {
  start(false);
}

void response_parser::start(bool head_request) noexcept {
  llhttp_init(&parser_, HTTP_RESPONSE, &settings());
  parser_.data = this;
  head_request_ = head_request;
  connect_request_ = false;
  done_ = false;
  keep_alive_ = false;
  head_bytes_ = 0;
  head_bytes_fed_ = 0;
  callback_error_ = {};
  response_ = response{};
}

void response_parser::start_tunnel() noexcept {
  start(false);
  connect_request_ = true;
}

std::error_code response_parser::note_head_bytes(std::size_t n) noexcept {
  head_bytes_ += n;
  if (head_bytes_ > max_header_size_) callback_error_ = error::header_too_large;
  return callback_error_;
}

response_parser::result response_parser::feed(std::string_view in) {
  if (done_ || in.empty()) return {};
  const llhttp_errno_t rc = llhttp_execute(&parser_, in.data(), in.size());
  switch (rc) {
    case HPE_OK:
      // While the head is unfinished every byte fed counts against the
      // limit, also bytes llhttp skips without a callback (padding, spaces).
      if (response_.status == 0) {
        head_bytes_fed_ += in.size();
        if (head_bytes_fed_ > max_header_size_) return {in.size(), error::header_too_large};
      }
      return {in.size(), {}};
    case HPE_PAUSED:
    case HPE_PAUSED_UPGRADE: {
      const std::size_t used = static_cast<std::size_t>(llhttp_get_error_pos(&parser_) - in.data());
      return {used, {}};
    }
    case HPE_USER:
      return {0, callback_error_};
    default:
      return {0, error::bad_response};
  }
}

std::error_code response_parser::finish() {
  if (done_) return {};
  const llhttp_errno_t rc = llhttp_finish(&parser_);
  if (rc == HPE_PAUSED || (rc == HPE_OK && done_)) {
    keep_alive_ = false;
    return {};
  }
  if (rc == HPE_USER) return callback_error_;
  return error::connection_closed;
}

}  // namespace wscoro::http
