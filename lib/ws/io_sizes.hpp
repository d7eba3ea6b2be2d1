// The sizes that shape a session's reads and writes.
#pragma once

#include <cstddef>

namespace wscoro::ws {

// The read buffer starts small, so that idle connections stay cheap, and
// doubles whenever a read fills it, up to a size that amortises syscalls
// for bulk transfers.
inline constexpr std::size_t initial_read_buffer = 256;
inline constexpr std::size_t largest_read_buffer = 256 * 1024;

// From this size on, a message is masked in its own string and written from
// there rather than copied into the outbox.
inline constexpr std::size_t splice_payload_from = 4 * 1024;

// With at least this much of a frame's payload still to come and nothing
// else buffered, the payload is read from the socket straight into the
// message, skipping the copy out of the read buffer.
inline constexpr std::size_t direct_read_from = 64 * 1024;

// Pongs encoded one for one into a write that has not started yet, at most
// (about 30 of the largest, or 300 small ones): beyond it, and while a write
// is under way, only the latest ping waits for its pong.
inline constexpr std::size_t pong_burst_bytes = 4 * 1024;

}  // namespace wscoro::ws
