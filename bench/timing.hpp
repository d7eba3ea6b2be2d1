// Timing for the in-process microbenchmarks.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>

namespace bench {

/// Makes the compiler believe `value` (and all memory) is read here.
template <class T>
void keep(const T& value) {
  asm volatile("" : : "r"(&value) : "memory");
}

/// Best time per call of `body` in ns, over 5 rounds of >= 40 ms (after a warm-up round).
template <class Body>
double best_ns_per_call(Body&& body) {
  using clock_type = std::chrono::steady_clock;
  double best = 1e300;
  std::size_t calls = 1;
  for (int round = 0; round < 6; ++round) {
    for (;;) {
      const auto start = clock_type::now();
      for (std::size_t i = 0; i < calls; ++i) body();
      const double ns = std::chrono::duration<double, std::nano>(clock_type::now() - start).count();
      if (ns >= 40e6) {
        if (round > 0) best = std::min(best, ns / static_cast<double>(calls));  // round 0 warms up
        break;
      }
      calls = ns < 1e6 ? calls * 8 : static_cast<std::size_t>(static_cast<double>(calls) * 45e6 / ns) + 1;
    }
  }
  return best;
}

}  // namespace bench
