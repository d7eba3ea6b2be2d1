// ws::decoder in the client role with permessage-deflate negotiated: the
// inflate path reads compressed bytes from the network.
#include "decoder_harness.hpp"
#include "fuzz_targets.hpp"

int fuzz_decoder_deflate_one(const std::uint8_t* data, std::size_t size) {
  return wscoro::fuzz::run_deflate_decoder(wscoro::ws::role::client, data, size);
}

WSCORO_FUZZ_ENTRY(fuzz_decoder_deflate_one)
