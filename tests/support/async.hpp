// Runs a test's coroutine to completion on its own io_context, failing the
// test if it takes longer than a bound: no test can hang the suite.
#pragma once

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

namespace wscoro::test {

/// Runs `body(executor)` and returns when it has finished, rethrowing what
/// escaped it. Throws std::runtime_error when it runs past `limit`.
template <class Body>
void run_async(Body&& body, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  asio::io_context io;
  bool finished = false;
  std::exception_ptr failure;
  asio::co_spawn(io, body(io.get_executor()), [&](std::exception_ptr e) {
    finished = true;
    failure = e;
  });
  io.run_for(limit);
  if (!finished) throw std::runtime_error("test coroutine still running after " + std::to_string(limit.count()) + " ms");
  if (failure) std::rethrow_exception(failure);
}

/// A coroutine running beside the test body, typically a scripted peer.
struct background_task {
  bool done = false;
  std::exception_ptr failure;
};

/// Starts `work`; join() waits for it and rethrows its failure. Keep any
/// lambda that `work` came from alive until then.
inline std::shared_ptr<background_task> spawn(const asio::any_io_executor& ex, asio::awaitable<void> work) {
  auto task = std::make_shared<background_task>();
  asio::co_spawn(ex, std::move(work), [task](std::exception_ptr e) {
    task->done = true;
    task->failure = e;
  });
  return task;
}

inline asio::awaitable<void> join(std::shared_ptr<background_task> task) {
  asio::steady_timer tick(co_await asio::this_coro::executor);
  while (!task->done) {
    tick.expires_after(std::chrono::milliseconds(1));
    co_await tick.async_wait(asio::use_awaitable);
  }
  if (task->failure) std::rethrow_exception(task->failure);
}

/// Elapsed time since `start`, for bounds on timeouts.
inline std::chrono::milliseconds since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

}  // namespace wscoro::test
