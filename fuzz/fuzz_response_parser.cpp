// http::response_parser over a fuzzed byte stream, fed as lib/connection.cpp
// feeds it (unconsumed bytes are kept for the next read), then finish().
//
// Input: byte 0 picks how the stream is cut into reads (fuzz::chunker);
// byte 1 bit 0 marks a HEAD request, bits 1-3 pick max_header_size and
// bits 4-7 max_body_size from the tables below; the rest is the stream.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>

#include "fuzz_common.hpp"
#include "fuzz_targets.hpp"
#include "http/response_parser.hpp"
#include "wscoro/error.hpp"

namespace wscoro::fuzz {
namespace {

constexpr std::size_t header_limits[8] = {16, 64, 128, 256, 512, 1024, 8192, 65536};
constexpr std::size_t body_limits[16] = {
    0, 1, 2, 5, 16, 64, 100, 256, 1000, 1024, 4096, 10000, 65536, 1 << 20, 1 << 20,
    std::numeric_limits<std::size_t>::max()};

struct parse_outcome {
  std::error_code error;
  bool done = false;
  bool switching = false;
  bool keep_alive = false;
  std::size_t consumed = 0;  // of the whole stream
  response head;
};

// The head bytes the parser holds where we can see them; each field also
// costs the ": " and CRLF it had on the wire.
std::size_t visible_head_size(const response& r) {
  std::size_t n = r.reason.size();
  for (const header& h : r.headers) n += h.name.size() + h.value.size() + 4;
  return n;
}

parse_outcome parse_in_pieces(std::string_view stream, bool head_request, std::size_t max_header,
                              std::size_t max_body, chunker cut) {
  http::response_parser p(max_header, max_body);
  p.start(head_request);
  parse_outcome out;
  std::string received;
  std::size_t at = 0;
  while (at < stream.size()) {
    const std::size_t n = cut.next(stream.size() - at);
    received.append(stream.substr(at, n));
    at += n;
    const auto r = p.feed(received);
    FUZZ_CHECK(r.consumed <= received.size());
    // Short of the end of a response, every byte is taken: what is left
    // would otherwise be fed to llhttp a second time.
    if (!r.error && !p.done()) FUZZ_CHECK(r.consumed == received.size());
    out.consumed += r.consumed;
    received.erase(0, r.consumed);
    if (r.error) {
      out.error = r.error;
      break;
    }
    FUZZ_CHECK(p.get().body.size() <= max_body);
    FUZZ_CHECK(visible_head_size(p.get()) <= max_header);
    if (p.done()) break;
  }
  if (!out.error && !p.done()) {
    out.error = p.finish();
    if (!out.error) FUZZ_CHECK(p.done() && !p.keep_alive());
  }
  if (out.error) {
    FUZZ_CHECK(out.error == error::bad_response || out.error == error::connection_closed ||
               out.error == error::header_too_large || out.error == error::body_too_large);
  }
  out.done = p.done();
  out.switching = p.switching_protocols();
  out.keep_alive = p.keep_alive();
  out.head = p.get();
  FUZZ_CHECK(out.head.body.size() <= max_body);
  if (out.done) {
    FUZZ_CHECK(!out.error);
    FUZZ_CHECK(out.head.status < 100 || out.head.status >= 200 || out.head.status == 101);
    FUZZ_CHECK(visible_head_size(out.head) <= max_header);
    if (out.switching || head_request) FUZZ_CHECK(out.head.body.empty());
    // A finished parser takes nothing more.
    const auto again = p.feed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    FUZZ_CHECK(again.consumed == 0 && !again.error);
    FUZZ_CHECK(!p.finish());
  }
  return out;
}

}  // namespace
}  // namespace wscoro::fuzz

int fuzz_response_parser_one(const std::uint8_t* data, std::size_t size) {
  using namespace wscoro;
  using namespace wscoro::fuzz;
  input in(data, size);
  const chunker cut(in.take_byte());
  const std::uint8_t flags = in.take_byte();
  const bool head_request = (flags & 1) != 0;
  const std::size_t max_header = header_limits[(flags >> 1) & 7];
  const std::size_t max_body = body_limits[flags >> 4];
  const std::string_view stream = in.rest();

  const parse_outcome got = parse_in_pieces(stream, head_request, max_header, max_body, cut);
  if (!cut.whole()) {
    // The same bytes in one read give the same response. The head size
    // limit may trip at a different point, as it also counts bytes llhttp
    // skips while the head is unfinished, so it is left out.
    const parse_outcome whole = parse_in_pieces(stream, head_request, max_header, max_body, chunker(0));
    if (whole.error != error::header_too_large && got.error != error::header_too_large) {
      FUZZ_CHECK(whole.error == got.error);
      FUZZ_CHECK(whole.done == got.done);
      if (!got.error) {
        FUZZ_CHECK(whole.consumed == got.consumed);
        FUZZ_CHECK(whole.switching == got.switching);
        FUZZ_CHECK(whole.keep_alive == got.keep_alive);
        FUZZ_CHECK(whole.head == got.head);
      }
    }
  }
  return 0;
}

WSCORO_FUZZ_ENTRY(fuzz_response_parser_one)
