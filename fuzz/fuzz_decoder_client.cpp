// ws::decoder in the client role: unmasked frames from a server.
#include "decoder_harness.hpp"
#include "fuzz_targets.hpp"

int fuzz_decoder_client_one(const std::uint8_t* data, std::size_t size) {
  return wscoro::fuzz::run_decoder(wscoro::ws::role::client, data, size);
}

WSCORO_FUZZ_ENTRY(fuzz_decoder_client_one)
