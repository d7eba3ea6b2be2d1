// Test support: child processes for peer servers (POSIX only).
#include "child_process.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef WSCORO_SOURCE_DIR
#error "WSCORO_SOURCE_DIR must be defined (string literal: the repository root)"
#endif

extern char** environ;

namespace wscoro::test {
namespace {

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

void close_fd(int& fd) noexcept {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

// Moves fd to a number >= 3 (keeping O_CLOEXEC), so that dup2() onto the
// child's 0/1 never meets an fd that is already 0 or 1 (which would keep
// O_CLOEXEC set and close it at exec) when this process runs without stdin
// or stdout.
void move_above_stdio(int& fd) {
  if (fd > 2) return;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (moved < 0) throw_errno(errno, "fcntl(F_DUPFD_CLOEXEC)");
  ::close(fd);
  fd = moved;
}

// Both ends O_CLOEXEC: children started by other tests do not inherit them.
void make_pipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno(errno, "pipe2");
  try {
    move_above_stdio(fds[0]);
    move_above_stdio(fds[1]);
  } catch (...) {
    close_fd(fds[0]);
    close_fd(fds[1]);
    throw;
  }
}

std::string_view env_name(std::string_view entry) {
  return entry.substr(0, entry.find('='));
}

// The current environment with extra_env added (same name: extra wins).
std::vector<std::string> merged_environment(
    const std::vector<std::string>& extra_env) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view name = env_name(*e);
    bool overridden = false;
    for (const auto& extra : extra_env) {
      if (env_name(extra) == name) overridden = true;
    }
    if (!overridden) env.emplace_back(*e);
  }
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> result;
  result.reserve(strings.size() + 1);
  for (auto& s : strings) result.push_back(s.data());
  result.push_back(nullptr);
  return result;
}

// RAII for the posix_spawn attribute objects.
struct spawn_setup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;

  spawn_setup() {
    if (int err = ::posix_spawn_file_actions_init(&actions); err != 0)
      throw_errno(err, "posix_spawn_file_actions_init");
    if (int err = ::posix_spawnattr_init(&attr); err != 0) {
      ::posix_spawn_file_actions_destroy(&actions);
      throw_errno(err, "posix_spawnattr_init");
    }
  }
  ~spawn_setup() {
    ::posix_spawnattr_destroy(&attr);
    ::posix_spawn_file_actions_destroy(&actions);
  }
  spawn_setup(const spawn_setup&) = delete;
  spawn_setup& operator=(const spawn_setup&) = delete;
};

}  // namespace

child_process::child_process(std::vector<std::string> argv,
                             std::vector<std::string> extra_env)
    : argv_(std::move(argv)) {
  if (argv_.empty()) throw std::invalid_argument("child_process: empty argv");

  int in[2] = {-1, -1};   // child's stdin: child reads in[0], we write in[1]
  int out[2] = {-1, -1};  // child's stdout: child writes out[1], we read out[0]
  try {
    make_pipe(in);
    make_pipe(out);

    spawn_setup setup;
    // dup2 clears O_CLOEXEC on 0 and 1; the originals close at exec.
    if (int err = ::posix_spawn_file_actions_adddup2(&setup.actions, in[0], 0))
      throw_errno(err, "posix_spawn_file_actions_adddup2");
    if (int err = ::posix_spawn_file_actions_adddup2(&setup.actions, out[1], 1))
      throw_errno(err, "posix_spawn_file_actions_adddup2");

    // The test process may block or ignore signals (e.g. SIGPIPE for socket
    // code); the child must still react to SIGTERM/SIGINT normally.
    sigset_t empty_mask;
    sigemptyset(&empty_mask);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE})
      sigaddset(&defaults, sig);
    ::posix_spawnattr_setsigmask(&setup.attr, &empty_mask);
    ::posix_spawnattr_setsigdefault(&setup.attr, &defaults);
    ::posix_spawnattr_setflags(&setup.attr,
                               POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    std::vector<std::string> args = argv_;
    std::vector<std::string> env = merged_environment(extra_env);
    std::vector<char*> c_args = c_strings(args);
    std::vector<char*> c_env = c_strings(env);

    pid_t pid = -1;
    if (int err = ::posix_spawnp(&pid, c_args[0], &setup.actions, &setup.attr,
                                 c_args.data(), c_env.data());
        err != 0) {
      throw_errno(err, "cannot start '" + argv_[0] + "'");
    }
    pid_ = pid;
  } catch (...) {
    for (int* fd : {&in[0], &in[1], &out[0], &out[1]}) close_fd(*fd);
    throw;
  }

  close_fd(in[0]);
  close_fd(out[1]);
  stdin_fd_ = in[1];
  stdout_fd_ = out[0];
}

child_process::~child_process() {
  close_fd(stdin_fd_);  // peers stop by themselves on stdin EOF

  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    bool reaped = false;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!reaped) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_ || (r < 0 && errno == ECHILD)) {
        reaped = true;
      } else if (r < 0 && errno != EINTR) {
        break;  // unexpected: fall through to SIGKILL + blocking wait
      } else if (std::chrono::steady_clock::now() >= deadline) {
        break;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    if (!reaped) {
      std::cerr << "child_process: " << describe()
                << " did not exit within 2 s of SIGTERM; sending SIGKILL\n";
      ::kill(pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
    pid_ = -1;
  }

  close_fd(stdout_fd_);
}

std::string child_process::read_line(std::chrono::milliseconds timeout) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + timeout;

  for (;;) {
    if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    if (eof_ || stdout_fd_ < 0) {
      throw std::runtime_error(
          "child_process: " + describe() +
          " closed its stdout before a complete line" +
          (buffer_.empty() ? std::string()
                           : " (partial output: '" + buffer_ + "')"));
    }

    const auto left = std::max<std::chrono::milliseconds::rep>(
        0, std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now())
               .count());
    pollfd pfd{stdout_fd_, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(left));
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw_errno(errno, "child_process: poll");
    }
    if (ready == 0) {
      throw std::runtime_error(
          "child_process: timed out after " + std::to_string(timeout.count()) +
          " ms waiting for a line from " + describe() +
          (buffer_.empty() ? std::string()
                           : " (partial output: '" + buffer_ + "')"));
    }

    char chunk[4096];
    const ssize_t n = ::read(stdout_fd_, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      throw_errno(errno, "child_process: read");
    }
    if (n == 0) {
      eof_ = true;
    } else {
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }
}

int child_process::pid() const { return pid_; }

void child_process::write_stdin(const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(stdin_fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::system_error(errno, std::generic_category(), "write to " + describe());
    done += static_cast<std::size_t>(n);
  }
}

void child_process::close_stdin() { close_fd(stdin_fd_); }

int child_process::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return 128 + WTERMSIG(status);
    }
    if (r < 0 && errno != EINTR) throw std::system_error(errno, std::generic_category(), "waitpid " + describe());
    if (std::chrono::steady_clock::now() >= deadline)
      throw std::runtime_error(describe() + " still running after " + std::to_string(timeout.count()) + " ms");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string child_process::read_all(std::chrono::milliseconds timeout) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  try {
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      out += read_line(std::max(left, std::chrono::milliseconds(0)));
      out += '\n';
    }
  } catch (const std::runtime_error&) {
    if (!eof_) throw;
  }
  out += buffer_;
  buffer_.clear();
  return out;
}

std::string child_process::describe() const {
  std::string name = argv_.empty() ? std::string("?") : argv_[0];
  // For interpreters, the script says more than the interpreter does.
  for (std::size_t i = 1; i < argv_.size(); ++i) {
    if (!argv_[i].empty() && argv_[i][0] != '-') {
      name += " " + argv_[i];
      break;
    }
  }
  return "'" + name + "' (pid " + std::to_string(pid_) + ")";
}

namespace {

constexpr auto peer_start_timeout = std::chrono::seconds(10);

std::unique_ptr<peer_server> start_peer(std::vector<std::string> argv,
                                        std::vector<std::string> extra_env) {
  auto peer = std::unique_ptr<peer_server>(new peer_server{
      child_process(std::move(argv), std::move(extra_env)), 0});

  // On any failure below, unique_ptr's destructor stops the child.
  const auto deadline = std::chrono::steady_clock::now() + peer_start_timeout;
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      throw std::runtime_error("peer server did not print its PORT line");
    }
    const std::string line = peer->process.read_line(left);
    constexpr std::string_view prefix = "PORT ";
    if (line.compare(0, prefix.size(), prefix) != 0) {
      std::cerr << "peer server: ignoring unexpected stdout line: " << line
                << '\n';
      continue;
    }
    const char* first = line.data() + prefix.size();
    const char* last = line.data() + line.size();
    unsigned long port = 0;
    const auto [ptr, ec] = std::from_chars(first, last, port);
    if (ec != std::errc() || ptr != last || first == last || port > 65535) {
      throw std::runtime_error("peer server printed a bad PORT line: '" +
                               line + "'");
    }
    peer->port = static_cast<unsigned short>(port);
    return peer;
  }
}

std::unique_ptr<peer_server> start_python_script(const char* script, std::vector<std::string> args) {
  // -I: ignore PYTHON* variables and the user site, which may belong to
  // another Python installation on PATH.
  std::vector<std::string> argv{"/usr/bin/python3", "-I",
                                std::string(WSCORO_SOURCE_DIR "/tests/peers/") + script};
  argv.insert(argv.end(), args.begin(), args.end());
  return start_peer(std::move(argv), {});
}

}  // namespace

std::unique_ptr<peer_server> start_python_peer(std::vector<std::string> args) {
  return start_python_script("py_server.py", std::move(args));
}

std::unique_ptr<peer_server> start_connect_proxy(std::vector<std::string> args) {
  return start_python_script("connect_proxy.py", std::move(args));
}

std::unique_ptr<peer_server> start_node_peer(std::vector<std::string> args) {
  std::vector<std::string> argv{"node",
                                WSCORO_SOURCE_DIR "/tests/peers/node_server.js"};
  argv.insert(argv.end(), args.begin(), args.end());
  return start_peer(std::move(argv), {"NODE_PATH=/usr/share/nodejs"});
}

}  // namespace wscoro::test
