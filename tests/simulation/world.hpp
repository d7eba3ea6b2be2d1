// A deterministic world around one ws::session_core: a Websocket server
// model (random frames, fragments, pings, floods, violations, closes,
// resets, stalls), an application (slow or stalled reading, sends, close),
// a network that completes writes late or never, reconnects, and a virtual
// clock. Every decision comes from a `choices` source: a seeded generator
// in the simulation test, the fuzzer's bytes in fuzz/fuzz_session_core.cpp.
// After every call into the core the invariants below are checked; a
// broken one throws sim::invariant_broken.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "wscoro/error.hpp"
#include "wscoro/event.hpp"
#include "core_wire.hpp"
#include "event_queue.hpp"
#include "ws/deflate_codec.hpp"
#include "ws/deflate_negotiation.hpp"
#include "ws/encoder.hpp"
#include "ws/io_sizes.hpp"
#include "ws/session_core.hpp"

namespace wscoro::sim {

struct invariant_broken : std::logic_error {
  using std::logic_error::logic_error;
};

/// The invariants, in the order of their numbers in failure messages.
inline constexpr const char* invariant_names[] = {
    "memory held <= configured limits + a constant",
    "frames delivered exactly once, in order (drops after close() counted)",
    "a clean end delivered everything the peer sent before its close",
    "the session ends within closing_timeout of our close (or of a violation)",
    "no pong_timeout unless pong_timeout passed with reading enabled and nothing received",
    "nothing written after our close frame; our frames are valid and in order",
    "every pong answers a ping of the peer, the newest last",
    "phases change only as the transition table says",
    "no deadline left in the past; reading wanted only where the phase allows",
    "the session ends, with a named reason",
};
inline constexpr std::size_t invariant_count = std::size(invariant_names);

/// Where the world's decisions come from.
class choices {
 public:
  virtual ~choices() = default;
  /// A number in [0, n), n > 0.
  virtual std::uint32_t below(std::uint32_t n) = 0;
  bool chance(std::uint32_t percent) { return below(100) < percent; }
  std::uint32_t between(std::uint32_t lo, std::uint32_t hi) { return lo + below(hi - lo + 1); }
};

/// splitmix64: the same sequence on every platform and standard library.
class seeded_choices final : public choices {
 public:
  explicit seeded_choices(std::uint64_t seed) noexcept : state_(seed) {}
  std::uint32_t below(std::uint32_t n) override {
    state_ += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return static_cast<std::uint32_t>(z % n);
  }

 private:
  std::uint64_t state_;
};

class world {
 public:
  using time_point = ws::session_core::time_point;
  using ms = std::chrono::milliseconds;

  /// `tracing`: failure messages show the last actions (for a replay).
  explicit world(choices& c, bool tracing = false) : choose_(c), tracing_(tracing) { start_session(); }

  std::uint64_t calls() const noexcept { return calls_; }
  std::uint64_t sessions() const noexcept { return sessions_; }
  /// How the sessions ended, and other things worth counting, by name.
  const std::map<std::string, std::uint64_t>& outcomes() const noexcept { return outcomes_; }

  std::uint64_t steps() const noexcept { return steps_; }

  /// One random action by the peer, the application, the network or the clock.
  void step() {
    ++steps_;
    if (core().ended()) {
      // A new session, with new options, once the last one is judged.
      judge_end();
      start_session();
    }
    switch (choose_.below(20)) {
      case 0: case 1: case 2: peer_sends_message(); break;
      case 3: peer_sends_control(); break;
      case 4: if (choose_.chance(flood_rate_)) peer_floods(); break;
      case 5: if (choose_.chance(close_rate_)) peer_closes(); break;
      case 6: if (choose_.chance(violation_rate_)) peer_violates(); break;
      case 7: if (choose_.chance(tcp_end_rate_)) peer_ends_tcp(); break;
      case 8: peer_stalled_ = !peer_stalled_ && choose_.chance(50); break;
      case 9: case 10: network_delivers(); break;
      case 11: case 12: network_completes_write(); break;
      case 13: case 14: app_reads(); break;
      case 15: app_sends(); break;
      case 16: if (choose_.chance(close_rate_)) app_closes(); else app_stalled_ = choose_.chance(40); break;
      case 17: advance(ms(choose_.below(choose_.chance(80) ? 50 : 2000))); break;
      case 18: jump_to_deadline(); break;
      case 19: resolve_reconnect(); break;
    }
    if (choose_.chance(1) && choose_.chance(5)) {
      core().abandon();
      observe();
    }
    check_bounds();
  }

  /// The application closes and the world runs until the session ends;
  /// then every event is drained and the end is judged.
  void wind_down() {
    app_closes();
    for (int i = 0; i < 100000 && !core().ended(); ++i) {
      // Every fourth turn the clock jumps, so that the closing deadline
      // ends the session even when the choices are all zero.
      if (i % 4 != 3 && choose_.chance(60)) {
        step();
      } else {
        app_reads();
        jump_to_deadline();
      }
      check_bounds();
    }
    if (!core().ended()) fail(9, "the session never ended");
    judge_end();
  }

 private:
  // Drains the events of an ended session and judges its end.
  void judge_end() {
    while (poll_one()) {
    }
    const std::error_code reason = core().end_reason();
    ++outcomes_[reason ? reason.message() : std::string("clean close")];
    if (core().dropped_frames() != 0) ++outcomes_["(sessions with frames dropped after close())"];
    if (deflate_) ++outcomes_["(sessions with permessage-deflate)"];
    if (!reason) {
      if (!peer_close_delivered_) fail(2, "a clean end without the peer's close delivered");
      std::size_t budget = core().dropped_frames() - drops_used_;
      for (const event& e : expected_[delivering_link_]) {
        if (budget > 0 && droppable(e)) {
          --budget;
          continue;
        }
        fail(2, "a clean end left a frame of the peer undelivered: " + describe(e));
      }
    } else if (reason.category() != wscoro::error_category() && reason.category() != std::generic_category()) {
      fail(9, "ended with an unnamed reason: " + reason.message());
    }
  }
  // ---- Setup ----

  static websocket_options random_options(choices& c) {
    websocket_options o;
    o.receive_queue_frames = c.between(1, 8);
    static constexpr std::size_t receive_bytes[] = {64, 1024, 16 * 1024, 16 * 1024 * 1024};
    o.receive_queue_bytes = receive_bytes[c.below(4)];
    static constexpr std::size_t send_bytes[] = {128, 2048, 65536};
    o.send_queue_bytes = send_bytes[c.below(3)];
    static constexpr std::size_t message_limits[] = {1000, 70000, 1 << 20, 64};
    o.max_message_size = message_limits[c.chance(10) ? 3 : c.below(3)];
    o.keepalive = c.chance(40) ? ms(0) : ms(c.between(20, 1000));
    o.pong_timeout = c.chance(20) ? ms(0) : ms(c.between(20, 2000));
    o.closing_timeout = ms(c.between(10, 3000));
    o.silence_pings = c.chance(30);
    o.retry.attempts = c.chance(40) ? 0 : c.between(1, 3);
    o.retry.initial_delay = ms(c.between(10, 500));
    o.retry.backoff = 1.0 + c.below(3);
    o.retry.max_delay = ms(1000);
    o.retry.jitter = 0.2;
    o.send_waits_while_down = c.chance(50);
    if (ws::deflate_available() && c.chance(30)) {
      deflate_options d;
      d.level = static_cast<int>(c.below(10));
      d.min_size = c.chance(50) ? 0 : 100;
      o.compress = d;
    }
    return o;
  }

  void start_session() {
    ++sessions_;
    options_ = random_options(choose_);
    static constexpr std::uint32_t rates[] = {0, 2, 10, 40};
    close_rate_ = rates[choose_.below(4)];
    violation_rate_ = rates[choose_.below(4)];
    tcp_end_rate_ = rates[choose_.below(4)];
    flood_rate_ = rates[choose_.below(4)];
    deflate_.reset();
    if (options_.compress) {
      ws::deflate_parameters agreed;
      agreed.client_max_window_bits = static_cast<int>(choose_.between(8, 15));
      agreed.server_max_window_bits = static_cast<int>(choose_.between(8, 15));
      agreed.client_no_context_takeover = choose_.chance(50);
      agreed.server_no_context_takeover = choose_.chance(50);
      deflate_ = agreed;
    }
    start_peer_link(1);
    expected_.clear();
    delivering_link_ = 1;
    awaiting_up_ = false;
    drops_used_ = 0;
    peer_close_delivered_ = false;
    app_stalled_ = app_closed_ = false;
    largest_batch_ = 0;
    attempt_.reset();
    phase_ = ws::session_phase::open;
    last_liveness_ = now_;
    closing_since_.reset();
    ws::session_link first;
    first.deflate = deflate_;
    first.received = opening_frames();
    core_.emplace(options_, std::move(first), options_.retry.attempts > 0, now_,
                  [this] { return choose_.below(1001) / 1000.0; });
    observe();
  }

  // Frames the server sent right behind its 101, read with it.
  std::string opening_frames() {
    std::string out;
    if (choose_.chance(20)) out += message_bytes(next_message_payload(choose_.below(100)), true);
    return out;
  }

  // ---- The peer ----

  std::string next_message_payload(std::size_t size) {
    std::string p = "#" + std::to_string(next_id_++) + ":";
    if (size > p.size()) p.append(size - p.size(), static_cast<char>('a' + next_id_ % 26));
    return p;
  }

  bool peer_can_send() const noexcept { return !peer_closed_ && !peer_violated_ && !peer_fin_ && !peer_reset_; }

  void expect(event e) {
    if (!peer_can_send()) return;
    note("peer sends", describe(e));
    expected_[peer_link_].push_back(std::move(e));
  }

  bool delivered_ping_or_pong(std::string_view payload, bool is_pong) const noexcept {
    if (options_.silence_pings) return false;
    return !(is_pong && options_.keepalive.count() > 0 && payload == ws::keepalive_payload);
  }

  void peer_ping(std::string payload, std::string& out) {
    peer_encoder_.encode_frame(ws::opcode::ping, true, payload, out);
    if (delivered_ping_or_pong(payload, false)) expect(ping(payload));
    peer_pings_.push_back(std::move(payload));
  }

  void peer_pong(const std::string& payload, std::string& out) {
    peer_encoder_.encode_frame(ws::opcode::pong, true, payload, out);
    if (delivered_ping_or_pong(payload, true)) expect(pong(payload));
  }

  // A message cut into 1-4 frames, perhaps with pings between them; one
  // larger than max_message_size is a violation.
  std::string message_bytes(std::string payload, bool as_text) {
    if (peer_deflater_ && payload.size() <= options_.max_message_size && choose_.chance(70))
      return compressed_message_bytes(std::move(payload), as_text);
    std::string out;
    const std::size_t pieces = std::min<std::size_t>(choose_.between(1, 4), std::max<std::size_t>(payload.size(), 1));
    std::size_t at = 0;
    for (std::size_t i = 0; i < pieces; ++i) {
      const std::size_t n =
          i + 1 == pieces ? payload.size() - at : choose_.below(static_cast<std::uint32_t>(payload.size() - at + 1));
      const auto op = i == 0 ? (as_text ? ws::opcode::text : ws::opcode::binary) : ws::opcode::continuation;
      peer_encoder_.encode_frame(op, i + 1 == pieces, std::string_view(payload).substr(at, n), out);
      at += n;
      if (at > options_.max_message_size) {
        note("peer sends a message too big");
        peer_violated_ = true;  // error::message_too_big at this frame's header: nothing after it is decoded
        return out;
      }
      if (i + 1 != pieces && choose_.chance(20)) peer_ping("mid" + std::to_string(next_id_++), out);
    }
    if (as_text) {
      expect(text(std::move(payload)));
    } else {
      expect(binary(std::move(payload)));
    }
    return out;
  }

  // The same, compressed (RSV1 on the first frame), within the size limit.
  std::string compressed_message_bytes(std::string payload, bool as_text) {
    std::string compressed;
    peer_deflater_->compress(payload, compressed);
    std::string out;
    const std::size_t pieces = choose_.between(1, 3);
    std::size_t at = 0;
    for (std::size_t i = 0; i < pieces; ++i) {
      const std::size_t n = i + 1 == pieces ? compressed.size() - at
                                            : choose_.below(static_cast<std::uint32_t>(compressed.size() - at + 1));
      const auto op = i == 0 ? (as_text ? ws::opcode::text : ws::opcode::binary) : ws::opcode::continuation;
      peer_encoder_.encode_frame(op, i + 1 == pieces, std::string_view(compressed).substr(at, n), out, i == 0);
      at += n;
    }
    if (as_text) {
      expect(text(std::move(payload)));
    } else {
      expect(binary(std::move(payload)));
    }
    return out;
  }

  std::size_t random_message_size() {
    const std::uint32_t kind = choose_.below(100);
    if (kind < 80) return choose_.below(200);
    if (kind < 97) return choose_.between(4000, 10000);
    return choose_.between(65536, 150000);
  }

  void peer_sends_message() {
    if (!peer_can_send() || peer_link_ == 0) return;
    to_client_ += message_bytes(next_message_payload(random_message_size()), choose_.chance(50));
  }

  void peer_sends_control() {
    if (!peer_can_send() || peer_link_ == 0) return;
    if (choose_.chance(70)) {
      peer_ping("ping" + std::to_string(next_id_++), to_client_);
    } else {
      peer_pong(choose_.chance(20) ? std::string(ws::keepalive_payload) : "pong" + std::to_string(next_id_++),
                to_client_);
    }
  }

  void peer_floods() {
    if (!peer_can_send() || peer_link_ == 0) return;
    const std::uint32_t n = choose_.between(10, 300);
    const bool pings = choose_.chance(60);
    for (std::uint32_t i = 0; i < n && peer_can_send(); ++i) {
      if (pings) {
        peer_ping("f" + std::to_string(next_id_++), to_client_);
      } else {
        to_client_ += message_bytes(next_message_payload(choose_.below(40)), true);
      }
    }
  }

  void peer_closes() {
    if (!peer_can_send() || peer_link_ == 0) return;
    static constexpr std::uint16_t codes[] = {close_code::normal, close_code::going_away, 4000, close_code::no_status};
    const std::uint16_t code = codes[choose_.below(4)];
    close_frame f(code, code == close_code::no_status ? std::string() : "bye" + std::to_string(next_id_));
    peer_encoder_.encode(f, to_client_);
    expect(f);
    peer_closed_ = true;
  }

  void peer_violates() {
    if (!peer_can_send() || peer_link_ == 0) return;
    switch (choose_.below(7)) {
      case 0: peer_encoder_.encode_frame(static_cast<ws::opcode>(3 + choose_.below(5)), true, "?", to_client_); break;
      case 1:  // RSV2: defined by no extension
        to_client_ += std::string("\xa2\x01", 2) + "x";
        break;
      case 2: peer_encoder_.encode_frame(ws::opcode::continuation, true, "orphan", to_client_); break;
      case 3: peer_encoder_.encode_frame(ws::opcode::text, true, "\xc0\xaf", to_client_); break;
      case 4: peer_encoder_.encode_frame(ws::opcode::ping, true, std::string(126, 'p'), to_client_); break;
      case 5: peer_encoder_.encode_frame(ws::opcode::close, true, "\x03\xe8\xff", to_client_); break;
      default: peer_encoder_.encode_frame(ws::opcode::close, true, std::string("\x03\xed", 2), to_client_); break;
    }
    peer_violated_ = true;
    note("peer violates");
    if (choose_.chance(50)) to_client_ += message_bytes(next_message_payload(10), true);  // never decoded
  }

  void peer_ends_tcp() {
    if (peer_link_ == 0) return;
    if (choose_.chance(50)) {
      peer_fin_ = true;
    } else {
      peer_reset_ = true;
    }
    note(peer_fin_ ? "peer ends TCP" : "peer resets");
  }

  // The peer reads what the client wrote, and answers like a server.
  void peer_reads(const std::string& bytes) {
    if (peer_saw_client_close_ && !bytes.empty()) fail(5, "bytes written after our close");
    for (frame& f : client_reader_->read(bytes)) {
      if (auto* p = std::get_if<ping>(&f)) {
        if (peer_can_send() && !peer_stalled_) peer_pong(p->data, to_client_);
      } else if (auto* p = std::get_if<pong>(&f)) {
        check_pong(p->data);
      } else if (std::holds_alternative<close_frame>(f)) {
        peer_saw_client_close_ = true;
        if (!peer_closed_ && !peer_violated_ && choose_.chance(80)) peer_closes();
        if (choose_.chance(50)) peer_fin_ = true;
      } else {
        check_user_frame(f);
      }
    }
    if (client_reader_->error()) fail(5, "the client wrote an invalid frame: " + client_reader_->error().message());
    if (client_reader_->finished() && client_reader_->unread() != 0) fail(5, "bytes written after our close");
  }

  void check_pong(const std::string& payload) {
    const auto at = std::find(peer_pings_.begin(), peer_pings_.end(), payload);
    if (at == peer_pings_.end()) fail(6, "a pong that answers no ping of the peer: " + payload);
    const auto index = static_cast<std::size_t>(at - peer_pings_.begin());
    if (answered_pings_ && index < *answered_pings_) fail(6, "a pong answers an older ping than the last one did");
    answered_pings_ = index;
  }

  void check_user_frame(const frame& f) {
    const std::string& data = std::holds_alternative<text>(f) ? std::get<text>(f).data : std::get<binary>(f).data;
    const std::uint64_t id = std::stoull(data.substr(1, data.find(':') - 1));
    if (last_user_frame_seen_ && id <= *last_user_frame_seen_) fail(5, "our messages arrived out of order");
    last_user_frame_seen_ = id;
  }

  // ---- The network ----

  void network_delivers() {
    if (core().phase() == ws::session_phase::down || core().ended()) return;
    if (peer_reset_ && choose_.chance(50)) {
      if (core().wants_read()) {
        core().on_read_end(false, std::make_error_code(std::errc::connection_reset), now_);
        observe();
      }
      return;
    }
    const std::size_t read_size = choose_.chance(50) ? choose_.between(1, 64) : choose_.between(1, 300000);
    const std::size_t before = to_client_.size();
    test::feed(core(), to_client_, now_, read_size);
    note("read", std::to_string(before - to_client_.size()), "bytes,", std::to_string(to_client_.size()), "left");
    if (to_client_.size() != before) last_liveness_ = now_;
    ++calls_;
    observe();
    if (to_client_.empty() && peer_fin_ && core().wants_read()) {
      core().on_read_end(true, {}, now_);
      observe();
    }
  }

  void take_write() {
    if (writing_) return;
    std::string bytes = test::take_write(core());
    ++calls_;
    if (!bytes.empty()) writing_ = std::move(bytes);
  }

  void network_completes_write() {
    if (!writing_ || peer_stalled_) return;
    if (peer_reset_ || choose_.chance(2)) {
      writing_.reset();
      core().on_written(std::make_error_code(std::errc::broken_pipe), now_);
      peer_reset_ = true;
      observe();
      return;
    }
    const std::string bytes = std::move(*writing_);
    writing_.reset();
    note("write of", std::to_string(bytes.size()), "bytes done");
    core().on_written({}, now_);
    observe();
    peer_reads(bytes);
  }

  // ---- The application ----

  void app_reads() {
    if (app_stalled_) return;
    std::uint32_t n = choose_.chance(30) ? 1000 : choose_.between(1, 3);
    while (n-- > 0 && poll_one()) {
    }
  }

  bool poll_one() {
    std::optional<event> e = core().poll_event(now_);
    ++calls_;
    observe();
    if (!e) return false;
    ++outcomes_[std::visit([](const auto& v) { return std::string("(events: ") + kind_name(v) + ")"; }, *e)];
    note("app gets", describe(*e));
    check_delivery(*e);
    return true;
  }

  void app_sends() {
    std::vector<frame> batch;
    std::size_t bytes = 0;
    const std::uint32_t n = choose_.between(1, 3);
    for (std::uint32_t i = 0; i < n; ++i) {
      if (choose_.chance(15)) {
        batch.emplace_back(ping("app" + std::to_string(next_id_++)));
        bytes += 125 + 14;
      } else {
        std::string payload = next_message_payload(random_message_size());
        bytes += payload.size() + 14;
        if (choose_.chance(50)) {
          batch.emplace_back(text(std::move(payload)));
        } else {
          batch.emplace_back(binary(std::move(payload)));
        }
      }
    }
    if (choose_.chance(5)) batch.emplace_back(close_frame(close_code::normal));
    const bool has_close = std::holds_alternative<close_frame>(batch.back());
    const std::error_code ec = core().send(batch, now_);
    note("app sends", std::to_string(batch.size()), "frames:", ec ? ec.message() : "queued");
    ++calls_;
    observe();
    if (!ec) {
      largest_batch_ = std::max(largest_batch_, bytes);
      if (has_close) app_closed_ = true;
    } else if (ec != std::errc::operation_would_block && ec != error::session_ended && ec != error::connection_down) {
      fail(9, "send failed with " + ec.message());
    } else if (app_closed_ && ec != error::session_ended) {
      fail(5, "a send after our close was not refused with session_ended");
    }
  }

  void app_closes() {
    const std::error_code ec = core().close(close_frame(close_code::normal, "done"), now_);
    note("app closes");
    ++calls_;
    app_closed_ = true;
    if (ec) fail(9, "close() failed with " + ec.message());
    observe();
  }

  // ---- Reconnecting ----

  void resolve_reconnect() {
    if (!attempt_) return;
    attempt_.reset();
    if (choose_.chance(40)) {
      const std::error_code ec = choose_.chance(50) ? std::error_code(error::reconnect_refused)
                                                    : std::make_error_code(std::errc::connection_refused);
      core().on_reconnect_failed(ec, now_);
      observe();
      return;
    }
    start_peer_link(core().link_number() + 1);
    ws::session_link link;
    link.protocol = "p" + std::to_string(peer_link_);
    link.deflate = deflate_;
    link.received = opening_frames();
    const bool taken = core().on_reconnected(std::move(link), now_);
    note("reconnected", taken ? "" : "(refused by the core)");
    ++calls_;
    if (taken) last_liveness_ = now_;
    observe();
  }

  void start_peer_link(unsigned link) {
    peer_link_ = link;
    to_client_.clear();
    peer_closed_ = peer_violated_ = peer_fin_ = peer_reset_ = peer_stalled_ = false;
    peer_saw_client_close_ = false;
    peer_pings_.clear();
    answered_pings_.reset();
    last_user_frame_seen_.reset();
    writing_.reset();
    if (!deflate_) {
      client_reader_.emplace();
      peer_deflater_.reset();
      return;
    }
    // Each connection starts its compression contexts anew.
    client_reader_.emplace(std::size_t{1} << 30, std::make_unique<ws::message_inflater>(
                                                    deflate_->client_max_window_bits, deflate_->client_no_context_takeover));
    peer_deflater_.emplace(deflate_->server_max_window_bits, deflate_->server_no_context_takeover, -1, 8);
  }

  // ---- The clock ----

  void advance(ms by) {
    now_ += by;
    run_deadlines();
  }

  void jump_to_deadline() {
    if (const auto d = core().next_deadline(); d && *d > now_) now_ = *d;
    run_deadlines();
  }

  void run_deadlines() {
    for (int guard = 0; guard < 8; ++guard) {
      const auto d = core().next_deadline();
      if (!d || *d > now_) return;
      core().on_timeout(now_);
      observe();
    }
    fail(8, "a deadline stays in the past after on_timeout");
  }

  // ---- Invariants ----

  [[noreturn]] void fail(std::size_t invariant, const std::string& what) const {
    std::string recent;
    for (const std::string& line : trace_) recent += "\n    " + line;
    throw invariant_broken("invariant " + std::to_string(invariant + 1) + " (" + invariant_names[invariant] +
                           "): " + what + recent);
  }

  // With tracing on, the last actions are kept for the failure message.
  template <class... Parts>
  void note(const Parts&... parts) {
    if (!tracing_) return;
    std::string line = std::to_string(std::chrono::duration_cast<ms>(now_.time_since_epoch()).count()) + " ms:";
    ((line += " ", line += parts), ...);
    trace_.push_back(std::move(line));
    if (trace_.size() > 80) trace_.pop_front();
  }

  static std::string describe(const event& e) {
    return std::visit(
        [](const auto& v) -> std::string {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, close_frame>) {
            return "close " + std::to_string(v.code);
          } else if constexpr (std::is_same_v<T, down>) {
            return "down " + v.reason.message();
          } else if constexpr (std::is_same_v<T, up>) {
            return "up";
          } else {
            return "frame " + v.data.substr(0, 24) + " (" + std::to_string(v.data.size()) +
                   " bytes)";
          }
        },
        e);
  }

  static const char* kind_name(const text&) { return "text"; }
  static const char* kind_name(const binary&) { return "binary"; }
  static const char* kind_name(const ping&) { return "ping"; }
  static const char* kind_name(const pong&) { return "pong"; }
  static const char* kind_name(const close_frame&) { return "close"; }
  static const char* kind_name(const down&) { return "down"; }
  static const char* kind_name(const up&) { return "up"; }

  static bool droppable(const event& e) noexcept {
    return !std::holds_alternative<close_frame>(e) && !std::holds_alternative<down>(e) &&
           !std::holds_alternative<up>(e);
  }

  void check_delivery(const event& e) {
    if (const auto* d = std::get_if<down>(&e)) {
      if (!d->reason) fail(1, "a down event without a reason");
      expected_.erase(delivering_link_);  // frames not decoded before the loss are lost, and the down says why
      awaiting_up_ = true;
      return;
    }
    if (std::holds_alternative<up>(e)) {
      if (!awaiting_up_) fail(1, "an up event without a down before it");
      awaiting_up_ = false;
      ++delivering_link_;  // each connection has the next number
      return;
    }
    auto& expected = expected_[delivering_link_];
    std::size_t budget = core().dropped_frames() - drops_used_;
    while (!expected.empty() && !(expected.front() == e) && budget > 0 && droppable(expected.front())) {
      expected.pop_front();
      --budget;
      ++drops_used_;
    }
    if (expected.empty() || !(expected.front() == e))
      fail(1, "delivered " + describe(e) + ", expected " +
                  (expected.empty() ? std::string("nothing") : describe(expected.front())));
    expected.pop_front();
    if (std::holds_alternative<close_frame>(e)) peer_close_delivered_ = true;
  }

  // After every call into the core.
  void observe() {
    ++calls_;
    const ws::session_phase phase = core().phase();
    if (phase != phase_) {
      note("phase", std::to_string(static_cast<int>(phase_)), "->", std::to_string(static_cast<int>(phase)),
           core().end_reason().message());
      check_transition(phase_, phase);
      if (phase == ws::session_phase::down) {
        // The driver closes the transport: the write in flight and the
        // peer's unread bytes go with it.
        start_peer_link(0);
        if (core().down_reason() == error::pong_timeout) check_pong_timeout();
      }
      if (phase == ws::session_phase::ended && core().end_reason() == error::pong_timeout) check_pong_timeout();
      if (phase == ws::session_phase::failing) failing_since_ = now_;
      if ((phase == ws::session_phase::closing || phase == ws::session_phase::close_received) && !closing_since_)
        closing_since_ = now_;
      phase_ = phase;
    }
    if (phase == ws::session_phase::open && (!core().wants_read() || core().keepalive_state() == ws::keepalive_phase::paused))
      last_liveness_ = now_;  // reading is paused by us: silence proves nothing
    if (auto attempt = core().poll_reconnect()) attempt_ = attempt;
    if (peer_link_ == 0 && phase == ws::session_phase::open) fail(7, "open without a connection");
    take_write();
  }

  void check_pong_timeout() {
    if (options_.pong_timeout.count() <= 0) fail(4, "pong_timeout with pong_timeout zero");
    if (now_ - last_liveness_ < options_.pong_timeout)
      fail(4, "pong_timeout only " + std::to_string(std::chrono::duration_cast<ms>(now_ - last_liveness_).count()) +
                  " ms after the last sign of life or the end of a pause");
  }

  void check_transition(ws::session_phase from, ws::session_phase to) {
    using p = ws::session_phase;
    const auto allowed = [&] {
      if (to == p::ended) return true;
      switch (from) {
        case p::open: return to == p::failing || to == p::closing || to == p::close_received || to == p::down;
        case p::failing: return to == p::closing;
        case p::closing: return to == p::close_received || to == p::closed;
        case p::close_received: return to == p::closed;
        // on_reconnected() decodes the bytes that came with the 101 at once
        case p::down: return to == p::open || to == p::failing || to == p::close_received;
        default: return false;
      }
    };
    if (!allowed()) fail(7, "phase " + std::to_string(static_cast<int>(from)) + " -> " + std::to_string(static_cast<int>(to)));
  }

  void check_bounds() {
    const ws::session_footprint held = core().footprint();
    constexpr std::size_t control_frames = ws::pong_burst_bytes + 3 * (125 + 14);
    if (held.queued_events > options_.receive_queue_frames + 3) fail(0, "too many queued events");
    if (held.queued_event_bytes > options_.receive_queue_bytes + options_.max_message_size + 125)
      fail(0, "too many queued event bytes: " + std::to_string(held.queued_event_bytes));
    const std::size_t write_bound = options_.send_queue_bytes + largest_batch_ + control_frames;
    if (held.pending_write_bytes > write_bound) fail(0, "pending writes " + std::to_string(held.pending_write_bytes));
    if (held.writing_bytes > write_bound) fail(0, "write in flight " + std::to_string(held.writing_bytes));
    if (held.read_buffer_bytes > 256 * 1024) fail(0, "read buffer " + std::to_string(held.read_buffer_bytes));

    if (closing_since_ && !core().ended() && now_ > *closing_since_ + options_.closing_timeout)
      fail(3, "still " + std::to_string(static_cast<int>(core().phase())) + " past closing_timeout after our close");
    if (core().phase() == ws::session_phase::failing && now_ > failing_since_ + options_.closing_timeout)
      fail(3, "still failing past closing_timeout after the violation");
    if (const auto d = core().next_deadline(); d && *d < now_) fail(8, "a deadline in the past");
    const ws::session_phase phase = core().phase();
    if ((phase == ws::session_phase::down || phase == ws::session_phase::ended) && core().wants_read())
      fail(8, "wants to read while down or ended");
    if (phase == ws::session_phase::closing && !core().wants_read()) fail(8, "not reading after our close");
  }

  choices& choose_;
  bool tracing_;
  std::deque<std::string> trace_;
  websocket_options options_;
  time_point now_{};
  std::uint64_t calls_ = 0;
  std::uint64_t steps_ = 0;

  // The peer, on the connection numbered peer_link_ (0: none).
  unsigned peer_link_ = 1;
  ws::encoder peer_encoder_{ws::role::server};
  std::string to_client_;
  bool peer_closed_ = false;
  bool peer_violated_ = false;
  bool peer_fin_ = false;
  bool peer_reset_ = false;
  bool peer_stalled_ = false;  // reads nothing: our writes do not complete
  bool peer_saw_client_close_ = false;
  std::vector<std::string> peer_pings_;
  std::optional<std::size_t> answered_pings_;
  std::optional<std::uint64_t> last_user_frame_seen_;
  std::optional<test::peer_reader> client_reader_{std::in_place};
  std::optional<ws::deflate_parameters> deflate_;
  std::optional<ws::message_deflater> peer_deflater_;
  std::optional<std::string> writing_;
  std::uint64_t next_id_ = 0;

  // What the application should receive, per connection.
  std::map<unsigned, std::deque<event>> expected_;
  unsigned delivering_link_ = 1;
  bool awaiting_up_ = false;
  std::size_t drops_used_ = 0;
  bool peer_close_delivered_ = false;

  bool app_stalled_ = false;
  bool app_closed_ = false;
  std::size_t largest_batch_ = 0;
  std::optional<unsigned> attempt_;

  ws::session_phase phase_ = ws::session_phase::open;
  time_point last_liveness_{};
  time_point failing_since_{};
  std::optional<time_point> closing_since_;

  std::optional<ws::session_core> core_;
  std::uint64_t sessions_ = 0;
  std::map<std::string, std::uint64_t> outcomes_;
  std::uint32_t close_rate_ = 0;
  std::uint32_t violation_rate_ = 0;
  std::uint32_t tcp_end_rate_ = 0;
  std::uint32_t flood_rate_ = 0;

  ws::session_core& core() noexcept { return *core_; }
};

}  // namespace wscoro::sim
