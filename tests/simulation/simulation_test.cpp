// Deterministic simulation of ws::session_core (see world.hpp): many seeds,
// each a random server, application, network and clock, with every
// invariant checked after every call into the core.
//
//   WSCORO_SIM_SEEDS=n   run seeds 1..n (default 1000)
//   WSCORO_SIM_STEPS=n   steps per seed before the wind-down (default 2000)
//   WSCORO_SIM_SEED=s    replay seed s alone
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <string>

#include "world.hpp"

namespace {

std::uint64_t from_env(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

}  // namespace

TEST_CASE("simulation: seeded servers, applications, networks and clocks around one session core") {
  const std::uint64_t steps_per_seed = from_env("WSCORO_SIM_STEPS", 2000);
  std::uint64_t first = 1;
  std::uint64_t last = from_env("WSCORO_SIM_SEEDS", 1000);
  const std::uint64_t one = from_env("WSCORO_SIM_SEED", 0);
  if (one) first = last = one;

  const auto started = std::chrono::steady_clock::now();
  std::uint64_t steps = 0;
  std::uint64_t calls = 0;
  std::uint64_t failures = 0;
  std::uint64_t sessions = 0;
  std::map<std::string, std::uint64_t> outcomes;
  for (std::uint64_t seed = first; seed <= last; ++seed) {
    wscoro::sim::seeded_choices choices(seed);
    std::optional<wscoro::sim::world> w;
    try {
      w.emplace(choices, one != 0);  // a replay shows the last actions
      for (std::uint64_t i = 0; i < steps_per_seed; ++i) w->step();
      w->wind_down();
    } catch (const wscoro::sim::invariant_broken& e) {
      ++failures;
      FAIL_CHECK("seed " << seed << ", step " << (w ? w->steps() : 0) << ": " << std::string(e.what())
                         << "\n  replay: WSCORO_SIM_SEED=" << seed << " build/tests/simulation_tests");
    }
    if (w) {
      steps += w->steps();
      calls += w->calls();
      sessions += w->sessions();
      for (const auto& [what, n] : w->outcomes()) outcomes[what] += n;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::string counted;
  for (const auto& [what, n] : outcomes) counted += "\n  " + std::to_string(n) + " " + what;
  std::string names;
  for (std::size_t i = 0; i < wscoro::sim::invariant_count; ++i)
    names += "\n  " + std::to_string(i + 1) + ". " + wscoro::sim::invariant_names[i];
  MESSAGE("simulation: " << (last - first + 1) << " seeds, " << steps << " steps (" << calls << " calls into the core), "
                         << wscoro::sim::invariant_count << " invariants checked after every step, " << failures
                         << " failing seeds, " << seconds << " s; " << sessions << " sessions:" << counted << "\ninvariants:" << names);
  CHECK(failures == 0);
}

TEST_CASE("simulation: a seed replays the same history") {
  const auto run = [](std::uint64_t seed) {
    wscoro::sim::seeded_choices choices(seed);
    wscoro::sim::world w(choices);
    for (int i = 0; i < 3000; ++i) w.step();
    w.wind_down();
    return std::make_pair(w.calls(), w.outcomes());
  };
  for (std::uint64_t seed : {7u, 123u, 999u}) CHECK(run(seed) == run(seed));
}
