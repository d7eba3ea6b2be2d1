// The fuzz targets' entry points under their own names, for the replay test
// (built for libFuzzer each one is also LLVMFuzzerTestOneInput).
#pragma once

#include <cstddef>
#include <cstdint>

int fuzz_decoder_client_one(const std::uint8_t* data, std::size_t size);
int fuzz_decoder_server_one(const std::uint8_t* data, std::size_t size);
int fuzz_decoder_deflate_one(const std::uint8_t* data, std::size_t size);
int fuzz_extensions_one(const std::uint8_t* data, std::size_t size);
int fuzz_response_parser_one(const std::uint8_t* data, std::size_t size);
int fuzz_handshake_one(const std::uint8_t* data, std::size_t size);
int fuzz_utf8_one(const std::uint8_t* data, std::size_t size);
int fuzz_url_one(const std::uint8_t* data, std::size_t size);
int fuzz_session_core_one(const std::uint8_t* data, std::size_t size);
