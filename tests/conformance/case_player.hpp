// Plays one conformance case: a scripted server on its own io_context and
// thread (the server_thread pattern of tests/samples/samples_test.cpp, made
// case-aware), with the wsecho sample as a child process against it.
//
// The server accepts one connection, checks the upgrade request, answers
// 101, then runs the case's script (writes, optionally in small chunks with
// pauses; waits for a number of client frames) while a reader collects every
// frame the client sends, decoded in the server role with wscoro's own
// decoder (so the client's masking is checked too). After the client's close
// frame the server closes TCP (after lingering if the case asks, to see that
// nothing more comes). Every wait is bounded by the case's deadline.
#pragma once

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "child_process.hpp"
#include "scripted_peer.hpp"
#include "ws/decoder.hpp"

namespace wscoro::conformance {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

/// One step of a server script.
struct step {
  enum class kind { write, await_frames, pause };
  kind what = kind::write;
  std::string bytes;                       ///< write: what to send
  std::size_t chunk = 0;                   ///< write: bytes per TCP write (0: one write)
  std::chrono::microseconds chunk_delay{0};  ///< write: pause between chunks
  std::size_t frames = 0;                  ///< await_frames: until the client sent this many in all
  milliseconds delay{0};                   ///< pause
};

inline step send(std::string bytes, std::size_t chunk = 0, std::chrono::microseconds chunk_delay = {}) {
  step s;
  s.what = step::kind::write;
  s.bytes = std::move(bytes);
  s.chunk = chunk;
  s.chunk_delay = chunk_delay;
  return s;
}
inline step await_frames(std::size_t n) {
  step s;
  s.what = step::kind::await_frames;
  s.frames = n;
  return s;
}
inline step pause(milliseconds d) {
  step s;
  s.what = step::kind::pause;
  s.delay = d;
  return s;
}

struct conformance_case {
  std::string id;
  std::string title;
  std::vector<step> script;
  /// Every frame the client must send, in order; its close frame last
  /// (judged by code only; code 1005 stands for an empty close frame).
  std::vector<frame> expected;
  /// The session ends cleanly (wsecho exits 0) or by a violation (exits 1).
  bool clean = true;
  /// The server gives up waiting at this point after the case starts.
  milliseconds deadline{5000};
  /// After the client's close frame: keep TCP open this long (or until the
  /// client closes it) and require that no more bytes come.
  milliseconds linger{0};
  /// The client must close TCP itself during the linger.
  bool expect_client_eof = false;
  /// wsecho offers permessage-deflate (--compress); the server must see the
  /// offer, accepts it without parameters, and inflates what the client sends.
  bool deflate = false;
};

struct case_result {
  std::vector<frame> received;
  bool got_close = false;
  std::error_code read_end;  ///< why reading stopped before a close frame
  bool client_eof = false;   ///< the client closed TCP while the server lingered
  milliseconds eof_after{0}; ///< ... this long after its close frame
  milliseconds close_after_last_write{-1};
  std::vector<std::string> problems;  ///< failures the server saw itself
  int exit_status = -1;               ///< -1: did not exit in time or did not start
  std::string exit_note;
  std::string wsecho_stderr;
  milliseconds elapsed{0};
};

std::string escape_bytes(std::string_view bytes, std::size_t max = 48);

class case_player {
 public:
  explicit case_player(const conformance_case& c)
      : case_(c),
        acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        deadline_(io_),
        progress_(io_),
        pause_timer_(io_),
        linger_timer_(io_),
        reader_(c.deflate ? std::make_unique<ws::message_inflater>(15, false) : nullptr),
        url_("ws://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + target()) {
    asio::co_spawn(io_, play(), [this](std::exception_ptr e) {
      if (e) problem("server script threw: " + describe(e));
    });
    thread_ = std::thread([this] { io_.run_for(case_.deadline + 2s); });
  }
  ~case_player() {
    if (thread_.joinable()) thread_.join();
  }
  case_player(const case_player&) = delete;
  case_player& operator=(const case_player&) = delete;

  std::string target() const { return "/conformance/" + case_.id; }
  const std::string& url() const { return url_; }

  /// Waits for the server thread and hands over what it saw.
  case_result finish() {
    thread_.join();
    if (!finished_) problem("the server script did not finish within deadline + 2 s");
    return std::move(result_);
  }

 private:
  static std::string describe(std::exception_ptr e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      return x.what();
    } catch (...) {
      return "unknown exception";
    }
  }
  void problem(std::string p) { result_.problems.push_back(std::move(p)); }
  void close_socket() {
    std::error_code ignored;
    if (socket_) socket_->close(ignored);
  }

  void on_deadline() {
    timed_out_ = true;
    problem("deadline of " + std::to_string(case_.deadline.count()) + " ms passed (" +
            std::to_string(result_.received.size()) + " client frames so far, script " +
            (writer_done_ ? "done" : "not done") + ")");
    std::error_code ignored;
    acceptor_.close(ignored);
    close_socket();
    progress_.cancel();
    pause_timer_.cancel();
    linger_timer_.cancel();
  }

  asio::awaitable<void> wait_progress() {
    progress_.expires_at(std::chrono::steady_clock::time_point::max());
    std::error_code ec;
    co_await progress_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  asio::awaitable<void> play() {
    deadline_.expires_after(case_.deadline);
    deadline_.async_wait([this](std::error_code ec) {
      if (!ec) on_deadline();
    });
    std::error_code ec;
    asio::ip::tcp::socket accepted(io_);
    co_await acceptor_.async_accept(accepted, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      problem("no connection from wsecho: " + ec.message());
      finished_ = true;
      co_return;
    }
    socket_.emplace(std::move(accepted));
    socket_->set_option(asio::ip::tcp::no_delay(true), ec);
    bool head_ok = true;
    std::string head;
    try {
      head = co_await test::read_request_head(*socket_);
    } catch (const std::system_error& e) {
      problem(std::string("no upgrade request: ") + e.what());
      head_ok = false;
    }
    if (head_ok) {
      const std::string request_line = head.substr(0, head.find("\r\n"));
      const std::string wanted = "GET " + target() + " HTTP/1.1";
      if (request_line != wanted) problem("request line '" + request_line + "', wanted '" + wanted + "'");
      std::string extensions;
      if (case_.deflate) {
        if (test::header_value(head, "sec-websocket-extensions").rfind("permessage-deflate", 0) != 0)
          problem("the upgrade request does not offer permessage-deflate");
        extensions = "Sec-WebSocket-Extensions: permessage-deflate\r\n";
      }
      const std::string answer = test::switching_protocols(head, extensions);
      co_await asio::async_write(*socket_, asio::buffer(answer), asio::redirect_error(asio::use_awaitable, ec));
      head_ok = !ec;
    }
    if (head_ok) {
      asio::co_spawn(io_, read_client(), [this](std::exception_ptr e) {
        if (e) problem("reader threw: " + describe(e));
        reader_done_ = true;
        progress_.cancel();
      });
      co_await run_script();
      writer_done_ = true;
      while (!reader_done_) co_await wait_progress();
    }
    close_socket();
    deadline_.cancel();
    finished_ = true;
  }

  asio::awaitable<void> run_script() {
    for (const step& s : case_.script) {
      if (reader_done_ || timed_out_) co_return;
      switch (s.what) {
        case step::kind::write: {
          const std::string_view all(s.bytes);
          const std::size_t chunk = s.chunk == 0 ? all.size() : s.chunk;
          for (std::size_t at = 0; at < all.size(); at += chunk) {
            if (reader_done_ || timed_out_) co_return;
            const std::string_view part = all.substr(at, chunk);
            auto buf = asio::buffer(part);
            std::error_code ec;
            co_await asio::async_write(*socket_, buf, asio::redirect_error(asio::use_awaitable, ec));
            if (ec) co_return;  // the client is gone: what it sent decides the case
            if (s.chunk_delay.count() > 0 && at + chunk < all.size()) {
              pause_timer_.expires_after(s.chunk_delay);
              co_await pause_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            }
          }
          last_write_ = std::chrono::steady_clock::now();
          break;
        }
        case step::kind::await_frames:
          while (result_.received.size() < s.frames && !reader_done_ && !timed_out_) co_await wait_progress();
          break;
        case step::kind::pause: {
          std::error_code ec;
          pause_timer_.expires_after(s.delay);
          co_await pause_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          break;
        }
      }
    }
  }

  asio::awaitable<void> read_client() {
    for (;;) {
      auto f = co_await reader_.next(*socket_);
      if (!f) break;
      const bool is_close = std::holds_alternative<close_frame>(*f);
      result_.received.push_back(std::move(*f));
      progress_.cancel();
      if (is_close) {
        result_.got_close = true;
        break;
      }
    }
    if (!result_.got_close) {
      result_.read_end = reader_.error();
      close_socket();
      co_return;
    }
    const auto close_at = std::chrono::steady_clock::now();
    if (last_write_) {
      result_.close_after_last_write = std::chrono::duration_cast<milliseconds>(close_at - *last_write_);
    }
    std::string trailing = reader_.leftover();
    if (case_.linger.count() > 0 && socket_->is_open()) {
      linger_timer_.expires_after(case_.linger);
      linger_timer_.async_wait([this](std::error_code ec) {
        std::error_code ignored;
        if (!ec && socket_) socket_->cancel(ignored);
      });
      std::vector<char> buf(4096);
      for (;;) {
        std::error_code ec;
        auto b = asio::buffer(buf);
        const std::size_t n = co_await socket_->async_read_some(b, asio::redirect_error(asio::use_awaitable, ec));
        trailing.append(buf.data(), n);
        if (ec) {
          if (ec == asio::error::eof) {
            result_.client_eof = true;
            result_.eof_after =
                std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - close_at);
          }
          break;
        }
      }
      linger_timer_.cancel();
    }
    if (!trailing.empty())
      problem("the client sent " + std::to_string(trailing.size()) +
              " bytes after its close frame: " + escape_bytes(trailing));
    close_socket();
  }

  const conformance_case& case_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer deadline_;
  asio::steady_timer progress_;
  asio::steady_timer pause_timer_;
  asio::steady_timer linger_timer_;
  std::optional<asio::ip::tcp::socket> socket_;
  test::client_frames reader_;
  case_result result_;
  std::string url_;
  std::optional<std::chrono::steady_clock::time_point> last_write_;
  bool reader_done_ = false;
  bool writer_done_ = false;
  bool timed_out_ = false;
  bool finished_ = false;
  std::thread thread_;
};

/// Sends the child's stderr to an anonymous file while it is spawned, so
/// that wsecho's diagnostics become evidence instead of noise.
class stderr_capture {
 public:
  stderr_capture() {
    char name[] = "/tmp/wscoro-conformance-XXXXXX";
    fd_ = ::mkostemp(name, O_CLOEXEC);
    if (fd_ >= 0) ::unlink(name);
  }
  ~stderr_capture() {
    if (fd_ >= 0) ::close(fd_);
  }
  stderr_capture(const stderr_capture&) = delete;
  stderr_capture& operator=(const stderr_capture&) = delete;

  template <class F>
  auto redirected(F&& f) {
    std::fflush(stderr);
    const int saved = fd_ >= 0 ? ::fcntl(2, F_DUPFD_CLOEXEC, 3) : -1;
    if (saved >= 0) ::dup2(fd_, 2);
    struct restore {
      int saved;
      ~restore() {
        if (saved >= 0) {
          ::dup2(saved, 2);
          ::close(saved);
        }
      }
    } r{saved};
    return f();
  }

  std::string contents() const {
    std::string out;
    if (fd_ < 0) return out;
    char buf[4096];
    ::lseek(fd_, 0, SEEK_SET);
    for (;;) {
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
};

/// Runs wsecho against the case's server and collects what happened.
inline case_result run_case(const conformance_case& c) {
  const auto start = std::chrono::steady_clock::now();
  case_result result;
  {
    case_player player(c);
    stderr_capture err;
    std::optional<test::child_process> wsecho;
    std::string start_error;
    try {
      std::vector<std::string> argv;
      argv.push_back(WSCORO_SAMPLE_WSECHO);
      if (c.deflate) argv.push_back("--compress");
      argv.push_back(player.url());
      err.redirected([&] {
        wsecho.emplace(std::move(argv));
        return 0;
      });
    } catch (const std::exception& e) {
      start_error = e.what();
    }
    int status = -1;
    std::string exit_note;
    if (wsecho) {
      try {
        status = wsecho->wait_exit(c.deadline + 3s);
      } catch (const std::exception& e) {
        exit_note = std::string("wsecho did not exit: ") + e.what();
      }
    } else {
      exit_note = "wsecho did not start: " + start_error;
    }
    result = player.finish();
    wsecho.reset();  // stops it if it is still running
    result.exit_status = status;
    result.exit_note = exit_note;
    result.wsecho_stderr = err.contents();
  }
  result.elapsed = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
  return result;
}

inline std::string escape_bytes(std::string_view bytes, std::size_t max) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  if (bytes.size() > max) out += "...";
  return out;
}

}  // namespace wscoro::conformance
