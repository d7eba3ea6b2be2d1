// Test support: child processes for peer servers (POSIX only).
//
// child_process starts a program with its stdin and stdout connected to pipes
// (stderr is inherited, so a peer's logs show up in the test output) and
// makes sure it is stopped and reaped when the object goes away.
//
// start_python_peer / start_node_peer start tests/peers/py_server.py or
// tests/peers/node_server.js and wait for the "PORT n" line they print once
// they listen. Closing their stdin (done by ~child_process) stops them.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace wscoro::test {

// A child process started for a test: stdin and stdout are pipes, stderr is
// inherited.
class child_process {
 public:
  // argv[0] is the program; it is looked up in PATH when it has no slash
  // (posix_spawnp). extra_env entries "NAME=value" are added to the current
  // environment, replacing a variable of the same name.
  // Throws std::system_error if the process cannot be started.
  explicit child_process(std::vector<std::string> argv,
                         std::vector<std::string> extra_env = {});

  // Closes stdin, sends SIGTERM, waits up to 2 s, then SIGKILL; always reaps.
  ~child_process();

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  // Reads one line (without the trailing "\n" or "\r\n") from the child's
  // stdout, waiting at most `timeout`. Throws std::runtime_error on timeout
  // or when stdout reaches EOF before a complete line.
  std::string read_line(std::chrono::milliseconds timeout);

  int pid() const;

  // Writes to the child's stdin (all of it, blocking).
  void write_stdin(const std::string& bytes);
  // Closes the child's stdin: it sees EOF.
  void close_stdin();
  // Waits at most `timeout` for the child to exit; returns its exit status
  // (128 + signal number when a signal killed it). Throws std::runtime_error
  // on timeout. Afterwards the destructor has nothing left to stop.
  int wait_exit(std::chrono::milliseconds timeout);
  // Everything the child writes to stdout until EOF, waiting at most `timeout`.
  std::string read_all(std::chrono::milliseconds timeout);

 private:
  std::string describe() const;  // "'argv0' (pid N)" for error messages

  std::vector<std::string> argv_;
  int pid_ = -1;
  int stdin_fd_ = -1;   // write end of the child's stdin
  int stdout_fd_ = -1;  // read end of the child's stdout
  std::string buffer_;  // bytes read from stdout but not yet returned
  bool eof_ = false;
};

// A peer server started for a test; it stops when this object is destroyed.
struct peer_server {
  child_process process;
  unsigned short port;  // 0 when listening on a unix socket (--unix)
};

// Starts /usr/bin/python3 <WSCORO_SOURCE_DIR>/tests/peers/py_server.py args...
// and waits (at most 10 s) for its "PORT n" line.
std::unique_ptr<peer_server> start_python_peer(
    std::vector<std::string> args = {});

// Starts node (looked up in PATH) <WSCORO_SOURCE_DIR>/tests/peers/node_server.js
// args... with NODE_PATH=/usr/share/nodejs and waits (at most 10 s) for its
// "PORT n" line.
std::unique_ptr<peer_server> start_node_peer(
    std::vector<std::string> args = {});

// Starts /usr/bin/python3 <WSCORO_SOURCE_DIR>/tests/peers/connect_proxy.py
// args... (an HTTP CONNECT proxy) and waits (at most 10 s) for its "PORT n"
// line. Each request head it reads then appears on its stdout as
// "REQUEST <line>", "HEADER <name>: <value>"..., "END".
std::unique_ptr<peer_server> start_connect_proxy(
    std::vector<std::string> args = {});

}  // namespace wscoro::test
