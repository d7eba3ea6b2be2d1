// In-process microbenchmarks of wscoro's protocol core, no sockets:
//
//  - masking (ws::apply_mask) throughput, GB/s (10^9 bytes/s);
//  - UTF-8 validation (ws::is_valid_utf8) throughput, GB/s, on ASCII; on
//    "latin" text (French prose: ~4 % of bytes in 2-byte characters); and on
//    "mixed" text (1-, 2-, 3- and 4-byte characters about equally: under a
//    third of the bytes ASCII);
//    both on 16 B, 1 KiB, 64 KiB, 1 MiB and 16 MiB payloads;
//  - decoding (ws::decoder, client role: unmasked server frames) and
//    encoding (ws::encoder, client role: header + masked payload appended
//    to a buffer) of 64 B binary frames, ns per frame.
//
// Each figure is the best of 5 rounds of at least 40 ms each.
//
// Built with Boost (BENCH_WITH_BEAST), the table also shows Boost.Beast's
// own masking (websocket::detail::mask_inplace) and UTF-8 check
// (websocket::detail::check_utf8) on the same data, for reference.
//
//   bench_micro
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "timing.hpp"
#include "ws/decoder.hpp"
#include "ws/encoder.hpp"
#include "ws/mask.hpp"
#include "ws/utf8.hpp"

#if BENCH_WITH_BEAST
#include <boost/beast/websocket/detail/mask.hpp>
#include <boost/beast/websocket/detail/utf8_checker.hpp>
#endif

namespace {

using bench::best_ns_per_call;
using bench::keep;

double gb_per_s(std::size_t bytes, double ns) { return static_cast<double>(bytes) / ns; }

// Valid UTF-8 of exactly `n` bytes mixing 1-, 2-, 3- and 4-byte characters
// (roughly a quarter of the bytes each), padded with ASCII at the end.
std::string mixed_text(std::size_t n) {
  static const char* const pieces[] = {"abcd", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xD0\xBC"};
  std::string s;
  s.reserve(n);
  for (std::size_t i = 0;; ++i) {
    const std::string_view p = pieces[i % 5];
    if (s.size() + p.size() > n) break;
    s.append(p);
  }
  s.resize(n, 'x');
  return s;
}

// Valid UTF-8 of exactly `n` bytes: French prose, about 4 % of its bytes
// in 2-byte characters, the rest ASCII.
std::string latin_text(std::size_t n) {
  const std::string_view pangram =
      "Le c\xC5\x93ur d\xC3\xA9\xC3\xA7u mais l'\xC3\xA2me plut\xC3\xB4t na\xC3\xAFve, "
      "Lou\xC3\xBFs r\xC3\xAAva de crapa\xC3\xBCter en cano\xC3\xAB au del\xC3\xA0 des "
      "\xC3\xAEles, pr\xC3\xA8s du m\xC3\xA4lstr\xC3\xB6m o\xC3\xB9 br\xC3\xBBlent les "
      "nov\xC3\xA6. Portez ce vieux whisky au juge blond qui fume sur son \xC3\xAEle int\xC3\xA9rieure. ";
  std::string s;
  s.reserve(n + pangram.size());
  while (s.size() + pangram.size() <= n) s.append(pangram);
  s.resize(n, 'x');
  return s;
}

}  // namespace

int main() {
  const std::size_t sizes[] = {16, 1024, 64 * 1024, 1024 * 1024, 16 * 1024 * 1024};
  const char* names[] = {"16 B", "1 KiB", "64 KiB", "1 MiB", "16 MiB"};

#if BENCH_WITH_BEAST
  std::printf("%-8s %19s %19s %19s %19s\n", "", "mask", "utf8 ascii", "utf8 latin", "utf8 mixed");
  std::printf("%-8s %9s %9s %9s %9s %9s %9s %9s %9s\n", "payload", "wscoro", "beast", "wscoro", "beast", "wscoro",
              "beast", "wscoro", "beast");
#else
  std::printf("%-8s %9s %11s %11s %11s\n", "payload", "mask", "utf8 ascii", "utf8 latin", "utf8 mixed");
#endif
  for (std::size_t k = 0; k < std::size(sizes); ++k) {
    const std::size_t n = sizes[k];
    std::string data(n, 'a');
    const std::string ascii(n, 'a');
    const std::string latin = latin_text(n);
    const std::string mixed = mixed_text(n);
    if (!wscoro::ws::is_valid_utf8(latin) || !wscoro::ws::is_valid_utf8(mixed)) {
      std::fprintf(stderr, "the test text is not valid UTF-8\n");
      return 1;
    }
    const auto utf8_gbps = [&](const std::string& text) {
      return gb_per_s(n, best_ns_per_call([&] {
                        bool ok = wscoro::ws::is_valid_utf8(text);
                        keep(ok);
                        keep(text);
                      }));
    };
    const wscoro::ws::mask_key key{0x12, 0x34, 0x56, 0x78};
    const double mask = gb_per_s(n, best_ns_per_call([&] {
                                   wscoro::ws::apply_mask(data.data(), data.size(), key);
                                   keep(data);
                                 }));
    const double ascii_gbps = utf8_gbps(ascii);
    const double latin_gbps = utf8_gbps(latin);
    const double mixed_gbps = utf8_gbps(mixed);
#if BENCH_WITH_BEAST
    namespace bd = boost::beast::websocket::detail;
    const auto beast_utf8_gbps = [&](const std::string& text) {
      return gb_per_s(n, best_ns_per_call([&] {
                        bool ok = bd::check_utf8(text.data(), text.size());
                        keep(ok);
                        keep(text);
                      }));
    };
    bd::prepared_key beast_key{0x12, 0x34, 0x56, 0x78};
    const double beast_mask = gb_per_s(n, best_ns_per_call([&] {
                                         bd::mask_inplace(boost::asio::buffer(data), beast_key);
                                         keep(data);
                                       }));
    std::printf("%-8s %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f\n", names[k], mask, beast_mask, ascii_gbps,
                beast_utf8_gbps(ascii), latin_gbps, beast_utf8_gbps(latin), mixed_gbps, beast_utf8_gbps(mixed));
#else
    std::printf("%-8s %9.2f %11.2f %11.2f %11.2f\n", names[k], mask, ascii_gbps, latin_gbps, mixed_gbps);
#endif
  }

  // 64 B binary frames.
  constexpr std::size_t frame_payload = 64;
  constexpr std::size_t batch = 1024;
  const wscoro::frame message(std::in_place_type<wscoro::binary>, std::string(frame_payload, 'x'));

  // Decode: a buffer of `batch` unmasked server frames, as a client reads them.
  std::string wire;
  {
    wscoro::ws::encoder server(wscoro::ws::role::server);
    for (std::size_t i = 0; i < batch; ++i) server.encode(message, wire);
  }
  const double decode_ns = best_ns_per_call([&] {
    wscoro::ws::decoder d(wscoro::ws::role::client, 64 * 1024 * 1024);
    std::string_view in = wire;
    std::size_t frames = 0;
    while (!in.empty()) {
      auto r = d.decode(in);
      in.remove_prefix(r.consumed);
      if (r.event) ++frames;
      keep(r.event);
      if (r.error) std::abort();
    }
    keep(frames);
  });

  // Encode: `batch` frames appended to one buffer, as the session's outbox.
  wscoro::ws::encoder client(wscoro::ws::role::client);
  std::string out;
  out.reserve(batch * (frame_payload + wscoro::ws::max_header_size));
  const double encode_ns = best_ns_per_call([&] {
    out.clear();
    for (std::size_t i = 0; i < batch; ++i) client.encode(message, out);
    keep(out);
  });

  std::printf("(GB/s: 10^9 bytes per second)\n\n%-28s %10s\n", "64 B frames", "ns/frame");
  std::printf("%-28s %10.1f\n", "decode (server->client)", decode_ns / batch);
  std::printf("%-28s %10.1f\n", "encode (client, masked)", encode_ns / batch);
  return 0;
}
