// Pictures out of the app: a screenshot of the window (for slides and the README), a frame
// sequence (one PNG per story step, for a video), and the frame-time benchmark.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <random>
#include <vector>

#include <glad/gl.h>
#include <GLFW/glfw3.h>
#include <imgui.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <stb_image_write.h>

#include "ui/app.h"

namespace eps::app {

// Reads the back buffer (the frame just drawn, before the swap) and writes it as PNG.
bool App::save_screenshot(const std::string& path) {
  int w = 0, h = 0;
  glfwGetFramebufferSize(win_, &w, &h);
  if (w <= 0 || h <= 0) return false;
  std::vector<unsigned char> px(std::size_t(w) * std::size_t(h) * 3);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(GL_BACK);
  glReadPixels(0, 0, w, h, GL_RGB, GL_UNSIGNED_BYTE, px.data());
  // OpenGL's rows go bottom-up; PNG's top-down.
  std::vector<unsigned char> flipped(px.size());
  const std::size_t row = std::size_t(w) * 3;
  for (int y = 0; y < h; y++)
    std::copy_n(px.begin() + std::ptrdiff_t(std::size_t(h - 1 - y) * row), row,
                flipped.begin() + std::ptrdiff_t(std::size_t(y) * row));
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (!stbi_write_png(path.c_str(), w, h, 3, flipped.data(), int(row))) {
    std::fprintf(stderr, "epollscope: cannot write %s\n", path.c_str());
    return false;
  }
  return true;
}

void App::start_export(const std::string& dir, std::size_t from, std::size_t to, view::Story story, int max_frames) {
  if (!main_.active()) return;
  const std::size_t n = main_.run->trace->events.size();
  export_ = Export{};
  export_.active = true;
  export_.dir = dir.empty() ? "frames" : dir;
  export_.next = std::min(from, n);
  export_.end = std::min(std::max(to, from), n);
  export_.story = story;
  export_.max_frames = max_frames;
  main_.pb.playing = false;
  view::seek(main_.pb, *main_.run->trace, export_.next);
}

// Called after a frame is drawn at the export cursor: saves it, moves to the next story
// step. Returns false once the range is done (or max_frames were written).
bool App::export_step() {
  char name[64];
  std::snprintf(name, sizeof name, "/frame_%05d.png", export_.count);
  if (!save_screenshot(export_.dir + name)) {
    vs_.error = "cannot write frames into " + export_.dir;
    export_.active = false;
    return false;
  }
  export_.count++;
  const Trace& tr = *main_.run->trace;
  const std::size_t next = view::next_story(tr, main_.pb.cursor, export_.story);
  if (next == main_.pb.cursor || next > export_.end || export_.count >= export_.max_frames) {
    vs_.status = "exported " + std::to_string(export_.count) + " frames to " + export_.dir;
    std::printf("epollscope: %s\n", vs_.status.c_str());
    export_.active = false;
    return false;
  }
  view::seek(main_.pb, tr, next);
  return true;
}

namespace {
double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}
double wall_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

// The frame-time benchmark: N frames while playing through the run (so worlds change every
// frame), CPU time of this thread per frame (building the UI + ImGui::Render + issuing GL),
// and the time of random seeks. Prints one line per figure and a JSON line.
int App::run_benchmark() {
  if (!main_.active()) {
    std::fprintf(stderr, "epollscope: benchmark: %s\n", vs_.error.c_str());
    return 1;
  }
  const Trace& tr = *main_.run->trace;
  const std::size_t n = tr.events.size();
  if (built_font_scale_ != vs_.scale) rebuild_fonts();
  for (int i = 0; i < 3; i++) { sync_panes(); draw_frame(); glfwSwapBuffers(win_); glfwPollEvents(); }
  std::vector<double> cpu, wall;
  const int frames = opt_.benchmark_frames;
  for (int i = 0; i < frames; i++) {
    // Jump around the run like a user scrubbing, plus single steps.
    const std::size_t target = (i % 2) ? main_.pb.cursor + 1 : std::size_t(double(n) * (double(i) / frames));
    view::seek(main_.pb, tr, target);
    const double c0 = thread_cpu_ms(), w0 = wall_ms();
    glfwPollEvents();
    sync_panes();
    draw_frame();
    glFinish();
    cpu.push_back(thread_cpu_ms() - c0);
    wall.push_back(wall_ms() - w0);
    glfwSwapBuffers(win_);
  }
  std::vector<double> seeks;
  std::mt19937_64 rng(42);
  WorldState w = main_.run->replay->at(0);
  for (int i = 0; i < 50; i++) {
    const std::size_t to = std::size_t(rng() % (n + 1));
    const double w0 = wall_ms();
    main_.run->replay->seek(w, to);
    seeks.push_back(wall_ms() - w0);
  }
  auto pct = [](std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[std::min(v.size() - 1, std::size_t(p / 100.0 * double(v.size())))];
  };
  const std::size_t nsock = main_.world.sockets.size();
  std::printf("benchmark: %zu events, %zu sockets, %d frames at %dx%d\n", n, nsock, frames, opt_.width, opt_.height);
  std::printf("  frame CPU time (this thread): median %.2f ms, p95 %.2f ms, max %.2f ms\n", pct(cpu, 50), pct(cpu, 95), pct(cpu, 100));
  std::printf("  frame wall time incl. glFinish (Mesa renders on the CPU): median %.2f ms, p95 %.2f ms\n", pct(wall, 50), pct(wall, 95));
  std::printf("  random seek: median %.2f ms, max %.2f ms (snapshot every %zu events)\n", pct(seeks, 50), pct(seeks, 100),
              main_.run->replay->snapshot_every());
  std::printf("{\"events\": %zu, \"sockets\": %zu, \"frame_cpu_ms_p50\": %.3f, \"frame_cpu_ms_p95\": %.3f, "
              "\"frame_wall_ms_p50\": %.3f, \"seek_ms_p50\": %.3f, \"seek_ms_max\": %.3f}\n",
              n, nsock, pct(cpu, 50), pct(cpu, 95), pct(wall, 50), pct(seeks, 50), pct(seeks, 100));
  return 0;
}

}  // namespace eps::app
