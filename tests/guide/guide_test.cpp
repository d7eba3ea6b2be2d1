// The README is a guide whose code is compiled: every ```cpp block is a
// region of a sample (between "[guide:NAME]" and "[guide:end]" lines),
// every ```meson block a region of the consumer project tests/packaging
// builds, and the option tables name every option field. The two guide
// samples also run against a Python websockets server.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "child_process.hpp"

using namespace wscoro::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const fs::path source_dir = WSCORO_SOURCE_DIR;

std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in, "cannot read " << path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string join(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  return text;
}

/// The code blocks of README.md fenced as ```language.
std::vector<std::string> readme_blocks(const std::string& language) {
  std::vector<std::string> blocks;
  std::vector<std::string> current;
  bool inside = false;
  for (const auto& line : read_lines(source_dir / "README.md")) {
    if (!inside && line == "```" + language) {
      inside = true;
      current.clear();
    } else if (inside && line == "```") {
      inside = false;
      blocks.push_back(join(current));
    } else if (inside) {
      current.push_back(line);
    }
  }
  REQUIRE_MESSAGE(!inside, "README.md: a ```" << language << " block is not closed");
  return blocks;
}

struct region {
  std::string where;  ///< file:line of its opening marker
  std::string text;
};

/// The guide regions of the files under `folder`: name -> region.
std::map<std::string, region> guide_regions(const fs::path& folder) {
  static const std::regex open_marker(R"(^\s*(//|#) \[guide:([a-z_]+)\]$)");
  static const std::regex end_marker(R"(^\s*(//|#) \[guide:end\]$)");
  std::map<std::string, region> regions;
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    if (!entry.is_regular_file()) continue;
    const auto lines = read_lines(entry.path());
    std::optional<std::string> open_name;
    std::vector<std::string> body;
    std::string where;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      std::smatch m;
      if (std::regex_match(lines[i], end_marker)) {
        REQUIRE_MESSAGE(open_name, entry.path() << ":" << i + 1 << ": [guide:end] without an opening marker");
        const bool fresh = regions.emplace(*open_name, region{where, join(body)}).second;
        REQUIRE_MESSAGE(fresh, where << ": a second region called " << *open_name);
        open_name.reset();
      } else if (std::regex_match(lines[i], m, open_marker)) {
        REQUIRE_MESSAGE(!open_name, entry.path() << ":" << i + 1 << ": region " << *open_name << " is not closed");
        open_name = m[2];
        body.clear();
        where = entry.path().string() + ":" + std::to_string(i + 1);
      } else if (open_name) {
        body.push_back(lines[i]);
      }
    }
    REQUIRE_MESSAGE(!open_name, entry.path() << ": region " << *open_name << " is not closed");
  }
  return regions;
}

std::map<std::string, region> sample_regions() { return guide_regions(source_dir / "samples"); }
std::map<std::string, region> consumer_regions() {
  return guide_regions(source_dir / "tests" / "packaging" / "consumer");
}

/// Checks that every block is the text of one of the regions; returns the
/// names of the regions shown.
std::set<std::string> match_blocks(const std::vector<std::string>& blocks, const std::map<std::string, region>& regions) {
  std::set<std::string> shown;
  for (const auto& block : blocks) {
    auto found = std::find_if(regions.begin(), regions.end(), [&](const auto& r) { return r.second.text == block; });
    CHECK_MESSAGE(found != regions.end(), "README.md shows code that no guide region holds:\n" << block);
    if (found != regions.end()) shown.insert(found->first);
  }
  return shown;
}

/// Every option field of include/wscoro/options.hpp, named as the README's
/// tables name them: a field whose type is another options struct of the
/// file stands for that struct's fields, as "retry.attempts".
std::vector<std::string> option_fields() {
  static const std::regex struct_open(R"(^struct (\w+) \{$)");
  static const std::regex field(R"(^  ([\w:]+(?:<.*>)?)\s+(\w+)\s*(?:=.*|\{.*\})?;(?:\s*//.*)?$)");
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> structs;  // name -> (type, field)
  std::string current;
  for (const auto& line : read_lines(source_dir / "include" / "wscoro" / "options.hpp")) {
    std::smatch m;
    if (std::regex_match(line, m, struct_open)) current = m[1];
    else if (line == "};") current.clear();
    else if (!current.empty() && std::regex_match(line, m, field)) structs[current].emplace_back(m[1], m[2]);
  }
  std::set<std::string> nested;
  for (const auto& [name, fields] : structs)
    for (const auto& [type, field_name] : fields)
      if (structs.count(type)) nested.insert(type);
  std::vector<std::string> names;
  for (const auto& [name, fields] : structs) {
    if (nested.count(name)) continue;
    for (const auto& [type, field_name] : fields) {
      if (!structs.count(type)) {
        names.push_back(field_name);
        continue;
      }
      for (const auto& inner : structs[type]) names.push_back(field_name + "." + inner.second);
    }
  }
  return names;
}

struct run_result {
  int status;
  std::vector<std::string> lines;
};

run_result run_against_echo_server(const char* program) {
  auto peer = start_python_peer();
  child_process child({program, "ws://127.0.0.1:" + std::to_string(peer->port) + "/echo"});
  const std::string output = child.read_all(20s);
  run_result result{child.wait_exit(5s), {}};
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) result.lines.push_back(line);
  return result;
}

}  // namespace

TEST_CASE("README: every ```cpp block is a guide region of a sample the build compiles") {
  const auto blocks = readme_blocks("cpp");
  CHECK(blocks.size() >= 10);
  match_blocks(blocks, sample_regions());
}

TEST_CASE("README: every ```meson block is a guide region of the consumer project tests/packaging builds") {
  const auto blocks = readme_blocks("meson");
  CHECK(!blocks.empty());
  match_blocks(blocks, consumer_regions());
}

TEST_CASE("README: every guide region of the samples and the consumer project is shown") {
  const auto check_shown = [](const std::set<std::string>& shown, const std::map<std::string, region>& regions) {
    for (const auto& entry : regions)
      CHECK_MESSAGE(shown.count(entry.first), entry.second.where << ": region " << entry.first << " is not in README.md");
  };
  check_shown(match_blocks(readme_blocks("cpp"), sample_regions()), sample_regions());
  check_shown(match_blocks(readme_blocks("meson"), consumer_regions()), consumer_regions());
}

TEST_CASE("README: the option tables name every field of include/wscoro/options.hpp, with a default") {
  const auto names = option_fields();
  CHECK(names.size() >= 26);  // what options.hpp held when this test was written
  const std::string readme = join(read_lines(source_dir / "README.md"));
  for (const auto& name : names) {
    // A table row: | `name` | default | meaning |
    const std::regex row("\\n\\| `" + name + "` \\| [^|\\n]*[^ |\\n][^|\\n]* \\| [^\\n]+ \\|\\n");
    CHECK_MESSAGE(std::regex_search(readme, row), "README.md has no option table row for " << name);
  }
}

TEST_CASE("guide sample: upgrades with a subprotocol, has its frames echoed, closes cleanly") {
  auto result = run_against_echo_server(WSCORO_SAMPLE_GUIDE);
  CHECK(result.status == 0);
  // The pong may come before or after the echoes: compare in order without it.
  const std::vector<std::string> pong{"pong: still there?"};
  CHECK(std::count(result.lines.begin(), result.lines.end(), pong[0]) == 1);
  std::erase(result.lines, pong[0]);
  const std::vector<std::string> expected{"subprotocol: chat", "text: Hello!", "binary: 2 bytes", "text: one",
                                          "text: two",         "close: 1000",  "ended: clean close"};
  CHECK(result.lines == expected);
}

TEST_CASE("lifecycle sample: a cancelled receive loses nothing, the echo arrives, the close is clean") {
  auto result = run_against_echo_server(WSCORO_SAMPLE_LIFECYCLE);
  CHECK(result.status == 0);
  const std::vector<std::string> expected{"nothing within 200 ms; the session goes on", "echoed: still here",
                                          "close: 1000"};
  CHECK(result.lines == expected);
}
