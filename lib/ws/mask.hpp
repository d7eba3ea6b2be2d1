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

/// Unpredictable masking keys (RFC 6455 10.3 asks for a strong source of
/// entropy), drawn from OpenSSL's CSPRNG a block at a time.
class mask_key_source {
 public:
  mask_key next();

 private:
  std::array<unsigned char, 256> pool_{};
  std::size_t used_ = sizeof(pool_);
};

}  // namespace wscoro::ws
