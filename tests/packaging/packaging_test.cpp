// wscoro as its users get it: as a meson subproject of their project, and
// installed with `meson install` and found with pkg-config. Each way builds
// tests/packaging/consumer/consumer.cpp, a small program that upgrades,
// has one message echoed by a Python websockets server, and closes.
//
// Both builds are slow (Asio), so each is made once per test run, in a work
// folder of the build tree that later runs reuse, and shared by the cases.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>

#include "child_process.hpp"

using namespace wscoro::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const fs::path source_dir = WSCORO_SOURCE_DIR;
const fs::path work_dir = WSCORO_PACKAGING_WORK_DIR;
const fs::path consumer_source = source_dir / "tests" / "packaging" / "consumer";

struct command_result {
  int status = -1;
  std::string output;  ///< stdout; stderr goes to the test log
};

command_result run(std::vector<std::string> argv, std::chrono::seconds timeout,
                   std::vector<std::string> env = {}) {
  MESSAGE("running: " << argv[0] << (argv.size() > 1 ? " " + argv[1] : std::string()) << " ...");
  child_process child(std::move(argv), std::move(env));
  command_result result;
  result.output = child.read_all(timeout);
  result.status = child.wait_exit(5s);
  return result;
}

std::vector<std::string> split_words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool contains(const std::vector<std::string>& words, const std::string& word) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

/// The consumer program run against a fresh Python websockets server: its
/// exit status and what it printed.
command_result echo_through(const fs::path& program, const std::string& message) {
  auto peer = start_python_peer();
  const std::string url = "ws://127.0.0.1:" + std::to_string(peer->port) + "/echo";
  return run({program.string(), url, message}, 20s);
}

/// One build step shared by several cases: done on first use, its outcome kept.
struct build_outcome {
  bool ok = false;
  std::string log;
};

// The consumer project as a user lays it out: its sources, and wscoro in
// subprojects/wscoro (here a link to this source tree, as a checkout would be).
const build_outcome& consumer_build() {
  static const build_outcome outcome = [] {
    const fs::path project = work_dir / "consumer";
    const fs::path build = work_dir / "consumer-build";
    fs::create_directories(project / "subprojects");
    fs::copy(consumer_source, project, fs::copy_options::recursive | fs::copy_options::update_existing);
    const fs::path checkout = project / "subprojects" / "wscoro";
    if (!fs::is_symlink(checkout)) fs::create_directory_symlink(source_dir, checkout);

    const std::vector<std::string> env{std::string("CXX=") + WSCORO_CXX};
    build_outcome out;
    if (!fs::exists(build / "build.ninja")) {
      // As a user who has wscoro installed too would: the subproject, not the system copy.
      auto setup = run({WSCORO_MESON, "setup", "--force-fallback-for=wscoro", build.string(), project.string()}, 120s, env);
      out.log += setup.output;
      if (setup.status != 0) return out;
    }
    auto compile = run({WSCORO_NINJA, "-C", build.string()}, 600s, env);
    out.log += compile.output;
    out.ok = compile.status == 0;
    return out;
  }();
  return outcome;
}

// wscoro built alone with both library kinds and installed under a prefix of
// the work folder (a real prefix: a --destdir copy's wscoro.pc would name
// the final prefix, not where the files are).
const fs::path install_prefix = work_dir / "prefix";
const fs::path installed_pc_dir = install_prefix / "lib" / "pkgconfig";

const build_outcome& installed_copy() {
  static const build_outcome outcome = [] {
    const fs::path build = work_dir / "install-build";
    build_outcome out;
    if (!fs::exists(build / "build.ninja")) {
      auto setup = run({WSCORO_MESON, "setup", build.string(), source_dir.string(), "--prefix",
                        install_prefix.string(), "--libdir", "lib", "-Ddefault_library=both", "-Dtests=false",
                        "-Dsamples=false"},
                       120s, {std::string("CXX=") + WSCORO_CXX});
      out.log += setup.output;
      if (setup.status != 0) return out;
    }
    fs::remove_all(install_prefix);
    auto install = run({WSCORO_MESON, "install", "-C", build.string()}, 600s);
    out.log += install.output;
    out.ok = install.status == 0;
    return out;
  }();
  return outcome;
}

std::vector<std::string> pkg_config(const std::vector<std::string>& args) {
  std::vector<std::string> argv{WSCORO_PKG_CONFIG};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("wscoro");
  auto result = run(argv, 10s, {"PKG_CONFIG_PATH=" + installed_pc_dir.string()});
  REQUIRE_MESSAGE(result.status == 0, "pkg-config " << args.front() << " failed");
  return split_words(result.output);
}

/// Compiles consumer.cpp against the installed copy with `compiler`, a
/// user's strict warnings as errors, and the given link flags.
command_result compile_against_installed(const std::string& compiler, const fs::path& program,
                                         const std::vector<std::string>& link_flags) {
  std::vector<std::string> argv{compiler,          "-std=c++20",       "-Wall",
                                "-Wextra",         "-Wpedantic",       "-Wshadow",
                                "-Wold-style-cast", "-Wnon-virtual-dtor", "-Werror",
                                (consumer_source / "consumer.cpp").string(), "-o", program.string()};
  const auto cflags = pkg_config({"--cflags"});
  argv.insert(argv.end(), cflags.begin(), cflags.end());
  argv.insert(argv.end(), link_flags.begin(), link_flags.end());
  return run(argv, 180s);
}

/// The shared libraries a program needs (DT_NEEDED), as readelf names them.
std::string needed_libraries(const fs::path& program) {
  auto result = run({"readelf", "-d", program.string()}, 10s);
  REQUIRE(result.status == 0);
  std::string needed;
  std::istringstream lines(result.output);
  for (std::string line; std::getline(lines, line);)
    if (line.find("(NEEDED)") != std::string::npos) needed += line.substr(line.find('[')) + "\n";
  return needed;
}

}  // namespace

TEST_CASE("subproject: a consumer project builds wscoro with dependency('wscoro') under its own -Werror warnings") {
  const auto& build = consumer_build();
  INFO(build.log);
  CHECK(build.ok);
  CHECK(fs::exists(work_dir / "consumer-build" / "consumer"));
}

TEST_CASE("subproject: wscoro builds only its library, no tests, samples, fuzzers or benchmarks") {
  REQUIRE_MESSAGE(consumer_build().ok, consumer_build().log);
  const std::string ninja = read_file(work_dir / "consumer-build" / "build.ninja");
  CHECK(ninja.find("subprojects/wscoro/libwscoro.a") != std::string::npos);
  for (const char* folder : {"tests/", "samples/", "fuzz/", "bench/"}) {
    INFO("a target under subprojects/wscoro/" << folder);
    CHECK(ninja.find(std::string("subprojects/wscoro/") + folder) == std::string::npos);
  }
  CHECK(ninja.find("doctest") == std::string::npos);
}

TEST_CASE("subproject: the consumer compiles with wscoro's ABI defines and none of wscoro's warning flags") {
  REQUIRE_MESSAGE(consumer_build().ok, consumer_build().log);
  const std::string commands = read_file(work_dir / "consumer-build" / "compile_commands.json");
  // The entry whose "file" is consumer.cpp: its "command" comes just before.
  const auto file_at = commands.find("consumer.cpp\",\n    \"output\"");
  REQUIRE(file_at != std::string::npos);
  const auto command_at = commands.rfind("\"command\":", file_at);
  REQUIRE(command_at != std::string::npos);
  const auto words = split_words(commands.substr(command_at, file_at - command_at));
  INFO(commands.substr(command_at, file_at - command_at));
  for (const char* define : {"-DASIO_NO_DEPRECATED", "-DASIO_DISABLE_STD_ALIGNED_ALLOC", "-DASIO_HAS_CO_AWAIT=1",
                             "-DASIO_HAS_STD_COROUTINE=1", "-pthread"})
    CHECK(contains(words, define));
  CHECK(contains(words, "-Wshadow"));  // the consumer's own flags are there
  for (const char* ours : {"-Wno-restrict", "-Wno-mismatched-new-delete", "-Wno-tsan",
                           "-DDOCTEST_CONFIG_USE_STD_HEADERS"})
    CHECK_FALSE(contains(words, ours));
}

TEST_CASE("subproject: the consumer's program upgrades and has a message echoed by a Python websockets server") {
  REQUIRE_MESSAGE(consumer_build().ok, consumer_build().log);
  auto result = echo_through(work_dir / "consumer-build" / "consumer", "from a subproject");
  CHECK(result.status == 0);
  CHECK(result.output == "echoed: from a subproject\n");
}

TEST_CASE("installed: meson install puts the headers, libwscoro.a, libwscoro.so and wscoro.pc under the prefix") {
  const auto& install = installed_copy();
  INFO(install.log);
  REQUIRE(install.ok);
  for (const char* header : {"wscoro.hpp", "connection.hpp", "websocket.hpp", "options.hpp", "error.hpp"})
    CHECK(fs::exists(install_prefix / "include" / "wscoro" / header));
  CHECK(fs::exists(install_prefix / "lib" / "libwscoro.a"));
  CHECK(fs::exists(install_prefix / "lib" / "libwscoro.so"));
  CHECK(fs::exists(installed_pc_dir / "wscoro.pc"));
  // wscoro's own headers only: nothing of the library's internals.
  CHECK_FALSE(fs::exists(install_prefix / "include" / "wscoro" / "session.hpp"));
}

TEST_CASE("installed: pkg-config gives the ABI defines, -pthread and OpenSSL, and never llhttp") {
  REQUIRE_MESSAGE(installed_copy().ok, installed_copy().log);
  const auto cflags = pkg_config({"--cflags"});
  for (const char* flag : {"-DASIO_NO_DEPRECATED", "-DASIO_DISABLE_STD_ALIGNED_ALLOC", "-DASIO_HAS_CO_AWAIT=1",
                           "-DASIO_HAS_STD_COROUTINE=1", "-pthread"})
    CHECK(contains(cflags, flag));
  CHECK(contains(cflags, "-I" + (install_prefix / "include").string()));
  const auto libs = pkg_config({"--libs"});
  for (const char* flag : {"-lwscoro", "-lssl", "-lcrypto", "-pthread"}) CHECK(contains(libs, flag));
  for (const auto& flag : pkg_config({"--static", "--libs"})) CHECK(flag.find("llhttp") == std::string::npos);
}

TEST_CASE("installed: a program built with `pkg-config --cflags --libs wscoro` against the shared library runs") {
  REQUIRE_MESSAGE(installed_copy().ok, installed_copy().log);
  const fs::path program = work_dir / "consumer-shared";
  auto link = pkg_config({"--libs"});
  link.push_back("-Wl,-rpath," + (install_prefix / "lib").string());
  auto compile = compile_against_installed(WSCORO_CXX, program, link);
  REQUIRE_MESSAGE(compile.status == 0, compile.output);
  CHECK(needed_libraries(program).find("[libwscoro.so.0]") != std::string::npos);
  auto result = echo_through(program, "from the shared library");
  CHECK(result.status == 0);
  CHECK(result.output == "echoed: from the shared library\n");
}

TEST_CASE("installed: a program built by the other compiler links libwscoro.a with `pkg-config --static` and runs") {
  REQUIRE_MESSAGE(installed_copy().ok, installed_copy().log);
  // GCC builds the library and clang the program, or the other way round:
  // the ABI defines in wscoro.pc must be all either needs.
  const std::string other_compiler = WSCORO_OTHER_CXX;
  REQUIRE_MESSAGE(!other_compiler.empty(), "no second C++ compiler: install Debian's clang (tools/lib.sh does)");
  const fs::path program = work_dir / "consumer-static";
  std::vector<std::string> link;
  for (auto& flag : pkg_config({"--static", "--libs"}))  // the archive, though libwscoro.so sits beside it
    link.push_back(flag == "-lwscoro" ? "-l:libwscoro.a" : flag);
  auto compile = compile_against_installed(other_compiler, program, link);
  REQUIRE_MESSAGE(compile.status == 0, compile.output);
  const std::string needed = needed_libraries(program);
  CHECK(needed.find("libwscoro") == std::string::npos);
  CHECK(needed.find("[libssl.so.3]") != std::string::npos);
  auto result = echo_through(program, "from the static library");
  CHECK(result.status == 0);
  CHECK(result.output == "echoed: from the static library\n");
}
