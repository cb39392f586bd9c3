// The layering rule (DESIGN.md, STYLE.md 1): sim/ is the model and knows no screen and no
// socket. This test reads every file under sim/ and fails on any GUI, GL or socket include,
// naming the file and line.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
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
