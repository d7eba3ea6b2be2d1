// ws::session_core without I/O: the situations of issue 11, each on a
// virtual clock.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "wscoro/error.hpp"
#include "core_wire.hpp"
#include "frame_test_util.hpp"
#include "ws/session_core.hpp"

using namespace wscoro;
using namespace std::chrono_literals;
using ws::session_phase;

namespace {

using time_point = ws::session_core::time_point;

time_point at(std::chrono::milliseconds ms) { return time_point{} + ms; }

ws::session_core make_core(const websocket_options& options, bool may_reconnect = false) {
  return ws::session_core(options, ws::session_link{}, may_reconnect, at(0ms));
}

websocket_options keepalive_options(std::chrono::milliseconds keepalive, std::chrono::milliseconds pong_timeout,
                                    std::size_t receive_queue_frames = 1024) {
  websocket_options options;
  options.keepalive = keepalive;
  options.pong_timeout = pong_timeout;
  options.receive_queue_frames = receive_queue_frames;
  return options;
}

template <class F>
std::size_t count_of(const std::vector<frame>& frames) {
  return static_cast<std::size_t>(
      std::count_if(frames.begin(), frames.end(), [](const frame& f) { return std::holds_alternative<F>(f); }));
}

// Runs the core's deadlines up to `until`, in order, completing its writes
// at once; returns the frames written, each with the time it was written.
struct timed_frame {
  std::chrono::milliseconds when;
  frame f;
};

std::vector<timed_frame> run_until(ws::session_core& core, test::peer_reader& peer, std::chrono::milliseconds until) {
  std::vector<timed_frame> out;
  for (;;) {
    const auto deadline = core.next_deadline();
    if (!deadline || *deadline > at(until)) return out;
    core.on_timeout(*deadline);
    const auto when = std::chrono::duration_cast<std::chrono::milliseconds>(deadline->time_since_epoch());
    for (frame& f : peer.read(test::flush_writes(core, *deadline))) out.push_back({when, std::move(f)});
  }
}

}  // namespace

TEST_CASE("session core: a slow reader with keepalive 300 ms and pong_timeout 300 ms gets every message") {
  auto core = make_core(keepalive_options(300ms, 300ms, 2));
  test::peer_reader peer;
  std::string window;  // the server's bytes the client has not read yet
  int sent = 0;
  int received = 0;
  // The server sends a message every 100 ms; the application reads nothing
  // for 3 s, then one message every 10 ms.
  for (auto t = 0ms; t <= 8000ms; t += 10ms) {
    if (t % 100ms == 0ms) window += test::server_frame(text("m" + std::to_string(sent++)));
    while (core.next_deadline() && *core.next_deadline() <= at(t)) core.on_timeout(at(t));
    test::feed(core, window, at(t));
    if (t >= 3000ms) {
      if (auto e = core.poll_event(at(t))) {
        REQUIRE(std::holds_alternative<text>(*e));
        CHECK(std::get<text>(*e).data == "m" + std::to_string(received++));
      }
    }
    peer.read(test::flush_writes(core, at(t)));
    INFO("at ", t.count(), " ms: ", core.end_reason().message());
    REQUIRE(core.phase() == session_phase::open);
  }
  CHECK(received == sent);
  CHECK(core.keepalive_state() != ws::keepalive_phase::paused);
}

TEST_CASE("session core: reading paused by backpressure runs no keepalive, and counts again from the resume") {
  auto core = make_core(keepalive_options(300ms, 300ms, 1));
  std::string window = test::server_frame(text("a")) + test::server_frame(text("b"));
  test::feed(core, window, at(0ms));
  CHECK(core.keepalive_state() == ws::keepalive_phase::paused);
  CHECK_FALSE(core.wants_read());
  CHECK_FALSE(core.next_deadline());  // the server may be silent for as long as we do not read
  REQUIRE(core.poll_event(at(60000ms)));
  // "b" was waiting in the read buffer: decoded at once, the queue is full again.
  CHECK(core.keepalive_state() == ws::keepalive_phase::paused);
  REQUIRE(core.poll_event(at(61000ms)));
  CHECK(core.keepalive_state() == ws::keepalive_phase::quiet);
  CHECK(core.next_deadline() == at(61300ms));
}

TEST_CASE("session core: close() with a full receive queue ends as soon as the server answers") {
  websocket_options options;
  options.receive_queue_frames = 2;
  options.closing_timeout = 15s;
  auto core = make_core(options);
  test::peer_reader peer;
  std::string window;
  for (int i = 0; i < 10; ++i) window += test::server_frame(text("m" + std::to_string(i)));
  test::feed(core, window, at(0ms));
  CHECK_FALSE(core.wants_read());
  REQUIRE_FALSE(core.close(close_frame(close_code::normal, "bye"), at(10ms)));
  CHECK(core.phase() == session_phase::closing);
  CHECK(core.wants_read());  // a full queue does not hide the server's close
  const auto written = peer.read(test::flush_writes(core, at(10ms)));
  REQUIRE(written.size() == 1);
  CHECK(written[0] == frame(close_frame(close_code::normal, "bye")));
  // The server's answer, behind the messages it sent before.
  window += test::server_frame(close_frame(close_code::normal));
  test::feed(core, window, at(20ms));
  CHECK(core.phase() == session_phase::closed);
  CHECK(core.handshake_done());
  core.on_read_end(true, {}, at(21ms));
  CHECK(core.ended());
  CHECK_FALSE(core.end_reason());
  // The two queued before close() are delivered, the 8 that found the queue
  // full are dropped and counted, and the server's close is delivered.
  CHECK(core.dropped_frames() == 8);
  std::vector<event> events;
  while (auto e = core.poll_event(at(30ms))) events.push_back(std::move(*e));
  REQUIRE(events.size() == 3);
  CHECK(events[0] == event(text("m0")));
  CHECK(events[1] == event(text("m1")));
  CHECK(events[2] == event(close_frame(close_code::normal)));
}

TEST_CASE("session core: a violation after our close, then silence, ends within closing_timeout") {
  websocket_options options;
  options.closing_timeout = 1s;
  SUBCASE("our close is written: the violation ends the session at once") {
    auto core = make_core(options);
    REQUIRE_FALSE(core.close(close_frame(), at(0ms)));
    test::flush_writes(core, at(0ms));
    std::string window = test::raw_frame(0x83, "?");  // reserved opcode 3
    test::feed(core, window, at(100ms));
    CHECK(core.ended());
    CHECK(core.end_reason() == error::reserved_opcode);
  }
  SUBCASE("our close is never written: the closing deadline holds") {
    auto core = make_core(options);
    REQUIRE_FALSE(core.close(close_frame(), at(0ms)));
    CHECK_FALSE(test::take_write(core).empty());  // in flight for ever
    std::string window = test::raw_frame(0x83, "?") + test::server_frame(text("flood"));
    test::feed(core, window, at(100ms));
    CHECK_FALSE(core.ended());
    CHECK(core.next_deadline() == at(1000ms));
    core.on_timeout(at(1000ms));
    CHECK(core.ended());
    CHECK(core.end_reason() == error::reserved_opcode);
  }
  SUBCASE("the peer never answers: error::closing_timeout") {
    auto core = make_core(options);
    REQUIRE_FALSE(core.close(close_frame(), at(0ms)));
    test::flush_writes(core, at(0ms));
    std::string window;
    for (int i = 0; i < 100; ++i) window += test::server_frame(ping("p"));
    test::feed(core, window, at(500ms));
    CHECK(test::take_write(core).empty());  // no pong after our close
    core.on_timeout(at(1000ms));
    CHECK(core.end_reason() == error::closing_timeout);
  }
}

TEST_CASE("session core: a ping flood while our writes never complete keeps one pending pong, the latest") {
  websocket_options options;
  options.silence_pings = true;
  options.send_queue_bytes = 1024;
  auto core = make_core(options);
  std::string window = test::server_frame(ping("first"));
  test::feed(core, window, at(0ms));
  const std::string stuck = test::take_write(core);  // its write never completes
  CHECK_FALSE(stuck.empty());
  for (int i = 0; i < 100000; ++i) window += test::server_frame(ping(std::to_string(i)));
  test::feed(core, window, at(1ms), 4096);
  CHECK(window.empty());
  const ws::session_footprint held = core.footprint();
  CHECK(held.pending_write_bytes <= 125);
  CHECK(held.queued_events == 0);
  // The user's sends count against send_queue_bytes; the pong does not push
  // the queue past it.
  std::vector<frame> batch{binary(std::string(1100, 'x'))};
  CHECK_FALSE(core.send(batch, at(2ms)));
  CHECK(core.can_send() == false);
  std::vector<frame> more{binary(std::string(10, 'y'))};
  CHECK(core.send(more, at(2ms)) == std::errc::operation_would_block);
  core.on_written({}, at(3ms));
  test::peer_reader peer;
  const auto frames = peer.read(test::flush_writes(core, at(3ms)));
  REQUIRE(count_of<pong>(frames) == 1);
  CHECK(std::find(frames.begin(), frames.end(), frame(pong("99999"))) != frames.end());
  CHECK(count_of<binary>(frames) == 1);
}

TEST_CASE("session core: keepalive 300 ms with pong_timeout 10 s pings after every 300 ms of silence") {
  auto core = make_core(keepalive_options(300ms, 10s));
  test::peer_reader peer;
  const auto sent = run_until(core, peer, 2000ms);
  std::vector<std::chrono::milliseconds> ping_times;
  for (const auto& t : sent) {
    REQUIRE(t.f == frame(ping(std::string(ws::keepalive_payload))));
    ping_times.push_back(t.when);
  }
  CHECK(ping_times == std::vector<std::chrono::milliseconds>{300ms, 600ms, 900ms, 1200ms, 1500ms, 1800ms});
  CHECK(core.keepalive_state() == ws::keepalive_phase::awaiting_pong);
  // Our pong is swallowed, and the silence counts from it.
  std::string window = test::server_frame(pong(std::string(ws::keepalive_payload)));
  test::feed(core, window, at(2000ms));
  CHECK_FALSE(core.has_event());
  CHECK(core.keepalive_state() == ws::keepalive_phase::quiet);
  CHECK(core.next_deadline() == at(2300ms));
  // Then silence: lost 10 s after the first unanswered ping.
  run_until(core, peer, 20000ms);
  CHECK(core.ended());
  CHECK(core.end_reason() == error::pong_timeout);
  REQUIRE(core.has_event() == false);
}

TEST_CASE("session core: the pong deadline is pong_timeout after the first unanswered ping") {
  auto core = make_core(keepalive_options(1s, 300ms));
  test::peer_reader peer;
  run_until(core, peer, 1299ms);
  CHECK(core.phase() == session_phase::open);
  run_until(core, peer, 1300ms);
  CHECK(core.end_reason() == error::pong_timeout);
}

TEST_CASE("session core: reconnect, from down to up and to the end when attempts run out") {
  websocket_options options;
  options.retry.attempts = 2;
  options.retry.initial_delay = 1s;
  options.retry.backoff = 2;
  options.retry.jitter = 0;
  auto core = make_core(options, true);
  std::vector<frame> batch{text("unsent")};
  REQUIRE_FALSE(core.send(batch, at(0ms)));
  core.on_read_end(true, {}, at(100ms));
  CHECK(core.phase() == session_phase::down);
  CHECK_FALSE(core.wants_read());
  CHECK(test::take_write(core).empty());
  CHECK(core.send(batch, at(100ms)) == error::connection_down);
  auto e = core.poll_event(at(100ms));
  REQUIRE(e);
  CHECK(*e == event(down(error::closed_without_handshake, 1)));
  CHECK(core.next_deadline() == at(1100ms));
  CHECK_FALSE(core.poll_reconnect());
  core.on_timeout(at(1100ms));
  CHECK(core.poll_reconnect() == 1u);
  CHECK_FALSE(core.poll_reconnect());  // once
  core.on_reconnect_failed(std::make_error_code(std::errc::connection_refused), at(1200ms));
  CHECK(core.phase() == session_phase::down);
  CHECK(core.next_deadline() == at(3200ms));  // the delay doubled
  core.on_timeout(at(3200ms));
  CHECK(core.poll_reconnect() == 2u);
  const unsigned before = core.link_number();
  ws::session_link link;
  link.protocol = "chat";
  link.received = test::server_frame(text("hello again"));
  REQUIRE(core.on_reconnected(std::move(link), at(3300ms)));
  CHECK(core.phase() == session_phase::open);
  CHECK(core.link_number() == before + 1);
  CHECK(core.protocol() == "chat");
  e = core.poll_event(at(3300ms));
  REQUIRE(e);
  CHECK(std::holds_alternative<up>(*e));
  CHECK(core.poll_event(at(3300ms)) == std::optional<event>(text("hello again")));
  // Lost again: each loss gets the full number of attempts.
  core.on_written(std::make_error_code(std::errc::broken_pipe), at(4000ms));  // no write in flight: ignored
  CHECK(core.phase() == session_phase::open);
  core.on_read_end(false, std::make_error_code(std::errc::connection_reset), at(4000ms));
  CHECK(core.phase() == session_phase::down);
  for (unsigned attempt = 1; attempt <= 2; ++attempt) {
    core.on_timeout(*core.next_deadline());
    REQUIRE(core.poll_reconnect() == attempt);
    core.on_reconnect_failed(error::reconnect_refused, at(10000ms));
  }
  CHECK(core.ended());
  CHECK(core.end_reason() == error::reconnect_refused);
  CHECK_FALSE(core.on_reconnected(ws::session_link{}, at(20000ms)));
}

TEST_CASE("session core: never a reconnect after our close, a close either way, or a violation") {
  websocket_options options;
  options.retry.attempts = 5;
  SUBCASE("our close") {
    auto core = make_core(options, true);
    REQUIRE_FALSE(core.close(close_frame(), at(0ms)));
    core.on_read_end(true, {}, at(1ms));
    CHECK(core.end_reason() == error::closed_without_handshake);
  }
  SUBCASE("the peer's close") {
    auto core = make_core(options, true);
    std::string window = test::server_frame(close_frame(close_code::going_away));
    test::feed(core, window, at(0ms));
    CHECK(core.phase() == session_phase::close_received);
    core.on_read_end(false, std::make_error_code(std::errc::connection_reset), at(1ms));
    CHECK(core.ended());
    CHECK_FALSE(core.end_reason());
  }
  SUBCASE("a violation") {
    auto core = make_core(options, true);
    std::string window = test::raw_frame(0x82 | 0x40, "x");  // RSV1 without deflate
    test::feed(core, window, at(0ms));
    CHECK(core.phase() == session_phase::failing);
    core.on_read_end(true, {}, at(1ms));
    CHECK(core.end_reason() == error::reserved_bits_set);
  }
  SUBCASE("close() while down ends with the reason of the down") {
    auto core = make_core(options, true);
    core.on_read_end(true, {}, at(0ms));
    REQUIRE(core.phase() == session_phase::down);
    REQUIRE_FALSE(core.close(close_frame(), at(1ms)));
    CHECK(core.end_reason() == error::closed_without_handshake);
  }
}

TEST_CASE("session core: send_waits_while_down makes sends wait instead of failing") {
  websocket_options options;
  options.retry.attempts = 1;
  options.send_waits_while_down = true;
  auto core = make_core(options, true);
  core.on_read_end(true, {}, at(0ms));
  std::vector<frame> batch{text("later")};
  CHECK(core.send(batch, at(1ms)) == std::errc::operation_would_block);
  CHECK_FALSE(core.can_send());
}

TEST_CASE("session core: a violation takes effect after the frames before it") {
  websocket_options options;
  options.closing_timeout = 5s;
  auto core = make_core(options);
  test::peer_reader peer;
  std::string window = test::server_frame(text("a")) + test::server_frame(ping("p")) + test::server_frame(text("b")) +
                       test::raw_frame(0x81, "\xc0\xaf") + test::server_frame(text("never"));
  test::feed(core, window, at(0ms));
  CHECK(core.phase() == session_phase::failing);
  // The pong answering the ping before the violation goes out; no close yet.
  auto frames = peer.read(test::flush_writes(core, at(0ms)));
  REQUIRE(frames.size() == 1);
  CHECK(frames[0] == frame(pong("p")));
  // The application may still answer what came before.
  CHECK(core.poll_event(at(1ms)) == std::optional<event>(text("a")));
  CHECK(core.poll_event(at(1ms)) == std::optional<event>(ping("p")));
  CHECK(core.poll_event(at(1ms)) == std::optional<event>(text("b")));
  std::vector<frame> reply{text("reply to b")};
  REQUIRE_FALSE(core.send(reply, at(2ms)));
  // Asking for more than there was sends the close.
  CHECK_FALSE(core.poll_event(at(3ms)));
  CHECK(core.phase() == session_phase::closing);
  frames = peer.read(test::flush_writes(core, at(3ms)));
  REQUIRE(frames.size() == 2);
  CHECK(frames[0] == frame(text("reply to b")));
  CHECK(frames[1] == frame(close_frame(close_code::invalid_payload)));
  CHECK(core.ended());
  CHECK(core.end_reason() == error::invalid_utf8);
}

TEST_CASE("session core: a violation's close goes out after closing_timeout when the application does not read") {
  websocket_options options;
  options.closing_timeout = 2s;
  auto core = make_core(options);
  test::peer_reader peer;
  std::string window = test::server_frame(text("unread")) + test::raw_frame(0x80, "x");  // continuation out of place
  test::feed(core, window, at(0ms));
  CHECK(core.next_deadline() == at(2000ms));
  core.on_timeout(at(2000ms));
  const auto frames = peer.read(test::flush_writes(core, at(2000ms)));
  REQUIRE(frames.size() == 1);
  CHECK(frames[0] == frame(close_frame(close_code::protocol_error)));
  CHECK(core.end_reason() == error::unexpected_continuation);
  CHECK(core.poll_event(at(2001ms)) == std::optional<event>(text("unread")));  // still deliverable
}

TEST_CASE("session core: nothing is written after our close frame") {
  websocket_options options;
  options.keepalive = 100ms;
  auto core = make_core(options);
  test::peer_reader peer;
  std::vector<frame> batch{text("last"), close_frame(4000, "done")};
  REQUIRE_FALSE(core.send(batch, at(0ms)));
  std::vector<frame> late{text("late")};
  CHECK(core.send(late, at(1ms)) == error::session_ended);
  std::string window = test::server_frame(ping("after"));
  test::feed(core, window, at(2ms));
  core.on_timeout(at(500ms));  // no keepalive ping either
  const auto frames = peer.read(test::flush_writes(core, at(500ms)));
  REQUIRE(frames.size() == 2);
  CHECK(frames[1] == frame(close_frame(4000, "done")));
  window = test::server_frame(ping("again"));
  test::feed(core, window, at(600ms));
  CHECK(test::take_write(core).empty());
}

TEST_CASE("session core: the peer's close is echoed with its code and delivered; EOF then ends cleanly") {
  auto core = make_core(websocket_options());
  test::peer_reader peer;
  std::string window = test::server_frame(close_frame(4001, "go"));
  test::feed(core, window, at(0ms));
  CHECK(core.phase() == session_phase::close_received);
  const auto frames = peer.read(test::flush_writes(core, at(0ms)));
  REQUIRE(frames.size() == 1);
  CHECK(frames[0] == frame(close_frame(4001)));
  CHECK(core.phase() == session_phase::closed);
  CHECK(core.poll_event(at(1ms)) == std::optional<event>(close_frame(4001, "go")));
  core.on_read_end(true, {}, at(2ms));
  CHECK(core.ended());
  CHECK_FALSE(core.end_reason());
}

TEST_CASE("session core: after close frames both ways the TCP end is awaited at most closing_timeout") {
  websocket_options options;
  options.closing_timeout = 3s;
  auto core = make_core(options);
  std::string window = test::server_frame(close_frame());
  test::feed(core, window, at(1000ms));
  test::flush_writes(core, at(1000ms));
  CHECK(core.next_deadline() == at(4000ms));
  core.on_timeout(at(4000ms));
  CHECK(core.ended());
  CHECK_FALSE(core.end_reason());
}

TEST_CASE("session core: a large payload is read straight into the message and spliced when sent") {
  auto core = make_core(websocket_options());
  std::string big(300 * 1024, 'z');
  std::string window = test::server_frame(binary(big));
  test::feed(core, window, at(0ms), 16 * 1024);
  CHECK(core.poll_event(at(1ms)) == std::optional<event>(binary(big)));
  CHECK(core.footprint().read_buffer_bytes <= 256 * 1024);
  std::vector<frame> batch{text("small"), binary(big), text("after")};
  REQUIRE_FALSE(core.send(batch, at(2ms)));
  const auto pieces = core.next_write();
  CHECK(pieces.size() == 3);
  std::string wire;
  for (auto p : pieces) wire += p;
  core.on_written({}, at(3ms));
  test::peer_reader peer;
  const auto frames = peer.read(wire);
  REQUIRE(frames.size() == 3);
  CHECK(frames[1] == frame(binary(big)));
}
