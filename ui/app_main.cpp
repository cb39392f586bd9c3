// epollscope: the desktop GUI. Parses the command line, opens the window (or says clearly why
// it cannot), sets up ImGui on GLFW + OpenGL 3.3 core, and hands over to App.
//
//   epollscope [--scenario PATH | --trace PATH] [--strategy S] [--compare S2] [--seek N]
//              [--time-ms T] [--until KIND [--until-count N]] [--scale F] [--theme T]
//              [--screenshot PATH] [--fullscreen] [--export-frames DIR --from N --to M]
//              [--benchmark FRAMES] [--costs FILE] [--allow-big | --max-events N]
//
// Exit codes: 0 ok, 1 no display / cannot start, 2 bad usage.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <CLI/CLI.hpp>
#include <glad/gl.h>
#include <GLFW/glfw3.h>
#include <imgui.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>

#include "sim/scenario.h"
#include "ui/app.h"
#include "ui/view/palette.h"
#include "ui/view/playback.h"

namespace {

void on_glfw_error(int code, const char* what) {
  // Only kept for the message printed when the window cannot open.
  (void)code;
  std::fprintf(stderr, "epollscope: GLFW: %s\n", what);
}

int parse(int argc, char** argv, eps::app::Options& o) {
  CLI::App cli{"epollscope: watch how Linux wakes a process waiting for network data, step by step.\n"
               "With no file, opens the first lesson of scenarios/."};
  cli.set_version_flag("--version", std::string("epollscope ") + EPS_VERSION);
  auto* sc = cli.add_option("--scenario", o.scenario, "Lesson (scenario TOML file) to simulate and show");
  auto* tr = cli.add_option("--trace", o.trace, "Trace file to play back (epollscope-cli run --trace)");
  sc->excludes(tr);
  std::vector<std::string> names;
  for (eps::Strategy s : eps::all_strategies()) names.emplace_back(eps::strategy_name(s));
  cli.add_option("--strategy", o.strategy, "Server strategy instead of the lesson's own")->check(CLI::IsMember(names));
  cli.add_option("--compare", o.compare, "Second strategy, side by side in lockstep")->check(CLI::IsMember(names));
  cli.add_option("--seek", o.seek, "Start at event N (the state after N events)")->check(CLI::NonNegativeNumber);
  cli.add_option("--time-ms", o.time_ms, "Start at this simulated time (ms): all events up to it applied")
      ->check(CLI::NonNegativeNumber);
  cli.add_option("--until", o.until, "Then run until the next event of this kind (e.g. rdllist_add)")
      ->check([](const std::string& k) {
        if (eps::view::parse_ev(k)) return std::string();
        std::string all;
        for (int i = 0; i < int(eps::Ev::Count); i++) all += (i ? ", " : "") + std::string(eps::ev_name(eps::Ev(i)));
        return "unknown event kind: " + k + " (the kinds: " + all + ")";
      });
  cli.add_option("--until-count", o.until_count, "... the N-th such event")->check(CLI::PositiveNumber);
  cli.add_option("--scale", o.scale, "UI scale for presenting (1 = normal, 1.5 = projector)")
      ->check(CLI::Range(0.5, 4.0));
  cli.add_option("--theme", o.theme, "Palette")->check(CLI::IsMember({"dark", "light", "high-contrast"}));
  cli.add_option("--screenshot", o.screenshot, "Render the requested state, save it as PNG, exit");
  cli.add_option("--width", o.width, "Window width in pixels")->check(CLI::Range(320, 8192));
  cli.add_option("--height", o.height, "Window height in pixels")->check(CLI::Range(240, 8192));
  cli.add_flag("--fullscreen", o.fullscreen, "Start full screen (F11 toggles)");
  cli.add_option("--export-frames", o.export_dir, "Save one PNG per story step into DIR, then exit");
  cli.add_option("--from", o.export_from, "Export: first event (default: the --seek cursor)");
  cli.add_option("--to", o.export_to, "Export: last event (default: 200 steps on)");
  std::vector<std::string> stories;
  for (int i = 0; i < eps::view::kStoryCount; i++) stories.emplace_back(eps::view::story_name(eps::view::Story(i)));
  cli.add_option("--story", o.export_story, "Export: which steps")->check(CLI::IsMember(stories));
  cli.add_option("--costs", o.costs, "Replace the model's costs with a [costs] file (epollscope-cli calibrate)");
  cli.add_flag("--allow-big", o.allow_big,
               "Run a lesson even when its estimate is over the budget (2 GiB of trace, snapshots and lanes)");
  cli.add_option("--max-events", o.max_events, "Allow N events instead of the budget (~150 bytes an event here)")
      ->check(CLI::PositiveNumber);
  cli.add_option("--benchmark", o.benchmark_frames, "Measure CPU time per frame over N frames and seek time; print; exit");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    std::printf("%s", cli.help().c_str());
    return 0;
  } catch (const CLI::CallForVersion&) {
    std::printf("epollscope %s\n", EPS_VERSION);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "epollscope: %s\n\n%s", e.what(), cli.help().c_str());
    return 2;
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  eps::app::Options opt;
  if (int rc = parse(argc, argv, opt); rc >= 0) return rc;

  glfwSetErrorCallback(on_glfw_error);
  const char* display = std::getenv("DISPLAY");
  const char* wayland = std::getenv("WAYLAND_DISPLAY");
  if (!glfwInit()) {
    std::fprintf(stderr,
                 "epollscope: cannot open a window: no display (DISPLAY=%s%s).\n"
                 "  Run it in a desktop session, or headless with: xvfb-run -a epollscope ...\n"
                 "  The same lessons run in the terminal with: epollscope-cli run --scenario PATH\n",
                 display ? display : "unset", wayland ? "" : ", WAYLAND_DISPLAY unset");
    return 1;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
  const bool offscreen = !opt.screenshot.empty() || opt.benchmark_frames > 0 || !opt.export_dir.empty();
  GLFWwindow* win = glfwCreateWindow(opt.width, opt.height, "epollscope", nullptr, nullptr);
  if (!win) {
    std::fprintf(stderr,
                 "epollscope: cannot create an OpenGL 3.3 window on this display.\n"
                 "  The same lessons run in the terminal with: epollscope-cli run --scenario PATH\n");
    glfwTerminate();
    return 1;
  }
  glfwMakeContextCurrent(win);
  glfwSwapInterval(offscreen ? 0 : 1);
  if (!gladLoadGL(glfwGetProcAddress)) {
    std::fprintf(stderr, "epollscope: cannot load OpenGL 3.3 functions\n");
    glfwDestroyWindow(win);
    glfwTerminate();
    return 1;
  }

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;  // the layout is computed, not saved
  ImGui_ImplGlfw_InitForOpenGL(win, true);
  ImGui_ImplOpenGL3_Init("#version 330 core");

  int rc = 0;
  {
    eps::app::App app(win, opt);
    rc = app.run();
  }

  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(win);
  glfwTerminate();
  return rc;
}
