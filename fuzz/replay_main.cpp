// Replays the seed corpora and the crash regressions through the fuzz
// targets, built without libFuzzer: one doctest case per target.
//
// Arguments not starting with '-' are folders; a folder called after a
// target (corpus/fuzz_utf8, regressions/fuzz_utf8, ...) is replayed by that
// target's case. Without folders, WSCORO_FUZZ_DIR's corpus/ and
// regressions/ are used. Other arguments go to doctest.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_common.hpp"
#include "fuzz_targets.hpp"

namespace {

namespace fs = std::filesystem;

std::vector<fs::path>& folders() {
  static std::vector<fs::path> list;
  return list;
}

using target_fn = int (*)(const std::uint8_t*, std::size_t);

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The folder's own name, also when given with a trailing slash.
std::string folder_name(const fs::path& dir) {
  const fs::path p = dir.has_filename() ? dir : dir.parent_path();
  return p.filename().string();
}

void replay(const std::string& target, target_fn fn) {
  std::size_t replayed = 0;
  for (const fs::path& dir : folders()) {
    if (folder_name(dir) != target || !fs::is_directory(dir)) continue;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.is_regular_file() && entry.path().filename().string().front() != '.') files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
      const std::string bytes = read_file(file);
      int rc = -1;
      std::string failure;
      try {
        rc = fn(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
      } catch (const wscoro::fuzz::invariant_violation& e) {
        failure = e.what();
      } catch (const std::exception& e) {
        failure = std::string("exception: ") + e.what();
      }
      INFO(file.string());
      CHECK_MESSAGE(failure.empty(), failure);
      CHECK(rc == 0);
      ++replayed;
    }
  }
  MESSAGE(target << ": " << replayed << " files replayed");
  REQUIRE(replayed >= 1);
}

}  // namespace

TEST_CASE("fuzz replay: decoder_client corpus and regressions") {
  replay("fuzz_decoder_client", fuzz_decoder_client_one);
}

TEST_CASE("fuzz replay: decoder_server corpus and regressions") {
  replay("fuzz_decoder_server", fuzz_decoder_server_one);
}

#if WSCORO_HAVE_ZLIB
TEST_CASE("fuzz replay: decoder_deflate corpus and regressions") {
  replay("fuzz_decoder_deflate", fuzz_decoder_deflate_one);
}
#endif

TEST_CASE("fuzz replay: extensions corpus and regressions") {
  replay("fuzz_extensions", fuzz_extensions_one);
}

TEST_CASE("fuzz replay: response_parser corpus and regressions") {
  replay("fuzz_response_parser", fuzz_response_parser_one);
}

TEST_CASE("fuzz replay: handshake corpus and regressions") {
  replay("fuzz_handshake", fuzz_handshake_one);
}

TEST_CASE("fuzz replay: utf8 corpus and regressions") {
  replay("fuzz_utf8", fuzz_utf8_one);
}

TEST_CASE("fuzz replay: url corpus and regressions") {
  replay("fuzz_url", fuzz_url_one);
}

TEST_CASE("fuzz replay: session_core corpus and regressions") {
  replay("fuzz_session_core", fuzz_session_core_one);
}

int main(int argc, char** argv) {
  std::vector<const char*> doctest_args{argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] == '-')
      doctest_args.push_back(argv[i]);
    else
      folders().emplace_back(argv[i]);
  }
  if (folders().empty()) {
    const fs::path root = WSCORO_FUZZ_DIR;
    for (const char* kind : {"corpus", "regressions"}) {
      for (const char* target : {"fuzz_decoder_client", "fuzz_decoder_server", "fuzz_extensions",
                                 "fuzz_response_parser", "fuzz_handshake", "fuzz_utf8", "fuzz_url",
                                 "fuzz_session_core"})
        folders().push_back(root / kind / target);
#if WSCORO_HAVE_ZLIB
      folders().push_back(root / kind / "fuzz_decoder_deflate");
#endif
    }
  }
  doctest::Context context;
  context.applyCommandLine(static_cast<int>(doctest_args.size()), doctest_args.data());
  return context.run();
}
