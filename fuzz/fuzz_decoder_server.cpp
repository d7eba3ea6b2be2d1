// ws::decoder in the server role: masked frames from a client.
#include "decoder_harness.hpp"
#include "fuzz_targets.hpp"

int fuzz_decoder_server_one(const std::uint8_t* data, std::size_t size) {
  return wscoro::fuzz::run_decoder(wscoro::ws::role::server, data, size);
}

WSCORO_FUZZ_ENTRY(fuzz_decoder_server_one)
