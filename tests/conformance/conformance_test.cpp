// An Autobahn-style conformance suite for wscoro in the client role.
//
// Each case is a scripted server (tests/conformance/case_player.hpp) that
// plays raw frame bytes (tests/conformance/raw_frames.hpp) against the
// wsecho sample, which echoes every text and binary message and answers
// close. A case is strictly OK only when
//   - the client sent exactly the expected frames, in order (echoes and pongs
//     compared byte for byte; the close frame by its code, 1005 standing for
//     an empty close frame), and nothing after its close frame,
//   - wsecho exited 0 for a clean close, 1 for a protocol violation, and
//   - nothing ran into the case's deadline.
// One TEST_CASE per group; the last one prints the per-group table.
#include <doctest/doctest.h>

#include <chrono>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "case_player.hpp"
#include "raw_frames.hpp"
#include "ws/deflate_codec.hpp"

using namespace wscoro;
using namespace wscoro::conformance;

namespace {

// ---------------------------------------------------------------- payloads

std::string ascii(std::size_t n) {
  static const std::string_view alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string s(n, ' ');
  for (std::size_t i = 0; i < n; ++i) s[i] = alphabet[(i * 7 + i / 64) % alphabet.size()];
  return s;
}

// Every byte value, in an order that does not repeat with a short period.
std::string bytes(std::size_t n, unsigned seed = 1) {
  std::string s(n, '\0');
  std::uint32_t x = 0x9E3779B9u * seed + 1;
  for (std::size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s[i] = static_cast<char>(x & 0xFF);
  }
  return s;
}

// Exactly n bytes of valid UTF-8 mixing 1- to 4-byte characters.
std::string utf8_text(std::size_t n) {
  static const std::string_view pieces[] = {"a",           "\xCE\xBA",         "b",  "\xE2\x82\xAC",
                                            "\xF0\x9F\x98\x80", "c",           "\xCF\x8C", "\xF4\x8F\xBF\xBF",
                                            " ",           "\xEF\xBF\xBD",     "d",  "\xF0\x90\x80\x80"};
  std::string s;
  s.reserve(n);
  std::size_t k = 0;
  while (s.size() < n) {
    const std::string_view p = pieces[k++ % std::size(pieces)];
    if (s.size() + p.size() <= n) s.append(p);
    else s.push_back('z');
  }
  return s;
}

const std::string kosme = "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5";  // κόσμε

// ------------------------------------------------------------- case builders

std::vector<frame> with_close(std::vector<frame> frames, std::uint16_t code) {
  frames.emplace_back(close_frame(code));
  return frames;
}

// A clean case: the server sends `bytes`, waits for every expected echo or
// pong, then closes with 1000; the client answers 1000 and exits 0.
conformance_case echo_case(std::string id, std::string title, std::string bytes_to_send, std::vector<frame> echoes,
                           std::size_t chunk = 0, std::chrono::microseconds chunk_delay = {}) {
  conformance_case c;
  c.id = std::move(id);
  c.title = std::move(title);
  const std::size_t n = echoes.size();
  c.script.push_back(send(std::move(bytes_to_send), chunk, chunk_delay));
  c.script.push_back(await_frames(n));
  c.script.push_back(send(close_with_code(1000)));
  c.expected = with_close(std::move(echoes), 1000);
  return c;
}

// A violation: the server sends `bytes`; the client answers `echoes` for what
// came before the violation, then closes with `code` and exits 1.
conformance_case fail_case(std::string id, std::string title, std::string bytes_to_send, std::uint16_t code,
                           std::vector<frame> echoes = {}, std::size_t chunk = 0,
                           std::chrono::microseconds chunk_delay = {}) {
  conformance_case c;
  c.id = std::move(id);
  c.title = std::move(title);
  c.script.push_back(send(std::move(bytes_to_send), chunk, chunk_delay));
  c.expected = with_close(std::move(echoes), code);
  c.clean = false;
  return c;
}

// A violation after a valid prelude whose answers are awaited first.
conformance_case fail_after(std::string id, std::string title, std::string prelude, std::vector<frame> echoes,
                            std::string violation, std::uint16_t code) {
  conformance_case c;
  c.id = std::move(id);
  c.title = std::move(title);
  const std::size_t n = echoes.size();
  c.script.push_back(send(std::move(prelude)));
  c.script.push_back(await_frames(n));
  c.script.push_back(send(std::move(violation)));
  c.expected = with_close(std::move(echoes), code);
  c.clean = false;
  return c;
}

std::vector<frame> one(frame f) {
  std::vector<frame> v;
  v.push_back(std::move(f));
  return v;
}

// ------------------------------------------------------------------ judging

std::uint32_t fnv1a(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  return h;
}

std::string describe_payload(std::string_view data) {
  std::ostringstream out;
  out << data.size() << " bytes";
  if (data.size() <= 40) {
    out << " \"" << escape_bytes(data, 40) << "\"";
  } else {
    out << " \"" << escape_bytes(data, 16) << "\" fnv1a=" << std::hex << fnv1a(data);
  }
  return out.str();
}

std::string describe(const frame& f) {
  if (auto* t = std::get_if<text>(&f)) return "text(" + describe_payload(t->data) + ")";
  if (auto* b = std::get_if<binary>(&f)) return "binary(" + describe_payload(b->data) + ")";
  if (auto* p = std::get_if<ping>(&f)) return "ping(" + describe_payload(p->data) + ")";
  if (auto* p = std::get_if<pong>(&f)) return "pong(" + describe_payload(p->data) + ")";
  const auto& c = std::get<close_frame>(f);
  if (c.code == close_code::no_status) return "close(empty)";
  return "close(" + std::to_string(c.code) + (c.reason.empty() ? "" : ", \"" + escape_bytes(c.reason) + "\"") + ")";
}

std::string describe(const std::vector<frame>& frames) {
  std::string out = "[";
  for (std::size_t i = 0; i < frames.size(); ++i) out += (i ? ", " : "") + describe(frames[i]);
  return out + "]";
}

// Close frames by code only; everything else byte for byte.
bool same_frame(const frame& a, const frame& b) {
  if (a.index() != b.index()) return false;
  if (auto* c = std::get_if<close_frame>(&a)) return c->code == std::get<close_frame>(b).code;
  return a == b;
}

std::string payload_of(const frame& f) {
  return std::visit(
      [](const auto& x) -> std::string {
        if constexpr (std::is_same_v<std::decay_t<decltype(x)>, close_frame>) return x.reason;
        else return x.data;
      },
      f);
}

// Where two frame sequences first differ, in words.
std::string first_difference(const std::vector<frame>& expected, const std::vector<frame>& actual) {
  for (std::size_t i = 0; i < std::max(expected.size(), actual.size()); ++i) {
    if (i >= actual.size()) return "frame " + std::to_string(i) + " missing: expected " + describe(expected[i]);
    if (i >= expected.size()) return "unexpected frame " + std::to_string(i) + ": " + describe(actual[i]);
    if (same_frame(expected[i], actual[i])) continue;
    std::string d = "frame " + std::to_string(i) + ": expected " + describe(expected[i]) + ", got " + describe(actual[i]);
    if (expected[i].index() == actual[i].index()) {
      const std::string e = payload_of(expected[i]);
      const std::string a = payload_of(actual[i]);
      std::size_t at = 0;
      while (at < e.size() && at < a.size() && e[at] == a[at]) ++at;
      d += " (first differing byte at offset " + std::to_string(at) + ")";
    }
    return d;
  }
  return {};
}

struct group_tally {
  std::string name;
  int cases = 0;
  int ok = 0;
  std::vector<std::string> failed;
  double seconds = 0;
};

std::vector<group_tally>& tallies() {
  static std::vector<group_tally> t;
  return t;
}

std::string exit_text(int status) {
  return status < 0 ? "no exit status" : std::to_string(status);
}

// Runs and judges one case; true when strictly OK.
bool play_and_judge(const conformance_case& c) {
  const case_result r = run_case(c);
  CAPTURE(c.id);
  CAPTURE(c.title);
  const std::string context = "case " + c.id + " (" + c.title + ")";
  const std::string diff = first_difference(c.expected, r.received);
  const int wanted_exit = c.clean ? 0 : 1;
  std::string evidence = "\n  expected frames: " + describe(c.expected) + "\n  client sent:     " + describe(r.received);
  if (!r.got_close) evidence += "\n  reading stopped before a close frame: " + r.read_end.message();
  evidence += "\n  wsecho exit: " + exit_text(r.exit_status) + (r.exit_note.empty() ? "" : " (" + r.exit_note + ")");
  if (!r.wsecho_stderr.empty()) evidence += "\n  wsecho stderr: " + escape_bytes(r.wsecho_stderr, 300);
  if (r.close_after_last_write.count() >= 0)
    evidence += "\n  client close " + std::to_string(r.close_after_last_write.count()) + " ms after the last write";
  evidence += "\n  case took " + std::to_string(r.elapsed.count()) + " ms";

  bool ok = true;
  const bool frames_ok = diff.empty();
  CHECK_MESSAGE(frames_ok, context << ": " << diff << evidence);
  ok = ok && frames_ok;
  const bool exit_ok = r.exit_status == wanted_exit;
  CHECK_MESSAGE(exit_ok, context << ": wsecho exited " << exit_text(r.exit_status) << ", expected " << wanted_exit
                                 << evidence);
  ok = ok && exit_ok;
  for (const std::string& p : r.problems) CHECK_MESSAGE(false, context << ": " << p << evidence);
  ok = ok && r.problems.empty();
  if (c.expect_client_eof) {
    CHECK_MESSAGE(r.client_eof, context << ": the client did not close TCP within " << c.linger.count() << " ms"
                                        << evidence);
    ok = ok && r.client_eof;
    if (r.client_eof)
      MESSAGE(context << ": the client closed TCP " << r.eof_after.count() << " ms after its close frame");
  }
  return ok;
}

void run_group(const std::string& name, const std::vector<conformance_case>& cases) {
  const auto start = std::chrono::steady_clock::now();
  group_tally tally;
  tally.name = name;
  for (const conformance_case& c : cases) {
    ++tally.cases;
    if (play_and_judge(c)) ++tally.ok;
    else tally.failed.push_back(c.id);
  }
  tally.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  tallies().push_back(std::move(tally));
}

const std::size_t framing_lengths[] = {0, 1, 125, 126, 127, 128, 65535, 65536, 65537, 1024 * 1024};

}  // namespace

// ===================================================================== 1

TEST_CASE("conformance 1: framing") {
  std::vector<conformance_case> cases;
  int k = 0;
  for (std::size_t n : framing_lengths) {
    ++k;
    const std::string payload = ascii(n);
    cases.push_back(echo_case("1.1." + std::to_string(k), "text, " + std::to_string(n) + " bytes",
                              text_frame(payload), one(text(payload))));
  }
  k = 0;
  for (std::size_t n : framing_lengths) {
    ++k;
    const std::string payload = bytes(n, static_cast<unsigned>(k));
    cases.push_back(echo_case("1.2." + std::to_string(k), "binary, " + std::to_string(n) + " bytes",
                              binary_frame(payload), one(binary(payload))));
  }
  // The same in small TCP writes (TCP_NODELAY, a pause between the 1-byte ones).
  k = 0;
  for (std::size_t n : {0, 1, 125, 126, 127, 128}) {
    ++k;
    const std::string t = ascii(n);
    cases.push_back(echo_case("1.3." + std::to_string(k), "text, " + std::to_string(n) + " bytes in 1-byte writes",
                              text_frame(t), one(text(t)), 1, std::chrono::microseconds(300)));
  }
  for (std::size_t n : {0, 1, 125, 126, 127, 128}) {
    ++k;
    const std::string b = bytes(n, 40 + static_cast<unsigned>(k));
    cases.push_back(echo_case("1.3." + std::to_string(k), "binary, " + std::to_string(n) + " bytes in 1-byte writes",
                              binary_frame(b), one(binary(b)), 1, std::chrono::microseconds(300)));
  }
  for (std::size_t n : {65535, 65536}) {
    ++k;
    const std::string t = ascii(n);
    cases.push_back(echo_case("1.3." + std::to_string(k), "text, " + std::to_string(n) + " bytes in 3-byte writes",
                              text_frame(t), one(text(t)), 3));
    ++k;
    const std::string b = bytes(n, 60 + static_cast<unsigned>(k));
    cases.push_back(echo_case("1.3." + std::to_string(k), "binary, " + std::to_string(n) + " bytes in 3-byte writes",
                              binary_frame(b), one(binary(b)), 3));
  }
  // Several messages in one write, echoed in order.
  {
    std::string all;
    std::vector<frame> echoes;
    for (int i = 0; i < 100; ++i) {
      const std::string p = "message " + std::to_string(i);
      if (i % 2) {
        all += binary_frame(p);
        echoes.emplace_back(binary(p));
      } else {
        all += text_frame(p);
        echoes.emplace_back(text(p));
      }
    }
    cases.push_back(echo_case("1.4.1", "100 alternating text/binary messages in one write", all, echoes));
  }
  // Header rules: a server must not mask; lengths are minimally encoded
  // (wscoro fails a non-minimal length with 1002, error::non_minimal_length).
  {
    wire_options masked;
    masked.masked = true;
    cases.push_back(fail_case("1.5.1", "masked text frame from the server", wire(op_text, "masked", masked), 1002));
    wire_options form16;
    form16.length_form = 16;
    cases.push_back(fail_case("1.5.2", "5-byte text with a 16-bit length", wire(op_text, "short", form16), 1002));
    wire_options form64;
    form64.length_form = 64;
    cases.push_back(fail_case("1.5.3", "200-byte text with a 64-bit length", wire(op_text, ascii(200), form64), 1002));
    wire_options top_bit;
    top_bit.raw_length64 = 0x8000000000000001ULL;
    cases.push_back(fail_case("1.5.4", "64-bit length with its top bit set", wire(op_binary, "", top_bit), 1002));
  }
  for (auto& c : cases)
    if (c.expected.size() == 2 && payload_of(c.expected[0]).size() >= 65535) c.deadline = 15s;
  run_group("1 Framing", cases);
}

// ===================================================================== 2

TEST_CASE("conformance 2: pings and pongs") {
  std::vector<conformance_case> cases;
  cases.push_back(echo_case("2.1", "ping, empty payload", ping_frame(""), one(pong(""))));
  const std::string p125 = ascii(125);
  cases.push_back(echo_case("2.2", "ping, 125-byte text payload", ping_frame(p125), one(pong(p125))));
  const std::string b125 = bytes(125, 7);
  cases.push_back(echo_case("2.3", "ping, 125-byte binary payload", ping_frame(b125), one(pong(b125))));
  cases.push_back(fail_case("2.4", "ping, 126-byte payload", ping_frame(ascii(126)), 1002));
  cases.push_back(echo_case("2.5", "unsolicited empty pong, then text",
                            pong_frame("") + text_frame("after pong"), one(text("after pong"))));
  cases.push_back(echo_case("2.6", "unsolicited 125-byte pong, then text",
                            pong_frame(p125) + text_frame("after pong"), one(text("after pong"))));
  cases.push_back(fail_case("2.7", "fragmented ping",
                            wire(op_ping, "frag", fin(false)) + continuation_frame("ment", true), 1002));
  {
    std::string all;
    std::vector<frame> pongs;
    for (int i = 0; i < 10; ++i) {
      const std::string p = "ping " + std::to_string(i);
      all += ping_frame(p);
      pongs.emplace_back(pong(p));
    }
    cases.push_back(echo_case("2.8", "10 pings in one write", all, pongs));
  }
  cases.push_back(echo_case("2.9", "125-byte ping in 1-byte writes", ping_frame(p125), one(pong(p125)), 1,
                            std::chrono::microseconds(300)));
  cases.push_back(fail_case("2.10", "fragmented pong",
                            wire(op_pong, "frag", fin(false)) + continuation_frame("ment", true), 1002));
  {
    // A ping before a message is answered before the message's echo (the
    // echo needs the message, which comes after the ping). A ping after a
    // message may be answered before or after its echo: no order is judged
    // there, so the second ping waits for the echo.
    conformance_case c;
    c.id = "2.11";
    c.title = "ping then text in one write: pong before echo; then another ping";
    c.script.push_back(send(ping_frame("one") + text_frame("between")));
    c.script.push_back(await_frames(2));
    c.script.push_back(send(ping_frame("two")));
    c.script.push_back(await_frames(3));
    c.script.push_back(send(close_with_code(1000)));
    c.expected = with_close(std::vector<frame>{pong("one"), text("between"), pong("two")}, 1000);
    cases.push_back(c);
  }
  run_group("2 Pings and pongs", cases);
}

// ===================================================================== 3

TEST_CASE("conformance 3: reserved bits") {
  std::vector<conformance_case> cases;
  const std::pair<std::uint8_t, const char*> bits[] = {{rsv1, "RSV1"}, {rsv2, "RSV2"}, {rsv3, "RSV3"}};
  const std::pair<std::uint8_t, const char*> ops[] = {{op_text, "text"}, {op_binary, "binary"}, {op_ping, "ping"}};
  int k = 0;
  for (const auto& [op, op_name] : ops) {
    for (const auto& [bit, bit_name] : bits) {
      ++k;
      cases.push_back(fail_case("3.1." + std::to_string(k), std::string(op_name) + " with " + bit_name,
                                wire(op, "reserved bit", with_rsv(bit)), 1002));
    }
  }
  k = 0;
  for (const auto& [bit, bit_name] : bits) {
    ++k;
    cases.push_back(fail_after("3.2." + std::to_string(k),
                               std::string("text echoed, then text with ") + bit_name + " (separate writes)",
                               text_frame("Hello, world!"), one(text("Hello, world!")),
                               wire(op_text, "Hello, world!", with_rsv(bit)) + ping_frame(""), 1002));
  }
  // Autobahn 3.2: the valid text, the bad frame and a ping in one write.
  cases.push_back(fail_case("3.3.1", "text, then text with RSV2, then ping, in one write",
                            text_frame("Hello, world!") + wire(op_text, "Hello, world!", with_rsv(rsv2)) +
                                ping_frame(""),
                            1002, one(text("Hello, world!"))));
  cases.push_back(fail_case("3.4.1", "close with RSV1|RSV2|RSV3", wire(op_close, "\x03\xe8", with_rsv(rsv1 | rsv2 | rsv3)),
                            1002));
  cases.push_back(fail_case("3.4.2", "pong with RSV3", wire(op_pong, "", with_rsv(rsv3)), 1002));
  cases.push_back(fail_case("3.4.3", "continuation with RSV1 inside a text message",
                            text_frame("frag", false) + wire(op_continuation, "ment", with_rsv(rsv1)), 1002));
  cases.push_back(fail_case("3.4.4", "binary with all RSV bits, 1 MiB payload",
                            wire(op_binary, bytes(1024 * 1024, 3), with_rsv(rsv1 | rsv2 | rsv3)), 1002));
  run_group("3 Reserved bits", cases);
}

// ===================================================================== 4

TEST_CASE("conformance 4: opcodes") {
  std::vector<conformance_case> cases;
  int k = 0;
  for (std::uint8_t op : {3, 4, 5, 6, 7}) {
    ++k;
    cases.push_back(fail_case("4.1." + std::to_string(k), "reserved data opcode " + std::to_string(op),
                              wire(op, op == 3 ? "" : "reserved"), 1002));
  }
  k = 0;
  for (std::uint8_t op : {11, 12, 13, 14, 15}) {
    ++k;
    cases.push_back(fail_case("4.2." + std::to_string(k), "reserved control opcode " + std::to_string(op),
                              wire(op, op == 11 ? "" : "reserved"), 1002));
  }
  cases.push_back(fail_after("4.3.1", "text echoed, then opcode 5, then ping", text_frame("Hello"), one(text("Hello")),
                             wire(5, "reserved") + ping_frame(""), 1002));
  cases.push_back(fail_after("4.3.2", "text echoed, then opcode 13, then ping", text_frame("Hello"), one(text("Hello")),
                             wire(13, "reserved") + ping_frame(""), 1002));
  cases.push_back(fail_case("4.3.3", "opcode 6 inside a fragmented text message",
                            text_frame("frag", false) + wire(6, "x", fin(false)) + continuation_frame("ment", true),
                            1002));
  run_group("4 Opcodes", cases);
}

// ===================================================================== 5

TEST_CASE("conformance 5: fragmentation") {
  std::vector<conformance_case> cases;
  cases.push_back(fail_case("5.1", "ping in 2 fragments", wire(op_ping, "frag", fin(false)) + continuation_frame("ment", true),
                            1002));
  cases.push_back(fail_case("5.2", "pong in 2 fragments", wire(op_pong, "frag", fin(false)) + continuation_frame("ment", true),
                            1002));
  cases.push_back(echo_case("5.3", "text in 2 fragments", text_frame("frag", false) + continuation_frame("ment", true),
                            one(text("fragment"))));
  {
    conformance_case c;
    c.id = "5.4";
    c.title = "text in 2 fragments, 100 ms apart";
    c.script.push_back(send(text_frame("frag", false)));
    c.script.push_back(pause(100ms));
    c.script.push_back(send(continuation_frame("ment", true)));
    c.script.push_back(await_frames(1));
    c.script.push_back(send(close_with_code(1000)));
    c.expected = with_close(one(text("fragment")), 1000);
    cases.push_back(c);
  }
  cases.push_back(echo_case("5.5", "text in 2 fragments in 1-byte writes",
                            text_frame("frag", false) + continuation_frame("ment", true), one(text("fragment")), 1,
                            std::chrono::microseconds(300)));
  const std::string long_text = ascii(1000);
  cases.push_back(echo_case("5.6", "text in 10 fragments", fragmented(op_text, long_text, 100), one(text(long_text))));
  const std::string long_binary = bytes(1000, 5);
  cases.push_back(echo_case("5.7", "binary in 2 fragments", split_at(op_binary, long_binary, {500}), one(binary(long_binary))));
  cases.push_back(echo_case("5.8", "binary in 10 fragments", fragmented(op_binary, long_binary, 100),
                            one(binary(long_binary))));
  cases.push_back(echo_case("5.9", "text fragments with a ping between: pong before the echo",
                            text_frame("frag", false) + ping_frame("between") + continuation_frame("ment", true),
                            std::vector<frame>{pong("between"), text("fragment")}));
  cases.push_back(echo_case("5.10", "3 text fragments with a ping between each",
                            text_frame("one ", false) + ping_frame("p1") + continuation_frame("two ", false) +
                                ping_frame("p2") + continuation_frame("three", true),
                            std::vector<frame>{pong("p1"), pong("p2"), text("one two three")}));
  cases.push_back(echo_case("5.11", "text fragments with a ping between, in 1-byte writes",
                            text_frame("frag", false) + ping_frame("between") + continuation_frame("ment", true),
                            std::vector<frame>{pong("between"), text("fragment")}, 1, std::chrono::microseconds(300)));
  {
    conformance_case c;
    c.id = "5.12";
    c.title = "text fragment, ping, fragment, each after the previous answer or 50 ms";
    c.script.push_back(send(text_frame("frag", false)));
    c.script.push_back(pause(50ms));
    c.script.push_back(send(ping_frame("between")));
    c.script.push_back(await_frames(1));
    c.script.push_back(send(continuation_frame("ment", true)));
    c.script.push_back(await_frames(2));
    c.script.push_back(send(close_with_code(1000)));
    c.expected = with_close(std::vector<frame>{pong("between"), text("fragment")}, 1000);
    cases.push_back(c);
  }
  cases.push_back(fail_case("5.13", "continuation (FIN) without a start", continuation_frame("orphan", true), 1002));
  cases.push_back(fail_case("5.14", "continuation (no FIN) without a start", continuation_frame("orphan", false), 1002));
  cases.push_back(fail_after("5.15", "text echoed, then a continuation without a start", text_frame("whole"),
                             one(text("whole")), continuation_frame("orphan", true), 1002));
  cases.push_back(fail_case("5.16", "text start, then a new text start (FIN)",
                            text_frame("frag", false) + text_frame("new", true), 1002));
  cases.push_back(fail_case("5.17", "text start, then a new binary start (no FIN)",
                            text_frame("frag", false) + binary_frame("new", false), 1002));
  // Autobahn 5.15: a complete 2-fragment message, then an orphan
  // continuation and a new start, all in one write.
  cases.push_back(fail_case("5.18", "2-fragment text, then continuation and text start, in one write",
                            text_frame("fragment1", false) + continuation_frame("fragment2", true) +
                                continuation_frame("fragment3", false) + text_frame("fragment4", false),
                            1002, one(text("fragment1fragment2"))));
  cases.push_back(echo_case("5.19", "text of 3 empty fragments",
                            text_frame("", false) + continuation_frame("", false) + continuation_frame("", true),
                            one(text(""))));
  cases.push_back(echo_case("5.20", "text with an empty middle fragment",
                            text_frame("abc", false) + continuation_frame("", false) + continuation_frame("def", true),
                            one(text("abcdef"))));
  cases.push_back(echo_case("5.21", "binary with empty first and last fragments",
                            binary_frame("", false) + continuation_frame("\x01\x02", false) + continuation_frame("", true),
                            one(binary("\x01\x02"))));
  const std::string hundred = ascii(100);
  cases.push_back(echo_case("5.22", "100-byte text in 1-byte fragments", fragmented(op_text, hundred, 1), one(text(hundred))));
  const std::string hundred_bin = bytes(100, 9);
  cases.push_back(echo_case("5.23", "100-byte binary in 1-byte fragments", fragmented(op_binary, hundred_bin, 1),
                            one(binary(hundred_bin))));
  cases.push_back(echo_case("5.24", "two fragmented messages back to back",
                            split_at(op_text, "first message", {5}) + split_at(op_binary, "second", {1, 3}),
                            std::vector<frame>{text("first message"), binary("second")}));
  run_group("5 Fragmentation", cases);
}

// ===================================================================== 6

TEST_CASE("conformance 6: UTF-8 handling") {
  std::vector<conformance_case> cases;
  const std::pair<const char*, std::string> valid[] = {
      {"\"κόσμε\"", kosme},
      {"U+0000", std::string(1, '\0')},
      {"U+007F", "\x7F"},
      {"U+0080", "\xC2\x80"},
      {"U+07FF", "\xDF\xBF"},
      {"U+0800", "\xE0\xA0\x80"},
      {"U+D7FF", "\xED\x9F\xBF"},
      {"U+E000", "\xEE\x80\x80"},
      {"U+FFFD", "\xEF\xBF\xBD"},
      {"U+FFFF", "\xEF\xBF\xBF"},
      {"U+10000", "\xF0\x90\x80\x80"},
      {"U+10FFFF", "\xF4\x8F\xBF\xBF"},
      {"emoji U+1F600", "\xF0\x9F\x98\x80"},
      {"Hello-µ@ßöäüàá-UTF-8!!", "Hello-\xC2\xB5@\xC3\x9F\xC3\xB6\xC3\xA4\xC3\xBC\xC3\xA0\xC3\xA1-UTF-8!!"},
  };
  int k = 0;
  for (const auto& [name, s] : valid) {
    ++k;
    cases.push_back(echo_case("6.1." + std::to_string(k), std::string("valid ") + name, text_frame(s), one(text(s))));
  }
  // Valid text split inside characters.
  const std::string emoji = "x\xF0\x9F\x98\x80y";
  k = 0;
  for (std::size_t cut : {2, 3, 4}) {
    ++k;
    cases.push_back(echo_case("6.2." + std::to_string(k),
                              "\"x\\U0001F600y\" in 2 fragments, cut after byte " + std::to_string(cut - 1) +
                                  " of the 4-byte character",
                              split_at(op_text, emoji, {cut}), one(text(emoji))));
  }
  cases.push_back(echo_case("6.2.4", "\"x\\U0001F600y\" in 1-byte fragments", fragmented(op_text, emoji, 1), one(text(emoji))));
  cases.push_back(echo_case("6.2.5", "U+10FFFF in 1-byte fragments", fragmented(op_text, "\xF4\x8F\xBF\xBF", 1),
                            one(text("\xF4\x8F\xBF\xBF"))));
  cases.push_back(echo_case("6.2.6", "\"κόσμε\" in 1-byte fragments", fragmented(op_text, kosme, 1), one(text(kosme))));
  cases.push_back(echo_case("6.2.7", "\"κόσμε\" in 1-byte writes", text_frame(kosme), one(text(kosme)), 1,
                            std::chrono::microseconds(300)));
  const std::string mixed = utf8_text(3000);
  cases.push_back(echo_case("6.2.8", "3000 bytes of mixed 1-4 byte characters in 7-byte fragments",
                            fragmented(op_text, mixed, 7), one(text(mixed))));
  // Invalid text: 1007 and no echo.
  const std::pair<const char*, std::string> invalid[] = {
      {"overlong '/' C0 AF", "\xC0\xAF"},
      {"overlong C1 BF", "\xC1\xBF"},
      {"overlong E0 80 AF", "\xE0\x80\xAF"},
      {"overlong E0 9F BF", "\xE0\x9F\xBF"},
      {"overlong F0 80 80 AF", "\xF0\x80\x80\xAF"},
      {"overlong F0 8F BF BF", "\xF0\x8F\xBF\xBF"},
      {"surrogate ED A0 80", "\xED\xA0\x80"},
      {"surrogate ED BF BF", "\xED\xBF\xBF"},
      {"surrogate pair ED A0 80 ED B0 80", "\xED\xA0\x80\xED\xB0\x80"},
      {"above U+10FFFF: F4 90 80 80", "\xF4\x90\x80\x80"},
      {"lead byte F5", "\xF5\x80\x80\x80"},
      {"5-byte form F8 88 80 80 80", "\xF8\x88\x80\x80\x80"},
      {"byte FE", "\xFE"},
      {"byte FF", "\xFF"},
      {"\"abc\" FE", "abc\xFE"},
      {"lone continuation 80", "\x80"},
      {"lone continuation BF after ASCII", "ab\xBF"},
      {"κόσμε truncated 2-byte CE at end", kosme + "\xCE"},
      {"truncated 3-byte E2 82 at end", "ab\xE2\x82"},
      {"truncated 4-byte F0 9F 98 at end", "ab\xF0\x9F\x98"},
      {"κόσμε ED A0 80 edited (Autobahn 6.3.1)", kosme + "\xED\xA0\x80" + "edited"},
      {"invalid after 1000 valid bytes", ascii(1000) + "\xC0\x80"},
  };
  k = 0;
  for (const auto& [name, s] : invalid) {
    ++k;
    cases.push_back(fail_case("6.3." + std::to_string(k), std::string("invalid ") + name, text_frame(s), 1007));
  }
  cases.push_back(fail_case("6.3.23", "invalid: 2-byte CE, then 'A' in the next fragment",
                            split_at(op_text, kosme.substr(0, 7) + "\xCE" + "A", {8}), 1007));
  cases.push_back(fail_case("6.3.24", "invalid: message ends inside a 4-byte character (fragmented)",
                            text_frame("ab", false) + continuation_frame("\xF0\x9F", true), 1007));
  cases.push_back(fail_case("6.3.25", "invalid: κόσμε ED A0 80 edited in 1-byte fragments",
                            fragmented(op_text, kosme + "\xED\xA0\x80" + "edited", 1), 1007));
  cases.push_back(fail_case("6.3.26", "invalid: F4 90 split across fragments",
                            split_at(op_text, "ab\xF4\x90\x80\x80", {3}), 1007));
  // Fail fast: the client must close 1007 at the first invalid byte, without
  // waiting for the rest of the frame or message (which never comes).
  auto fail_fast = [&](std::string id, std::string title, std::string bytes_to_send, std::size_t chunk = 0) {
    conformance_case c = fail_case(std::move(id), std::move(title), std::move(bytes_to_send), 1007, {}, chunk,
                                   std::chrono::microseconds(chunk ? 1000 : 0));
    c.deadline = 2s;
    cases.push_back(c);
  };
  wire_options declares_100;
  declares_100.declared_length = 100;
  fail_fast("6.4.1", "fail fast: 100-byte text frame starting C0 AF, rest never sent",
            wire(op_text, "\xC0\xAF", declares_100));
  fail_fast("6.4.2", "fail fast: 100-byte text frame \"κόσμε\" F4 90, rest never sent",
            wire(op_text, kosme + "\xF4\x90", declares_100));
  {
    wire_options unfinished_fragment = declares_100;
    unfinished_fragment.fin = false;
    fail_fast("6.4.3", "fail fast: second fragment (100 bytes declared) starts ED A0, rest never sent",
              text_frame(kosme, false) + wire(op_continuation, "\xED\xA0", unfinished_fragment));
  }
  fail_fast("6.4.4", "fail fast: first fragment \"ab\" FF complete, message never finished",
            text_frame("ab\xFF", false));
  fail_fast("6.4.5", "fail fast: 100-byte frame, \"ab\" FE in 1-byte writes, rest never sent",
            wire(op_text, "ab\xFE", declares_100), 1);
  run_group("6 UTF-8", cases);
}

// ===================================================================== 7

TEST_CASE("conformance 7: close handling") {
  std::vector<conformance_case> cases;
  auto close_case = [&](std::string id, std::string title, std::string bytes_to_send, std::uint16_t answer,
                        bool clean) {
    conformance_case c;
    c.id = std::move(id);
    c.title = std::move(title);
    c.script.push_back(send(std::move(bytes_to_send)));
    c.expected = with_close({}, answer);
    c.clean = clean;
    cases.push_back(c);
  };
  int k = 0;
  for (std::uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999}) {
    ++k;
    close_case("7.1." + std::to_string(k), "close " + std::to_string(code) + " is answered with " + std::to_string(code),
               close_with_code(code, "code " + std::to_string(code)), code, true);
  }
  close_case("7.2.1", "empty close is answered with an empty close", wire(op_close, ""), close_code::no_status, true);
  close_case("7.2.2", "close 1000 with a 123-byte UTF-8 reason", close_with_code(1000, utf8_text(123)), 1000, true);
  close_case("7.2.3", "close 4000 with a 123-byte ASCII reason", close_with_code(4000, ascii(123)), 4000, true);
  k = 0;
  for (std::uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    ++k;
    close_case("7.3." + std::to_string(k), "invalid close code " + std::to_string(code), close_with_code(code), 1002,
               false);
  }
  close_case("7.4.1", "close with a 1-byte payload", wire(op_close, "\x03"), 1002, false);
  close_case("7.4.2", "close reason with invalid UTF-8",
             close_with_code(1000, kosme + "\xED\xA0\x80" + "edited"), 1007, false);
  close_case("7.4.3", "close with a 124-byte reason (126-byte payload)", close_with_code(1000, ascii(124)), 1002, false);
  {
    conformance_case c;
    c.id = "7.5.1";
    c.title = "text and ping after the close frame, in the same write: not answered";
    c.script.push_back(send(close_with_code(1000) + text_frame("after close") + ping_frame("after close")));
    c.expected = with_close({}, 1000);
    c.linger = 300ms;
    cases.push_back(c);
  }
  {
    conformance_case c;
    c.id = "7.5.2";
    c.title = "text, ping after the close frame, 100 ms later: not answered";
    c.script.push_back(send(close_with_code(1000)));
    c.script.push_back(pause(100ms));
    c.script.push_back(send(text_frame("after close") + ping_frame("after close")));
    c.expected = with_close({}, 1000);
    c.linger = 300ms;
    cases.push_back(c);
  }
  cases.push_back(echo_case("7.5.3", "text echoed, then close", text_frame("before close"), one(text("before close"))));
  {
    conformance_case c;
    c.id = "7.5.4";
    c.title = "close in 1-byte writes";
    c.script.push_back(send(close_with_code(1001, "bye"), 1, std::chrono::microseconds(300)));
    c.expected = with_close({}, 1001);
    cases.push_back(c);
  }
  close_case("7.5.5", "close between the fragments of an open text message",
             text_frame("frag", false) + close_with_code(1000), 1000, true);
  {
    // The server answers nothing and keeps TCP open: the client must give up
    // waiting (closing_timeout, 15 s by default) and close TCP itself.
    conformance_case c;
    c.id = "7.6.1";
    c.title = "close, then the server keeps TCP open";
    c.script.push_back(send(close_with_code(1000)));
    c.expected = with_close({}, 1000);
    c.linger = 17s;
    c.expect_client_eof = true;
    c.deadline = 20s;
    cases.push_back(c);
  }
  run_group("7 Close handling", cases);
}

// ===================================================================== 8

TEST_CASE("conformance 8: large messages") {
  std::vector<conformance_case> cases;
  const std::string big = bytes(16 * 1024 * 1024, 11);
  cases.push_back(echo_case("8.1", "16 MiB binary in one frame", binary_frame(big), one(binary(big))));
  cases.push_back(echo_case("8.2", "16 MiB binary in 64 KiB fragments", fragmented(op_binary, big, 64 * 1024),
                            one(binary(big))));
  const std::string big_text = utf8_text(4 * 1024 * 1024);
  cases.push_back(echo_case("8.3", "4 MiB text in 64 KiB fragments (characters split at the cuts)",
                            fragmented(op_text, big_text, 64 * 1024), one(text(big_text))));
  cases.push_back(echo_case("8.4", "4 MiB text in one frame", text_frame(big_text), one(text(big_text))));
  for (auto& c : cases) c.deadline = 30s;
  run_group("8 Large messages", cases);
}

// ===================================================================== 9

#if WSCORO_HAVE_ZLIB

namespace {

// permessage-deflate as a server sends it: one compression context for the
// whole case (context takeover), or a fresh one per message.
class server_deflater {
 public:
  explicit server_deflater(bool takeover = true) : deflater_(15, !takeover, -1, 8) {}
  std::string compress(std::string_view message) {
    std::string out;
    deflater_.compress(message, out);
    return out;
  }
  /// A whole compressed message of `op` in frames of at most `size` compressed bytes.
  std::string message(std::uint8_t op, std::string_view payload, std::size_t size = 1 << 30) {
    return fragmented(op, compress(payload), size, rsv1);
  }

 private:
  ws::message_deflater deflater_;
};

conformance_case compressed(conformance_case c) {
  c.deflate = true;
  return c;
}

}  // namespace

TEST_CASE("conformance 9: compression (permessage-deflate)") {
  std::vector<conformance_case> cases;
  int k = 0;
  for (std::size_t n : framing_lengths) {
    ++k;
    server_deflater d;
    const std::string t = ascii(n);
    cases.push_back(compressed(echo_case("9.1." + std::to_string(k), "compressed text, " + std::to_string(n) + " bytes",
                                         d.message(op_text, t), one(text(t)))));
    const std::string b = bytes(n, static_cast<unsigned>(k));
    cases.push_back(compressed(echo_case("9.2." + std::to_string(k),
                                         "compressed binary (incompressible), " + std::to_string(n) + " bytes",
                                         d.message(op_binary, b), one(binary(b)))));
  }
  // Compressed messages in fragments (Autobahn 12/13 style): the compressed
  // bytes cut at every size, RSV1 on the first frame only.
  k = 0;
  for (std::size_t fragment : {1u, 7u, 64u, 4096u, 65536u}) {
    ++k;
    server_deflater d;
    const std::string t = utf8_text(200000);
    cases.push_back(compressed(echo_case("9.3." + std::to_string(k),
                                         "200 KB compressed text in fragments of " + std::to_string(fragment) +
                                             " compressed bytes",
                                         d.message(op_text, t, fragment), one(text(t)))));
  }
  for (bool takeover : {true, false}) {
    server_deflater d(takeover);
    std::string all;
    std::vector<frame> echoes;
    for (int i = 0; i < 100; ++i) {
      const std::string m = "{\"seq\":" + std::to_string(i) + ",\"symbol\":\"EURUSD\",\"bid\":1.0" +
                            std::to_string(3000 + i * 7) + "}";
      if (i % 10 == 9) {
        all += text_frame(m);  // now and then a message left uncompressed
      } else {
        all += d.message(op_text, m, 17);
      }
      echoes.emplace_back(text(m));
    }
    cases.push_back(compressed(echo_case(takeover ? "9.4.1" : "9.4.2",
                                         std::string("100 JSON messages, fragmented, some plain, context takeover ") +
                                             (takeover ? "on" : "off"),
                                         all, echoes)));
  }
  {
    server_deflater d;
    const std::string t = ascii(3000);
    const std::string c = d.compress(t);
    const std::string half = c.substr(0, c.size() / 2);
    const std::string bytes_to_send = wire(op_text, half, with_rsv(rsv1, false)) + ping_frame("in between") +
                                      wire(op_continuation, c.substr(half.size()));
    std::vector<frame> answers;
    answers.emplace_back(pong("in between"));
    answers.emplace_back(text(t));
    cases.push_back(compressed(echo_case("9.5.1", "a ping between the fragments of a compressed message",
                                         bytes_to_send, answers)));
    server_deflater e;
    const std::string empty = e.message(op_binary, "");
    cases.push_back(compressed(echo_case("9.5.2", "an empty compressed message (one 00 byte)", empty, one(binary("")))));
  }
  {
    // RFC 7692 7.2.3.4: "Hello" in a DEFLATE block with BFINAL set, then the
    // 00 that the receiver's 00 00 ff ff tail makes an empty stored block.
    const std::string hello_final_block("\xf3\x48\xcd\xc9\xc9\x07\x00\x00", 8);
    const std::string hello = wire(op_text, hello_final_block, with_rsv(rsv1));
    cases.push_back(compressed(echo_case("9.5.3", "RFC 7692 7.2.3.4: a message in a final block (BFINAL)", hello,
                                         one(text("Hello")))));
    // Context takeover goes on after a final block: this sender's window
    // holds "Hello" as the client's does, and its next message refers back.
    server_deflater d;
    d.compress("Hello");
    std::vector<frame> answers;
    answers.emplace_back(text("Hello"));
    answers.emplace_back(text("Hello, Hello"));
    cases.push_back(compressed(echo_case("9.5.4", "after a final block, a message referring back to it",
                                         hello + d.message(op_text, "Hello, Hello"), answers)));
  }

  // Violations.
  {
    server_deflater d;
    const std::string c = d.compress(ascii(100));
    cases.push_back(compressed(fail_case("9.6.1", "RSV1 on a continuation frame",
                                         wire(op_text, c.substr(0, 10), with_rsv(rsv1, false)) +
                                             wire(op_continuation, c.substr(10), with_rsv(rsv1)),
                                         1002)));
    cases.push_back(compressed(fail_case("9.6.2", "RSV1 on a ping", wire(op_ping, "x", with_rsv(rsv1)), 1002)));
    cases.push_back(compressed(fail_case("9.6.3", "RSV1 on a close", wire(op_close, "\x03\xe8", with_rsv(rsv1)), 1002)));
    cases.push_back(compressed(fail_case("9.6.4", "RSV1 on a pong", wire(op_pong, "", with_rsv(rsv1)), 1002)));
    cases.push_back(compressed(fail_case("9.6.5", "RSV2 on a compressed message",
                                         wire(op_text, c, with_rsv(rsv1 | rsv2)), 1002)));
  }
  {
    server_deflater d;
    const std::string bad = ascii(1000) + "\xed\xa0\x80" + ascii(1000);
    cases.push_back(compressed(fail_case("9.7.1", "compressed text that inflates to invalid UTF-8",
                                         d.message(op_text, bad), 1007)));
    server_deflater e;
    cases.push_back(compressed(fail_case("9.7.2", "the same in fragments of 5 compressed bytes",
                                         e.message(op_text, bad, 5), 1007)));
    server_deflater f;
    cases.push_back(compressed(fail_case("9.7.3", "compressed text ending inside a character",
                                         f.message(op_text, ascii(10) + "\xe2\x82"), 1007)));
    cases.push_back(compressed(fail_case("9.7.4", "RSV1 data that is not DEFLATE",
                                         wire(op_binary, "\xff\xff\xff\xff\xff", with_rsv(rsv1)), 1007)));
  }
  {
    // 100 MiB of zeros is about 100 KB compressed; wsecho's limit is 64 MiB.
    server_deflater d;
    const std::string bomb = d.message(op_binary, std::string(100 << 20, '\0'));
    cases.push_back(compressed(fail_case("9.8.1", "a compression bomb: 100 KB inflating to 100 MiB", bomb, 1009)));
    server_deflater e;
    cases.push_back(compressed(fail_case("9.8.2", "the same bomb in 4 KB fragments",
                                         e.message(op_binary, std::string(100 << 20, '\0'), 4096), 1009)));
  }
  for (auto& c : cases) c.deadline = 15s;
  run_group("9 Compression", cases);
}

#endif  // WSCORO_HAVE_ZLIB

// ===================================================================== summary

TEST_CASE("conformance: summary table") {
  std::ostringstream out;
  out << "\nwscoro conformance (client role, samples/wsecho)\n";
  out << std::left << std::setw(22) << "group" << " | " << std::right << std::setw(5) << "cases" << " | "
      << std::setw(9) << "strict OK" << " | " << std::setw(6) << "failed" << " | " << std::setw(7) << "seconds"
      << "\n";
  out << std::string(22, '-') << "-+-" << std::string(5, '-') << "-+-" << std::string(9, '-') << "-+-"
      << std::string(6, '-') << "-+-" << std::string(7, '-') << "\n";
  int cases = 0, ok = 0;
  double seconds = 0;
  for (const group_tally& t : tallies()) {
    out << std::left << std::setw(22) << t.name << " | " << std::right << std::setw(5) << t.cases << " | "
        << std::setw(9) << t.ok << " | " << std::setw(6) << (t.cases - t.ok) << " | " << std::setw(7) << std::fixed
        << std::setprecision(1) << t.seconds << "\n";
    cases += t.cases;
    ok += t.ok;
    seconds += t.seconds;
  }
  out << std::left << std::setw(22) << "total" << " | " << std::right << std::setw(5) << cases << " | "
      << std::setw(9) << ok << " | " << std::setw(6) << (cases - ok) << " | " << std::setw(7) << std::fixed
      << std::setprecision(1) << seconds << "\n";
  bool any_failed = false;
  for (const group_tally& t : tallies()) {
    if (t.failed.empty()) continue;
    if (!any_failed) out << "failed cases:";
    any_failed = true;
    for (const std::string& id : t.failed) out << " " << id;
  }
  out << (any_failed ? "\n" : "all cases strictly OK\n");
  std::cout << out.str() << std::flush;
}
