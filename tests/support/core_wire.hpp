// Drives a ws::session_core the way a driver does, for the unit tests, the
// simulation and the fuzz target: the peer's bytes go in through
// read_space()/on_read(), the core's writes come out as bytes that a
// server-role decoder turns back into frames. No I/O, no clock.
#pragma once

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "wscoro/frame.hpp"
#include "ws/decoder.hpp"
#include "ws/encoder.hpp"
#include "ws/session_core.hpp"

namespace wscoro::test {

/// Feeds `bytes` from the front of `peer_bytes` as reads of at most
/// `read_size` bytes while the core wants to read; what it does not take
/// stays in `peer_bytes` (the peer's TCP window). Returns the bytes taken.
inline std::size_t feed(ws::session_core& core, std::string& peer_bytes, ws::session_core::time_point now,
                        std::size_t read_size = static_cast<std::size_t>(-1)) {
  std::size_t taken = 0;
  while (taken < peer_bytes.size() && core.wants_read()) {
    const std::span<char> space = core.read_space();
    const std::size_t n = std::min({space.size(), peer_bytes.size() - taken, read_size});
    if (n == 0) break;
    std::memcpy(space.data(), peer_bytes.data() + taken, n);
    core.on_read(n, now);
    taken += n;
  }
  peer_bytes.erase(0, taken);
  return taken;
}

/// Takes the core's next write as one string (the pieces joined), leaving
/// it in flight; empty when there is none.
inline std::string take_write(ws::session_core& core) {
  std::string out;
  for (std::string_view piece : core.next_write()) out.append(piece);
  return out;
}

/// Completes every write the core has, one after another, and returns the
/// bytes written.
inline std::string flush_writes(ws::session_core& core, ws::session_core::time_point now) {
  std::string out;
  for (;;) {
    const std::string w = take_write(core);
    if (w.empty()) return out;
    out += w;
    core.on_written({}, now);
  }
}

/// The peer's view of what the client wrote.
class peer_reader {
 public:
  /// With an inflater, permessage-deflate was agreed.
  explicit peer_reader(std::size_t max_message_size = 1u << 30, std::unique_ptr<ws::message_inflater> inflater = nullptr)
      : decoder_(ws::role::server, max_message_size, std::move(inflater)) {}

  /// Decodes `bytes` (appended to what was left over) into frames.
  std::vector<frame> read(std::string_view bytes) {
    pending_.append(bytes);
    std::vector<frame> out;
    std::size_t at = 0;
    while (!decoder_.finished()) {
      auto r = decoder_.decode(std::string_view(pending_).substr(at));
      at += r.consumed;
      if (r.error) {
        error_ = r.error;
        break;
      }
      if (!r.event) break;
      out.push_back(std::move(*r.event));
    }
    pending_.erase(0, at);
    return out;
  }
  std::error_code error() const noexcept { return error_; }
  bool finished() const noexcept { return decoder_.finished(); }
  /// Bytes received but not decoded (after a close frame: bytes that should not exist).
  std::size_t unread() const noexcept { return pending_.size(); }

 private:
  ws::decoder decoder_;
  std::string pending_;
  std::error_code error_;
};

/// A frame as the server sends it (unmasked).
inline std::string server_frame(const frame& f) {
  ws::encoder enc(ws::role::server);
  std::string out;
  enc.encode(f, out);
  return out;
}

}  // namespace wscoro::test
