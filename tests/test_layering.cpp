// The layering rule: sim/ is the model and knows no screen and no socket. This test reads
// every file under sim/ and fails on any GUI, GL or socket include, naming the file and line.
// It also walks the whole source tree for references to files outside the repository, and
// checks that every citation of the kernel notes names a section they have.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#ifndef EPS_SOURCE_DIR
#define EPS_SOURCE_DIR "."
#endif

namespace {

namespace fs = std::filesystem;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

// Why an included header is not allowed in sim/, or "" if it is allowed.
std::string forbidden_reason(const std::string& header) {
  const std::string h = lower(header);
  auto starts = [&](const std::string& p) { return h.rfind(p, 0) == 0; };
  if (h.find("imgui") != std::string::npos || h.find("implot") != std::string::npos) return "GUI (ImGui)";
  if (h.find("glfw") != std::string::npos) return "GUI (GLFW)";
  if (starts("glad") || h.find("/glad") != std::string::npos) return "GL loader (glad)";
  if (starts("gl/") || starts("gles") || starts("opengl/")) return "OpenGL";
  if (h == "sys/socket.h" || starts("netinet/") || starts("arpa/") || h == "netdb.h" || h == "sys/un.h")
    return "socket API";
  if (h == "sys/epoll.h" || h == "poll.h" || h == "sys/poll.h" || h == "sys/select.h") return "real I/O multiplexing";
  return "";
}

struct Violation {
  std::string file;
  int line;
  std::string text, why;
};

// The forbidden #include lines of one file's text. Handles spaces after '#', both quote styles,
// and skips lines inside /* */ comments (an example in a comment is not an include).
std::vector<Violation> scan(const std::string& name, const std::string& text) {
  static const std::regex inc(R"(^\s*#\s*include\s*[<"]([^>"]+)[>"])");
  std::vector<Violation> out;
  std::istringstream in(text);
  std::string line;
  bool in_block = false;
  for (int n = 1; std::getline(in, line); n++) {
    std::string code = line;
    if (in_block) {
      auto end = code.find("*/");
      if (end == std::string::npos) continue;
      code = code.substr(end + 2);
      in_block = false;
    }
    std::smatch m;
    if (std::regex_search(code, m, inc)) {
      std::string why = forbidden_reason(m[1].str());
      if (!why.empty()) out.push_back({name, n, line, why});
    }
    auto open = code.rfind("/*");
    if (open != std::string::npos && code.find("*/", open) == std::string::npos) in_block = true;
  }
  return out;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

}  // namespace

TEST_CASE("the include scanner flags what it should, and only that", "[layering]") {
  const std::string text =
      "// sim/example.cpp\n"
      "#include \"sim/poll_table.h\"\n"         // 2: ours, fine
      "#include <sys/epoll.h>\n"                // 3: real epoll
      "#  include   <imgui.h>\n"                // 4: GUI, odd spacing
      "#include \"imgui/imgui_internal.h\"\n"   // 5: GUI
      "#include <GLFW/glfw3.h>\n"               // 6
      "#include <glad/gl.h>\n"                  // 7
      "#include <GL/gl.h>\n"                    // 8
      "#include <netinet/in.h>\n"               // 9
      "#include <arpa/inet.h>\n"                // 10
      "#include <poll.h>\n"                     // 11
      "#include <sys/select.h>\n"               // 12
      "#include <sys/socket.h>\n"               // 13
      "// #include <sys/socket.h>\n"            // 14: a comment
      "/* an example:\n"                        // 15
      "#include <sys/socket.h>\n"               // 16: inside a block comment
      "*/\n"                                    // 17
      "#include <vector>\n"                     // 18
      "#include <cstdint>\n"                    // 19
      "#include \"sim/epoll_model.h\"\n";       // 20: a name containing "epoll" is fine
  auto v = scan("x.cpp", text);
  std::vector<int> lines;
  for (const auto& x : v) lines.push_back(x.line);
  CHECK(lines == std::vector<int>{3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13});
  REQUIRE(!v.empty());
  CHECK(v[0].file == "x.cpp");
  CHECK(v[0].why == "real I/O multiplexing");
}

TEST_CASE("sim/ includes no GUI, GL or socket header", "[layering]") {
  const fs::path sim = fs::path(EPS_SOURCE_DIR) / "sim";
  REQUIRE(fs::is_directory(sim));
  std::vector<Violation> all;
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(sim)) {
    if (!entry.is_regular_file()) continue;
    files++;
    auto v = scan(fs::relative(entry.path(), EPS_SOURCE_DIR).string(), read_all(entry.path()));
    all.insert(all.end(), v.begin(), v.end());
  }
  // The model is a dozen or more files; far fewer means the scan looked in the wrong place.
  CHECK(files >= 10);
  std::ostringstream report;
  for (const auto& x : all) report << x.file << ":" << x.line << ": " << x.why << ": " << x.text << "\n";
  INFO("sim/ must not include these (move the code to live/ or ui/):\n" << report.str());
  CHECK(all.empty());
}

TEST_CASE("layering: in live/, only mux_epoll.cpp includes <sys/epoll.h>", "[layering]") {
  // Each mechanism sits behind the Mux interface (Redis's ae shape); epoll's one file is the
  // one a student reads to see every epoll call the live servers make.
  std::string offenders;
  for (const auto& entry : std::filesystem::directory_iterator("live")) {
    const std::string name = entry.path().filename().string();
    if (name == "mux_epoll.cpp") continue;
    std::ifstream f(entry.path());
    std::string line;
    while (std::getline(f, line))
      if (line.find("#include") != std::string::npos && line.find("sys/epoll.h") != std::string::npos)
        offenders += name + " ";
  }
  INFO("these include <sys/epoll.h>; they should go through live/mux.h: " << offenders);
  CHECK(offenders.empty());
  // and the one that must, does
  std::ifstream f("live/mux_epoll.cpp");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  CHECK(text.find("#include <sys/epoll.h>") != std::string::npos);
}

namespace {

// Every file of the source tree, as (path relative to the root, contents): what git tracks,
// plus anything else lying there, but not .git and not build trees (a directory with a
// CMakeCache.txt, or one the .gitignore names: build*, out).
std::vector<std::pair<std::string, std::string>> source_tree() {
  const fs::path root(EPS_SOURCE_DIR);
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    const fs::path& p = it->path();
    const std::string name = p.filename().string();
    if (it->is_directory()) {
      const bool top = p.parent_path() == root;
      if (name == ".git" || fs::exists(p / "CMakeCache.txt") ||
          (top && (name.rfind("build", 0) == 0 || name == "out")))
        it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file() || name == ".git") continue;
    out.emplace_back(fs::relative(p, root).generic_string(), read_all(p));
  }
  return out;
}

}  // namespace

TEST_CASE("layering: no file refers to notes outside the repository", "[layering]") {
  // Built in pieces so that this file does not contain what it looks for.
  const std::vector<std::string> needles = {std::string("KERNEL") + ".md", std::string("..") + "/shared"};
  const auto files = source_tree();
  // The tree is sim/, live/, ui/, tests/, docs/ and more: far fewer files means a wrong root.
  REQUIRE(files.size() >= 100);
  bool saw_notes = false;
  std::ostringstream found;
  for (const auto& [path, text] : files) {
    saw_notes = saw_notes || path == "docs/kernel.md";
    std::istringstream in(text);
    std::string line;
    for (int n = 1; std::getline(in, line); n++)
      for (const std::string& needle : needles)
        if (line.find(needle) != std::string::npos) found << path << ":" << n << ": " << needle << "\n";
  }
  CHECK(saw_notes);  // the walk reached docs/
  INFO("cite docs/kernel.md (the repository's own notes) instead:\n" << found.str());
  CHECK(found.str().empty());
}

TEST_CASE("layering: every citation of the kernel notes names one of their sections", "[layering]") {
  const std::string notes = read_all(fs::path(EPS_SOURCE_DIR) / "docs" / "kernel.md");
  REQUIRE(!notes.empty());
  std::set<int> sections;
  static const std::regex heading(R"(^## (\d+)\. )");
  std::istringstream in(notes);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, heading)) sections.insert(std::stoi(m[1].str()));
  }
  CHECK(sections == std::set<int>{1, 2, 3, 4, 5, 6, 7});
  CHECK(notes.find("Linux 6.1") != std::string::npos);  // the version the model follows

  // In pieces, so that this file's own text is not taken for a citation.
  const std::string cite = std::string("docs/kernel.md") + " §";
  int citations = 0;
  std::ostringstream dangling;
  for (const auto& [path, text] : source_tree()) {
    for (std::size_t at = text.find(cite); at != std::string::npos; at = text.find(cite, at + 1)) {
      citations++;
      std::size_t d = at + cite.size(), end = d;
      while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) end++;
      const int n = end > d ? std::stoi(text.substr(d, end - d)) : -1;
      if (!sections.count(n)) dangling << path << ": " << text.substr(at, end - at + 1) << "\n";
    }
  }
  // README, sim/, live/, ui/ and tests/ cite the notes; none would mean the pattern is wrong.
  CHECK(citations >= 8);
  INFO("citations of sections docs/kernel.md does not have:\n" << dangling.str());
  CHECK(dangling.str().empty());
}
