// HTTP/1.1 requests and responses as plain values.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wscoro {

/// One header field. (Not an aggregate, for the reason frame.hpp gives.)
struct header {
  header(std::string field_name, std::string field_value)
      : name(std::move(field_name)), value(std::move(field_value)) {}
  std::string name;
  std::string value;
  friend bool operator==(const header&, const header&) = default;
};

/// Header fields in the order they appear on the wire. Names keep their
/// spelling; every lookup ignores case, as HTTP does.
class fields {
 public:
  fields() = default;
  fields(std::initializer_list<header> list) : list_(list) {}

  void add(std::string name, std::string value) {
    list_.push_back({std::move(name), std::move(value)});
  }
  /// The value of the first field called `name`, if any.
  std::optional<std::string_view> find(std::string_view name) const;
  /// Every value of the fields called `name`, joined by ", " (RFC 9110 5.3).
  std::optional<std::string> combined(std::string_view name) const;
  bool contains(std::string_view name) const { return find(name).has_value(); }
  /// How many fields are called `name`.
  std::size_t count(std::string_view name) const;

  auto begin() const { return list_.begin(); }
  auto end() const { return list_.end(); }
  std::size_t size() const { return list_.size(); }
  bool empty() const { return list_.empty(); }
  friend bool operator==(const fields&, const fields&) = default;

 private:
  std::vector<header> list_;
};

/// True when `a` and `b` are equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b) noexcept;

/// One HTTP request. (Not an aggregate, for the reason frame.hpp gives.)
struct request {
  request() = default;
  request(std::string request_method, std::string request_target, fields request_headers = {},
          std::string request_body = {})
      : method(std::move(request_method)),
        target(std::move(request_target)),
        headers(std::move(request_headers)),
        body(std::move(request_body)) {}

  std::string method = "GET";
  std::string target = "/";
  /// Host and, for a non-empty body, Content-Length are added unless present.
  fields headers;
  std::string body;
};

struct response {
  unsigned status = 0;
  std::string reason;
  /// 0 for HTTP/1.0, 1 for HTTP/1.1.
  unsigned version_minor = 1;
  fields headers;
  /// The body with any chunked transfer coding removed.
  std::string body;
  friend bool operator==(const response&, const response&) = default;
};

}  // namespace wscoro
