// What every benchmark client shares: the command line, a fixed-size
// latency histogram, the CPU and memory figures of getrusage, and the one
// `result ...` line each client prints.
//
// No Asio here: the wscoro and raw clients use standalone Asio, the Beast
// ones Boost.Asio.
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

using clock = std::chrono::steady_clock;

enum class mode { echo, latency };

struct options {
  std::string url = "ws://127.0.0.1:8080/";
  std::size_t size = 64;
  std::size_t count = 100000;  // per connection
  std::size_t window = 64;     // messages in flight per connection (echo mode)
  std::size_t conns = 1;
  mode run_mode = mode::echo;
  // The host, port and target taken from url.
  std::string host;
  std::string port;
  std::string target = "/";
};

[[noreturn]] inline void usage(const char* argv0, const std::string& why) {
  std::fprintf(stderr,
               "%s: %s\nusage: %s --url ws://HOST:PORT/ --size BYTES --count N --window W --conns C "
               "--mode echo|latency\n",
               argv0, why.c_str(), argv0);
  std::exit(2);
}

inline std::size_t parse_size(const char* argv0, std::string_view s) {
  std::size_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) usage(argv0, "not a number: " + std::string(s));
  return v;
}

/// Splits scheme://host:port/target (any scheme; the port is required).
inline void split_url(const char* argv0, options& o) {
  std::string_view u = o.url;
  const auto scheme_end = u.find("://");
  if (scheme_end == std::string_view::npos) usage(argv0, "bad url: " + o.url);
  u.remove_prefix(scheme_end + 3);
  const auto slash = u.find('/');
  const std::string_view authority = u.substr(0, slash);
  o.target = slash == std::string_view::npos ? "/" : std::string(u.substr(slash));
  const auto colon = authority.rfind(':');
  if (colon == std::string_view::npos) usage(argv0, "the url needs a port: " + o.url);
  o.host = std::string(authority.substr(0, colon));
  o.port = std::string(authority.substr(colon + 1));
}

/// Parses the client command line; `extra` sees options it does not know
/// (returns false to reject them) and may consume their value.
template <class Extra>
options parse_options(int argc, char** argv, Extra&& extra) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) usage(argv[0], "missing value after " + std::string(arg));
      return argv[++i];
    };
    if (arg == "--url") {
      o.url = std::string(value());
    } else if (arg == "--size") {
      o.size = parse_size(argv[0], value());
    } else if (arg == "--count") {
      o.count = parse_size(argv[0], value());
    } else if (arg == "--window") {
      o.window = parse_size(argv[0], value());
    } else if (arg == "--conns") {
      o.conns = parse_size(argv[0], value());
    } else if (arg == "--mode") {
      const auto m = value();
      if (m == "echo") {
        o.run_mode = mode::echo;
      } else if (m == "latency") {
        o.run_mode = mode::latency;
      } else {
        usage(argv[0], "mode is echo or latency");
      }
    } else if (!extra(arg, value)) {
      usage(argv[0], "unknown option " + std::string(arg));
    }
  }
  if (o.window == 0 || o.conns == 0 || o.count == 0) usage(argv[0], "window, conns and count must be > 0");
  if (o.run_mode == mode::latency) o.window = 1;
  split_url(argv[0], o);
  return o;
}

inline options parse_options(int argc, char** argv) {
  return parse_options(argc, argv, [](std::string_view, auto&&) { return false; });
}

/// Round-trip times in a fixed-size log-linear histogram (< 1 % error), so
/// that its memory does not grow with the message count or the number of
/// connections (the 1000-connection run measures memory per connection).
class histogram {
 public:
  void add(clock::duration d) noexcept {
    const auto ns = static_cast<std::uint64_t>(std::max<std::int64_t>(0, d.count()));
    ++buckets_[index(ns)];
    ++total_;
  }
  void add(clock::time_point sent, clock::time_point now) noexcept {
    add(std::chrono::duration_cast<std::chrono::nanoseconds>(now - sent));
  }
  /// The q-quantile (0..1) in microseconds.
  double quantile_us(double q) const noexcept {
    if (total_ == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_ - 1));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
      seen += buckets_[i];
      if (seen > rank) return static_cast<double>(middle(i)) / 1000.0;
    }
    return 0;
  }

 private:
  static constexpr unsigned sub_bits = 7;  // 128 buckets per power of two
  static constexpr std::size_t linear = std::size_t{1} << sub_bits;

  static std::size_t index(std::uint64_t ns) noexcept {
    if (ns < linear) return static_cast<std::size_t>(ns);
    const unsigned top = 63u - static_cast<unsigned>(__builtin_clzll(ns));  // >= sub_bits
    const unsigned shift = top - sub_bits;
    const std::size_t sub = static_cast<std::size_t>(ns >> shift) - linear;  // 0..127
    return linear + shift * linear + sub;
  }
  static std::uint64_t middle(std::size_t i) noexcept {
    if (i < linear) return i;
    const std::size_t shift = (i - linear) / linear;
    const std::uint64_t sub = (i - linear) % linear;
    const std::uint64_t low = (linear + sub) << shift;
    return low + ((std::uint64_t{1} << shift) >> 1);
  }

  std::array<std::uint32_t, linear + (64 - sub_bits) * linear> buckets_{};
  std::uint64_t total_ = 0;
};

/// User plus system CPU time of this process.
inline std::chrono::microseconds cpu_time() noexcept {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const auto us = [](const timeval& t) {
    return std::int64_t{t.tv_sec} * 1000000 + std::int64_t{t.tv_usec};
  };
  return std::chrono::microseconds(us(ru.ru_utime) + us(ru.ru_stime));
}

/// Minor page faults of this process so far.
inline long minor_faults() noexcept {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

/// Peak resident memory of this process, KiB.
inline long max_rss_kb() noexcept {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

/// The measured interval: from every connection being open to the last echo.
struct measurement {
  clock::time_point start_time;
  std::chrono::microseconds start_cpu{};
  clock::time_point end_time;
  std::chrono::microseconds end_cpu{};
  long start_faults = 0;
  long end_faults = 0;
  histogram rtt;

  void start() noexcept {
    start_faults = minor_faults();
    start_cpu = cpu_time();
    start_time = clock::now();
  }
  void stop() noexcept {
    end_time = clock::now();
    end_cpu = cpu_time();
    end_faults = minor_faults();
  }
};

/// The one line a client prints. msgs_per_s counts echoed messages;
/// mb_per_s is their payload in one direction, in 10^6 bytes per second;
/// p50_us and p99_us are round-trip times (send to echo received);
/// cpu_us_per_msg and faults_per_msg are the client's user + system CPU
/// time and minor page faults over the measured interval, per message;
/// rss_kb is the client's peak resident memory (getrusage ru_maxrss);
/// elapsed_s is the measured interval (all connections open to last echo).
inline void print_result(const char* impl, const options& o, const measurement& m) {
  const double seconds = std::chrono::duration<double>(m.end_time - m.start_time).count();
  const double msgs = static_cast<double>(o.count) * static_cast<double>(o.conns);
  const double cpu_us = static_cast<double>((m.end_cpu - m.start_cpu).count());
  std::printf(
      "result impl=%s mode=%s size=%zu conns=%zu window=%zu count=%zu msgs_per_s=%.0f mb_per_s=%.2f "
      "p50_us=%.1f p99_us=%.1f cpu_us_per_msg=%.3f faults_per_msg=%.3f rss_kb=%ld elapsed_s=%.3f\n",
      impl, o.run_mode == mode::echo ? "echo" : "latency", o.size, o.conns, o.window, o.count,
      msgs / seconds, msgs * static_cast<double>(o.size) / seconds / 1e6, m.rtt.quantile_us(0.50),
      m.rtt.quantile_us(0.99), cpu_us / msgs, static_cast<double>(m.end_faults - m.start_faults) / msgs,
      max_rss_kb(), seconds);
  std::fflush(stdout);
}

/// Send times of the messages in flight on one connection, oldest first:
/// echoes come back in order, so a ring of `window` entries is enough.
class send_times {
 public:
  explicit send_times(std::size_t window) : ring_(window) {}
  void push(clock::time_point t) noexcept { ring_[head_++ % ring_.size()] = t; }
  clock::time_point pop() noexcept { return ring_[tail_++ % ring_.size()]; }

 private:
  std::vector<clock::time_point> ring_;
  std::size_t head_ = 0;
  std::size_t tail_ = 0;
};

}  // namespace bench
