// Test payloads shared by unit and interop tests.
#pragma once

#include <cstddef>
#include <string>

namespace wscoro::test {

/// Bytes that do not compress (a linear congruential sequence's high bytes):
/// a deflate stream only grows them.
inline std::string noise(std::size_t size, unsigned seed = 7) {
  std::string s(size, '\0');
  unsigned x = seed;
  for (char& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

}  // namespace wscoro::test
