// RFC 6455 section 5.3 masking, and the source of masking keys.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace wscoro::ws {

using mask_key = std::array<unsigned char, 4>;

/// XORs `data` with `key` in place. `offset` is the position of data[0]
/// within the frame payload, so a payload can be masked in pieces.
void apply_mask(char* data, std::size_t size, mask_key key, std::size_t offset = 0) noexcept;

/// An unpredictable masking key (RFC 6455 10.3 asks for a strong source of
/// entropy), from OpenSSL's CSPRNG. Keys are drawn a block at a time into a
/// pool per thread, not per connection, so that idle connections stay small.
mask_key next_mask_key();

}  // namespace wscoro::ws
