#include "ws/deflate_negotiation.hpp"

#include <algorithm>
#include <vector>

#include "wscoro/error.hpp"
#include "wscoro/http.hpp"

namespace wscoro::ws {
namespace {

constexpr std::string_view extension_name = "permessage-deflate";
constexpr int default_window_bits = 15;

struct parameter {
  std::string_view name;
  std::optional<std::string> value;  // unquoted
};

struct extension {
  std::string_view name;
  std::vector<parameter> parameters;
};

bool is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A cursor over a Sec-WebSocket-Extensions value (RFC 6455 section 9.1):
// extension *( "," extension ), extension = token *( ";" token [ "=" (token | quoted-string) ] ).
class list_reader {
 public:
  explicit list_reader(std::string_view s) : s_(s) {}

  bool at_end() {
    skip_space();
    return i_ == s_.size();
  }
  bool take(char c) {
    skip_space();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  std::string_view token() {
    skip_space();
    const std::size_t start = i_;
    while (i_ < s_.size() && is_tchar(s_[i_])) ++i_;
    return s_.substr(start, i_ - start);
  }
  // A token or a quoted-string, unquoted; empty when neither is there.
  std::optional<std::string> value() {
    skip_space();
    if (i_ < s_.size() && s_[i_] == '"') {
      std::string out;
      for (++i_; i_ < s_.size(); ++i_) {
        if (s_[i_] == '"') {
          ++i_;
          return out;
        }
        if (s_[i_] == '\\' && ++i_ == s_.size()) break;
        out.push_back(s_[i_]);
      }
      return std::nullopt;  // unterminated
    }
    const auto t = token();
    if (t.empty()) return std::nullopt;
    return std::string(t);
  }

 private:
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  std::string_view s_;
  std::size_t i_ = 0;
};

// Every extension in the list (empty elements skipped); false when malformed.
bool parse_extensions(std::string_view list, std::vector<extension>& out) {
  list_reader in(list);
  while (!in.at_end()) {
    if (in.take(',')) continue;
    extension e;
    e.name = in.token();
    if (e.name.empty()) return false;
    while (in.take(';')) {
      parameter p;
      p.name = in.token();
      if (p.name.empty()) return false;
      if (in.take('=')) {
        p.value = in.value();
        if (!p.value) return false;
      }
      e.parameters.push_back(std::move(p));
    }
    if (!in.at_end() && !in.take(',')) return false;
    out.push_back(std::move(e));
  }
  return true;
}

// A window size as RFC 7692 writes it: 8 to 15, no leading zero.
std::optional<int> window_bits(const std::optional<std::string>& value) {
  if (!value || value->empty() || value->size() > 2 || (*value)[0] == '0') return std::nullopt;
  int n = 0;
  for (char c : *value) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n < 8 || n > 15) return std::nullopt;
  return n;
}

// What the server's one permessage-deflate element says.
struct answer_parameters {
  std::optional<int> server_max_window_bits;
  std::optional<int> client_max_window_bits;
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
};

std::error_code read_parameters(const extension& e, answer_parameters& out) {
  bool seen[4] = {};
  for (const parameter& p : e.parameters) {
    int which = -1;
    if (iequals(p.name, "server_no_context_takeover")) which = 0;
    if (iequals(p.name, "client_no_context_takeover")) which = 1;
    if (iequals(p.name, "server_max_window_bits")) which = 2;
    if (iequals(p.name, "client_max_window_bits")) which = 3;
    if (which < 0) return error::invalid_extension_parameter;
    if (seen[which]) return error::duplicate_extension_parameter;
    seen[which] = true;
    if (which < 2) {
      if (p.value) return error::invalid_extension_parameter;  // flags take no value
      (which == 0 ? out.server_no_context_takeover : out.client_no_context_takeover) = true;
      continue;
    }
    const auto bits = window_bits(p.value);  // in an answer, both need a value
    if (!bits) return error::invalid_extension_parameter;
    (which == 2 ? out.server_max_window_bits : out.client_max_window_bits) = bits;
  }
  return {};
}

std::error_code check_answer(std::string_view answer, const deflate_options* offer,
                             std::optional<deflate_parameters>& agreed);

}  // namespace

std::string deflate_parameters::to_string() const {
  std::string out(extension_name);
  if (server_no_context_takeover) out += "; server_no_context_takeover";
  if (client_no_context_takeover) out += "; client_no_context_takeover";
  if (server_max_window_bits != default_window_bits)
    out += "; server_max_window_bits=" + std::to_string(server_max_window_bits);
  if (client_max_window_bits != default_window_bits)
    out += "; client_max_window_bits=" + std::to_string(client_max_window_bits);
  return out;
}

deflate_options clamped(deflate_options options) noexcept {
  options.client_max_window_bits = std::clamp(options.client_max_window_bits, 8, 15);
  options.server_max_window_bits = std::clamp(options.server_max_window_bits, 8, 15);
  options.level = std::clamp(options.level, -1, 9);
  options.memory_level = std::clamp(options.memory_level, 1, 9);
  return options;
}

std::string deflate_offer(const deflate_options& requested) {
  const deflate_options o = clamped(requested);
  std::string out(extension_name);
  if (o.compat) return out;
  if (o.server_no_context_takeover) out += "; server_no_context_takeover";
  if (o.client_no_context_takeover) out += "; client_no_context_takeover";
  if (o.server_max_window_bits != default_window_bits)
    out += "; server_max_window_bits=" + std::to_string(o.server_max_window_bits);
  // Offered in any case: the server may then limit our window too.
  out += "; client_max_window_bits";
  if (o.client_max_window_bits != default_window_bits) out += "=" + std::to_string(o.client_max_window_bits);
  return out;
}

std::error_code accept_deflate_answer(std::string_view answer, const deflate_options* offer,
                                      std::optional<deflate_parameters>& agreed) {
  agreed.reset();
  const std::error_code ec = check_answer(answer, offer, agreed);
  if (ec) agreed.reset();  // nothing is agreed by a refused answer, even in part
  return ec;
}

namespace {

std::error_code check_answer(std::string_view answer, const deflate_options* offer,
                             std::optional<deflate_parameters>& agreed) {
  std::vector<extension> extensions;
  if (!parse_extensions(answer, extensions)) return error::invalid_extension_parameter;
  for (const extension& e : extensions) {
    if (!offer || !iequals(e.name, extension_name)) return error::unoffered_extension;
    if (agreed) return error::duplicate_extension;  // we made one offer: it can be accepted once

    answer_parameters a;
    if (auto ec = read_parameters(e, a)) return ec;
    const deflate_options o = clamped(*offer);
    deflate_parameters p;
    if (a.server_max_window_bits) {
      if (!o.compat && *a.server_max_window_bits > o.server_max_window_bits)
        return error::extension_parameter_rejected;
      p.server_max_window_bits = *a.server_max_window_bits;
    } else if (!o.compat && o.server_max_window_bits != default_window_bits) {
      return error::extension_parameter_rejected;  // a limit we asked for was not agreed
    }
    if (a.client_max_window_bits) {
      if (o.compat) return error::extension_parameter_rejected;  // not offered
      p.client_max_window_bits = std::min(o.client_max_window_bits, *a.client_max_window_bits);
    } else {
      p.client_max_window_bits = o.compat ? default_window_bits : o.client_max_window_bits;
    }
    if (!o.compat && o.server_no_context_takeover && !a.server_no_context_takeover)
      return error::extension_parameter_rejected;
    p.server_no_context_takeover = a.server_no_context_takeover;
    p.client_no_context_takeover = a.client_no_context_takeover || (!o.compat && o.client_no_context_takeover);
    agreed = p;
  }
  return {};
}

}  // namespace

}  // namespace wscoro::ws
