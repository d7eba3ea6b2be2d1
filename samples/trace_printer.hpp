// A wscoro::tracer that prints, one line each, what a connection does, with
// the milliseconds since it was made: the README's tracing example, used by
// `wscat --trace`.
#pragma once

#include <wscoro/trace.hpp>

#include <chrono>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>

#include "print_frame.hpp"

namespace samples {

class trace_printer : public wscoro::tracer {
 public:
  explicit trace_printer(std::ostream& out) : out_(out) {}

  void connect_end(time_point at, std::error_code ec, duration took) override {
    line(at) << "connected in " << ms(took) << " ms" << failure(ec) << '\n';
  }
  void tunnel_end(time_point at, unsigned status, std::error_code ec, duration took) override {
    line(at) << "proxy answered " << status << " in " << ms(took) << " ms" << failure(ec) << '\n';
  }
  void tls_handshake_end(time_point at, std::error_code ec, duration took) override {
    line(at) << "TLS handshake in " << ms(took) << " ms" << failure(ec) << '\n';
  }
  void upgrade_end(time_point at, wscoro::upgrade_outcome outcome, std::string_view protocol, std::error_code ec,
                   duration took) override {
    const bool upgraded = outcome == wscoro::upgrade_outcome::upgraded;
    line(at) << (upgraded ? "upgraded" : "not upgraded") << " in " << ms(took) << " ms"
             << (protocol.empty() ? "" : ", protocol ") << protocol << failure(ec) << '\n';
  }
  void frame_sent(time_point at, const wscoro::frame& f) override { line(at) << "> " << describe(f) << '\n'; }
  void frame_received(time_point at, const wscoro::frame& f) override { line(at) << "< " << describe(f) << '\n'; }
  void disconnected(time_point at, std::error_code reason) override {
    line(at) << "disconnected" << failure(reason) << '\n';
  }

 private:
  static double ms(duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
  static std::string failure(std::error_code ec) { return ec ? ": " + ec.message() : ""; }
  std::ostream& line(time_point at) { return out_ << "[" << ms(at - origin_) << " ms] "; }

  std::ostream& out_;
  time_point origin_ = clock::now();
};

}  // namespace samples
