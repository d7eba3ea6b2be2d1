// Runs a sample's coroutine on an io_context and turns its result, or the
// exception that escaped it, into the process's exit status.
#pragma once

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <exception>
#include <iostream>
#include <string>
#include <system_error>

namespace samples {

template <class Main>
int run_main(Main&& main) {
  asio::io_context io;
  int status = 1;
  asio::co_spawn(io, main(io.get_executor()), [&](std::exception_ptr e, int result) {
    status = result;
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::system_error& err) {
      std::cerr << "error: " << err.code().message() << " [" << err.code().category().name() << ":"
                << err.code().value() << "]\n";
    } catch (const std::exception& err) {
      std::cerr << "error: " << err.what() << "\n";
    }
    status = 1;
  });
  io.run();
  return status;
}

/// main() of a sample whose one argument is a URL: runs `main(executor, url)`,
/// or prints "usage: USAGE" and returns 2 when it has not exactly one argument.
template <class Main>
int run_with_url(int argc, char** argv, const char* usage, Main&& main) {
  if (argc != 2) {
    std::cerr << "usage: " << usage << "\n";
    return 2;
  }
  const std::string url = argv[1];
  return run_main([&](asio::any_io_executor ex) { return main(ex, url); });
}

}  // namespace samples
