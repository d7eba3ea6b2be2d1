// ws::session_core driven by fuzzer-chosen event sequences: the world of
// the deterministic simulation (tests/simulation/world.hpp) with every
// decision taken from the input bytes instead of a seed, so the fuzzer
// steers the server (frames, fragments, floods, violations, closes,
// resets, stalls), the application (reads, sends, close), the network
// (late, failed or no write completions), reconnects and the clock. The
// simulation's invariants are checked after every call into the core.
#include <cstddef>
#include <cstdint>

#include "fuzz_common.hpp"
#include "fuzz_targets.hpp"
#include "world.hpp"

namespace {

// Each decision takes as many input bytes as its range needs; once the
// input is used up every decision is 0 (the world then winds down).
class input_choices final : public wscoro::sim::choices {
 public:
  explicit input_choices(wscoro::fuzz::input& in) noexcept : in_(in) {}

  std::uint32_t below(std::uint32_t n) override {
    std::uint32_t value = 0;
    for (std::uint32_t range = 1; range < n; range <<= 8) value = (value << 8) | in_.take_byte();
    return value % n;
  }
  bool used_up() const noexcept { return in_.rest().empty(); }

 private:
  wscoro::fuzz::input& in_;
};

}  // namespace

int fuzz_session_core_one(const std::uint8_t* data, std::size_t size) {
  // Enough steps for long histories, few enough for a fast iteration.
  constexpr int most_steps = 4000;
  wscoro::fuzz::input in(data, size);
  input_choices choices(in);
  try {
    wscoro::sim::world w(choices);
    for (int i = 0; i < most_steps && !choices.used_up(); ++i) w.step();
    w.wind_down();
  } catch (const wscoro::sim::invariant_broken& e) {
    wscoro::fuzz::invariant_failed(e.what(), __FILE__, __LINE__);
  }
  return 0;
}

WSCORO_FUZZ_ENTRY(fuzz_session_core_one)
