#include "ws/deflate_codec.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "wscoro/error.hpp"

#if WSCORO_HAVE_ZLIB
#include <zlib.h>
#endif

namespace wscoro::ws {

#if WSCORO_HAVE_ZLIB

namespace {

constexpr unsigned char flush_tail[] = {0x00, 0x00, 0xff, 0xff};

// Output grows by at most this much per step, so that a small compressed
// input never makes a large allocation before its output is seen.
constexpr std::size_t inflate_step = 64 * 1024;

// The least output room given to deflate. A sync flush that exactly fills
// the room cannot be told from an unfinished one, and calling again adds an
// empty stored block (5 bytes): with more room than that, the loop ends.
// Matters only for the tiny pieces tests use.
constexpr std::size_t flush_room = 16;

Bytef* bytes(const char* p) noexcept { return reinterpret_cast<Bytef*>(const_cast<char*>(p)); }

}  // namespace

bool deflate_available() noexcept { return true; }

struct message_deflater::stream {
  stream(bool reset, std::size_t piece) : no_context_takeover(reset), max_piece(piece) {}
  ~stream() { deflateEnd(&z); }
  z_stream z{};
  bool no_context_takeover;
  std::size_t max_piece;
};

message_deflater::message_deflater(int window_bits, bool no_context_takeover, int level, int memory_level,
                                   std::size_t max_piece)
    : z_(std::make_unique<stream>(no_context_takeover, std::clamp<std::size_t>(max_piece, 1, zlib_max_piece))) {
  // zlib refuses a raw window of 8 bits (it would silently use 9, whose
  // back-references a peer with a 256-byte window cannot follow). Matches
  // at distance 1 only (Z_RLE) fit any window.
  const bool run_length_only = window_bits <= 8;
  const int bits = std::clamp(window_bits, 9, 15);
  if (deflateInit2(&z_->z, level, Z_DEFLATED, -bits, memory_level, run_length_only ? Z_RLE : Z_DEFAULT_STRATEGY) !=
      Z_OK)
    throw std::runtime_error("wscoro: zlib's deflateInit2 failed");
}

message_deflater::~message_deflater() = default;
message_deflater::message_deflater(message_deflater&&) noexcept = default;
message_deflater& message_deflater::operator=(message_deflater&&) noexcept = default;

void message_deflater::compress(std::string_view message, std::string& out) {
  if (message.empty()) {
    // An empty stored block, tail stripped (RFC 7692 7.2.3.6). zlib would
    // emit nothing for a second flush in a row with no input.
    out.assign(1, '\0');
    return;
  }
  z_stream& z = z_->z;
  out.resize(message.size() + message.size() / 1000 + 64);
  std::size_t taken = 0;
  std::size_t produced = 0;
  for (;;) {
    // The message goes in pieces zlib can count; the last one is flushed.
    const std::size_t piece = std::min(message.size() - taken, z_->max_piece);
    const bool last = taken + piece == message.size();
    z.next_in = bytes(message.data() + taken);
    z.avail_in = static_cast<uInt>(piece);
    z.next_out = bytes(out.data() + produced);
    z.avail_out = static_cast<uInt>(std::min(out.size() - produced, std::max(z_->max_piece, flush_room)));
    const std::size_t room = z.avail_out;
    deflate(&z, last ? Z_SYNC_FLUSH : Z_NO_FLUSH);
    taken += piece - z.avail_in;
    produced += room - z.avail_out;
    // A sync flush is complete when zlib stopped with output room to spare.
    if (last && z.avail_in == 0 && z.avail_out != 0) break;
    if (produced == out.size()) out.resize(out.size() * 2);
  }
  out.resize(produced - sizeof flush_tail);  // RFC 7692 7.2.1: the tail is not sent
  if (z_->no_context_takeover) deflateReset(&z);
}

struct message_inflater::stream {
  stream(bool reset, std::size_t piece) : no_context_takeover(reset), max_piece(piece) {}
  ~stream() { inflateEnd(&z); }

  // After a final block (BFINAL) zlib's stream has ended, but the message
  // and the LZ77 history go on (RFC 7692 7.2.3.4): the next byte starts a
  // new stream that may refer back into what was inflated so far.
  // inflateReset alone would forget that window, so it is carried over.
  void restart_after_final_block() {
    std::string window(std::size_t{1} << 15, '\0');  // zlib's largest window
    uInt size = 0;
    inflateGetDictionary(&z, bytes(window.data()), &size);
    inflateReset(&z);
    if (size != 0) inflateSetDictionary(&z, bytes(window.data()), size);
  }

  z_stream z{};
  bool no_context_takeover;
  std::size_t max_piece;
  // The input so far ended exactly with a final block: if the message ends
  // there too, the 00 00 ff ff tail is not inflated (it would open a stored
  // block that nothing completes).
  bool at_final_block_end = false;
};

message_inflater::message_inflater(int /*window_bits*/, bool no_context_takeover, std::size_t max_piece)
    : z_(std::make_unique<stream>(no_context_takeover, std::clamp<std::size_t>(max_piece, 1, zlib_max_piece))) {
  // Always zlib's largest window, whatever the peer agreed to: zlib checks a
  // distance against its window plus what the current call has output, so
  // with a smaller window a peer reaching further back than it agreed would
  // be accepted or refused depending on how the message was cut into reads
  // (and the close code on TCP segmentation). With 32 KiB, DEFLATE's longest
  // distance, a distance is refused exactly when it reaches before the
  // start of the data, however the bytes arrive. A larger inflate window is
  // always safe for a peer that keeps to a smaller one.
  if (inflateInit2(&z_->z, -15) != Z_OK)
    throw std::runtime_error("wscoro: zlib's inflateInit2 failed");
}

message_inflater::~message_inflater() = default;
message_inflater::message_inflater(message_inflater&&) noexcept = default;
message_inflater& message_inflater::operator=(message_inflater&&) noexcept = default;

std::error_code message_inflater::inflate(std::string_view in, std::string& out, std::size_t limit) {
  while (!in.empty()) {
    const std::string_view piece = in.substr(0, z_->max_piece);
    if (auto ec = inflate_piece(piece, out, limit)) return ec;
    in.remove_prefix(piece.size());  // a piece inflates whole unless it fails
  }
  return {};
}

std::error_code message_inflater::inflate_piece(std::string_view in, std::string& out, std::size_t limit) {
  z_->at_final_block_end = false;
  z_stream& z = z_->z;
  z.next_in = bytes(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  for (;;) {
    const std::size_t used = out.size();
    int rc = Z_OK;
    if (used < limit) {
      const std::size_t step = std::min({inflate_step, limit - used, std::max<std::size_t>(used, 4096)});
      if (out.capacity() < used + step) out.reserve(std::min(limit, std::max(used + step, out.capacity() * 2)));
      out.resize(used + step);
      z.next_out = bytes(out.data() + used);
      z.avail_out = static_cast<uInt>(step);
      rc = ::inflate(&z, Z_SYNC_FLUSH);
      out.resize(used + step - z.avail_out);
    } else {
      // At the limit, one more byte would be too much: probe for it in a
      // byte on the stack rather than grow the message.
      Bytef probe;
      z.next_out = &probe;
      z.avail_out = 1;
      rc = ::inflate(&z, Z_SYNC_FLUSH);
      if (z.avail_out == 0) return error::message_too_big;
    }
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) return error::invalid_compressed_data;
    if (rc == Z_STREAM_END) {
      // A final block (RFC 7692 7.2.3.4): what follows is a new stream.
      z_->restart_after_final_block();
      if (z.avail_in == 0) {
        z_->at_final_block_end = true;
        return {};
      }
      continue;
    }
    // inflate stops when the input or the output runs out: room left means
    // every input byte was taken.
    if (z.avail_out != 0) return {};
  }
}

std::error_code message_inflater::finish(std::string& out, std::size_t limit) {
  std::error_code ec;
  if (!std::exchange(z_->at_final_block_end, false)) {
    const auto* tail = reinterpret_cast<const char*>(flush_tail);
    ec = inflate(std::string_view(tail, sizeof flush_tail), out, limit);
  }
  if (!ec && z_->no_context_takeover) inflateReset(&z_->z);
  return ec;
}

#else  // built without zlib: negotiation refuses compression before any codec is made

bool deflate_available() noexcept { return false; }

struct message_deflater::stream {};
message_deflater::message_deflater(int, bool, int, int, std::size_t) {
  throw std::logic_error("wscoro was built without zlib: no permessage-deflate");
}
message_deflater::~message_deflater() = default;
message_deflater::message_deflater(message_deflater&&) noexcept = default;
message_deflater& message_deflater::operator=(message_deflater&&) noexcept = default;
void message_deflater::compress(std::string_view, std::string&) {}

struct message_inflater::stream {};
message_inflater::message_inflater(int, bool, std::size_t) {
  throw std::logic_error("wscoro was built without zlib: no permessage-deflate");
}
message_inflater::~message_inflater() = default;
message_inflater::message_inflater(message_inflater&&) noexcept = default;
message_inflater& message_inflater::operator=(message_inflater&&) noexcept = default;
std::error_code message_inflater::inflate(std::string_view, std::string&, std::size_t) {
  return error::compression_unavailable;
}
std::error_code message_inflater::inflate_piece(std::string_view, std::string&, std::size_t) {
  return error::compression_unavailable;
}
std::error_code message_inflater::finish(std::string&, std::size_t) { return error::compression_unavailable; }

#endif

}  // namespace wscoro::ws
