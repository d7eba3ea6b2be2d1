// What permessage-deflate gives and costs, in process, no sockets:
//
//  - wire bytes of a realistic JSON message stream (4000 messages of
//    100 B to 2 KB: trades, order book updates and chat messages with
//    repeated keys) sent by a client, uncompressed and compressed with
//    context takeover on and off, at zlib levels 1 and 6 and with a
//    small-message threshold;
//  - the time to encode (compress, mask, frame) and to decode (inflate,
//    check UTF-8) one 16 KiB JSON message, with and without compression.
//
//   bench_deflate
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "timing.hpp"
#include "ws/decoder.hpp"
#include "ws/deflate_codec.hpp"
#include "ws/encoder.hpp"

namespace {

using bench::best_ns_per_call;
using bench::keep;

class json_feed {
 public:
  std::string next() {
    switch (pick(0, 9)) {
      case 0: case 1: case 2: case 3: case 4: return trade();
      case 5: case 6: case 7: return book();
      default: return chat();
    }
  }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  std::string price() {
    return std::to_string(43000 + pick(0, 400)) + "." + std::to_string(10 + pick(0, 89));
  }
  std::string symbol() {
    static const char* const symbols[] = {"BTC-USD", "ETH-USD", "SOL-USD", "EUR-USD", "ADA-USD"};
    return symbols[pick(0, 4)];
  }
  std::string time() {
    ms_ += static_cast<unsigned>(pick(1, 900));
    return "\"2026-11-21T18:" + std::to_string(10 + (ms_ / 60000) % 50) + ":" + std::to_string(10 + (ms_ / 1000) % 50) +
           "." + std::to_string(100000 + ms_ % 900000) + "Z\"";
  }
  std::string trade() {
    return "{\"type\":\"match\",\"trade_id\":" + std::to_string(trade_id_++) + ",\"maker_order_id\":\"" + uuid() +
           "\",\"taker_order_id\":\"" + uuid() + "\",\"side\":\"" + (pick(0, 1) ? "buy" : "sell") +
           "\",\"size\":\"0.00" + std::to_string(pick(100, 99999)) + "\",\"price\":\"" + price() +
           "\",\"product_id\":\"" + symbol() + "\",\"sequence\":" + std::to_string(sequence_++) +
           ",\"time\":" + time() + "}";
  }
  std::string book() {
    std::string s = "{\"type\":\"l2update\",\"product_id\":\"" + symbol() + "\",\"time\":" + time() + ",\"changes\":[";
    const int levels = pick(2, 40);
    for (int i = 0; i < levels; ++i) {
      if (i) s += ",";
      s += "[\"" + std::string(pick(0, 1) ? "buy" : "sell") + "\",\"" + price() + "\",\"" +
           std::to_string(pick(0, 20)) + ".0" + std::to_string(pick(1000, 9999)) + "\"]";
    }
    return s + "]}";
  }
  std::string chat() {
    static const char* const words[] = {"the", "market", "is", "up", "down", "today", "anyone", "buying", "selling",
                                        "looks", "like", "a", "breakout", "support", "at", "resistance", "lol",
                                        "what", "do", "you", "think", "about", "this", "chart", "again"};
    std::string text;
    const int n = pick(3, 60);
    for (int i = 0; i < n; ++i) text += std::string(i ? " " : "") + words[pick(0, 24)];
    return "{\"type\":\"message\",\"room\":\"trading-floor\",\"id\":" + std::to_string(sequence_++) +
           ",\"user\":{\"id\":" + std::to_string(pick(1000, 1050)) + ",\"name\":\"trader" +
           std::to_string(pick(1, 50)) + "\",\"badges\":[\"verified\"]},\"text\":\"" + text + "\",\"sent_at\":" +
           time() + ",\"reactions\":[]}";
  }
  std::string uuid() {
    static const char hex[] = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < 32; ++i) {
      if (i == 8 || i == 12 || i == 16 || i == 20) s += '-';
      s += hex[pick(0, 15)];
    }
    return s;
  }

  std::mt19937 rng_{20261121};
  unsigned long trade_id_ = 512345678;
  unsigned long sequence_ = 81234567890;
  unsigned ms_ = 0;
};

std::size_t wire_bytes(const std::vector<std::string>& messages, std::unique_ptr<wscoro::ws::message_deflater> d,
                       std::size_t min_size = 0) {
  wscoro::ws::encoder client(wscoro::ws::role::client, std::move(d), min_size);
  std::string out;
  std::size_t total = 0;
  for (const auto& m : messages) {
    out.clear();
    client.encode(wscoro::text(m), out);
    total += out.size();
  }
  return total;
}

}  // namespace

int main() {
  json_feed feed;
  std::vector<std::string> messages;
  std::size_t payload = 0, smallest = 1 << 30, largest = 0;
  while (messages.size() < 4000) {
    std::string m = feed.next();
    if (m.size() < 100 || m.size() > 2048) continue;
    payload += m.size();
    smallest = std::min(smallest, m.size());
    largest = std::max(largest, m.size());
    messages.push_back(std::move(m));
  }
  std::printf("JSON stream: %zu messages of %zu to %zu bytes, %zu payload bytes\n\n", messages.size(), smallest,
              largest, payload);
  const std::size_t plain = wire_bytes(messages, nullptr);
  std::printf("%-44s %10s %8s\n", "client frames", "wire B", "saved");
  std::printf("%-44s %10zu %8s\n", "uncompressed", plain, "-");
  struct row {
    const char* name;
    bool takeover;
    int level;
    int bits;
    std::size_t min_size;
  };
  const row rows[] = {
      {"deflate, context takeover, level 6", true, -1, 15, 0},
      {"deflate, context takeover, level 1", true, 1, 15, 0},
      {"deflate, context takeover, 10-bit window", true, -1, 10, 0},
      {"deflate, no context takeover, level 6", false, -1, 15, 0},
      {"deflate, no context takeover, min_size 256", false, -1, 15, 256},
  };
  for (const row& r : rows) {
    const std::size_t bytes = wire_bytes(
        messages, std::make_unique<wscoro::ws::message_deflater>(r.bits, !r.takeover, r.level, 8), r.min_size);
    std::printf("%-44s %10zu %7.1f%%\n", r.name, bytes, 100.0 * (1.0 - static_cast<double>(bytes) / plain));
  }

  // One 16 KiB message of the same stream, over and over.
  std::string big;
  for (std::size_t i = 0; big.size() < 16 * 1024; ++i) big += messages[i] + "\n";
  big.resize(16 * 1024);
  std::printf("\n%-44s %10s %10s\n", "16 KiB JSON message", "us/msg", "MB/s");
  for (bool compress : {false, true}) {
    for (bool takeover : {true, false}) {
      if (!compress && !takeover) continue;
      auto deflater = compress ? std::make_unique<wscoro::ws::message_deflater>(15, !takeover, -1, 8) : nullptr;
      wscoro::ws::encoder client(wscoro::ws::role::client, std::move(deflater));
      std::string out;
      const double encode_ns = best_ns_per_call([&] {
        out.clear();
        client.encode(wscoro::text(big), out);
        keep(out);
      });
      // Decode: server frames of the same message, as a client reads them.
      wscoro::ws::encoder server(wscoro::ws::role::server,
                                 compress ? std::make_unique<wscoro::ws::message_deflater>(15, true, -1, 8) : nullptr);
      std::string wire;
      server.encode(wscoro::text(big), wire);
      wscoro::ws::decoder d(wscoro::ws::role::client, 1 << 26,
                            compress ? std::make_unique<wscoro::ws::message_inflater>(15, true) : nullptr);
      const double decode_ns = best_ns_per_call([&] {
        auto r = d.decode(wire);
        if (!r.event || r.error) std::abort();
        keep(r.event);
      });
      const std::string name = compress ? std::string("deflate") + (takeover ? ", context takeover" : ", no takeover")
                                        : std::string("uncompressed");
      std::printf("%-44s %10.1f %10.0f\n", (name + ": encode").c_str(), encode_ns / 1000, 16384.0 * 1000 / encode_ns);
      if (takeover || !compress)
        std::printf("%-44s %10.1f %10.0f\n", (name + ": decode").c_str(), decode_ns / 1000,
                    16384.0 * 1000 / decode_ns);
    }
  }
  return 0;
}
