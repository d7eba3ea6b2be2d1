#include "ws/mask.hpp"

#include <openssl/rand.h>

#include <cstring>
#include <stdexcept>

namespace wscoro::ws {

void apply_mask(char* data, std::size_t size, mask_key key, std::size_t offset) noexcept {
  unsigned char rotated[4];
  for (std::size_t k = 0; k < 4; ++k) rotated[k] = key[(offset + k) & 3];
  std::uint64_t wide;
  for (std::size_t k = 0; k < 8; ++k) reinterpret_cast<unsigned char*>(&wide)[k] = rotated[k & 3];
  std::size_t i = 0;
  // 8-byte words, unrolled; memcpy keeps any alignment legal.
  for (; i + 32 <= size; i += 32) {
    std::uint64_t w[4];
    std::memcpy(w, data + i, 32);
    w[0] ^= wide;
    w[1] ^= wide;
    w[2] ^= wide;
    w[3] ^= wide;
    std::memcpy(data + i, w, 32);
  }
  for (; i + 8 <= size; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, data + i, 8);
    w ^= wide;
    std::memcpy(data + i, &w, 8);
  }
  for (; i < size; ++i) data[i] = static_cast<char>(data[i] ^ rotated[i & 3]);
}

mask_key next_mask_key() {
  thread_local std::array<unsigned char, 256> pool;
  thread_local std::size_t used = pool.size();
  if (used + 4 > pool.size()) {
    if (RAND_bytes(pool.data(), static_cast<int>(pool.size())) != 1)
      throw std::runtime_error("wscoro: OpenSSL's RAND_bytes failed to give masking keys");
    used = 0;
  }
  mask_key key;
  std::memcpy(key.data(), pool.data() + used, 4);
  used += 4;
  return key;
}

}  // namespace wscoro::ws
