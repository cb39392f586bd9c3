// The desktop app: owns the runs being watched and the view state, turns input into commands,
// and each frame hands the panels a const world. The model is never written by a panel: a
// panel pushes a Command, and App::apply runs it between frames (STYLE.md, rule 2).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/world.h"
#include "ui/panel_common.h"
#include "ui/view/session.h"

struct GLFWwindow;

namespace eps::app {

// The command line (see app_main.cpp for the flags).
struct Options {
  std::string scenario, trace, strategy, compare, screenshot, theme = "dark";
  long long seek = -1;
  double time_ms = -1;                // or: start at this simulated time
  std::string until;                  // then run until the next event of this kind ("rdllist_add")
  int until_count = 1;                // ... the n-th one
  float scale = 1.0f;
  bool fullscreen = false;
  int width = 1600, height = 1000;
  int benchmark_frames = 0;           // > 0: measure frame and seek times, print, exit
  std::string export_dir;             // frame-sequence export: one PNG per step
  long long export_from = -1, export_to = -1;
  std::string export_story = "milestone";
  std::string costs;                  // a [costs] file (calibrate) for every lesson run here
  bool allow_big = false;             // run a lesson whatever its estimate (sim/budget.h)
  double max_events = 0;              // > 0: allow this many events instead of the 2 GiB budget
};

class App {
 public:
  App(GLFWwindow* window, const Options& opt);
  // Runs until the window closes (or the screenshot / benchmark / export is done).
  // Returns the process exit code.
  int run();

 private:
  void load_from_options();
  void open(const std::string& path, std::optional<Strategy> strategy);
  void open_lesson(const Scenario& sc);
  void install(const view::Loaded& l);  // make a loaded run the main pane
  void rebuild_compare();
  void apply(const Command& c);
  void handle_keys();
  void sync_panes();
  void draw_frame();
  void layout_and_draw();
  void rebuild_fonts();
  bool save_screenshot(const std::string& path);
  int run_benchmark();
  void start_export(const std::string& dir, std::size_t from, std::size_t to, view::Story story, int max_frames = 5000);
  bool export_step();  // saves one frame; false when done

  GLFWwindow* win_;
  Options opt_;
  ViewState vs_;
  Pane main_, other_;                 // other_: the compare side (run == null when off)
  std::vector<view::Lesson> lessons_;
  std::optional<Scenario> scenario_;  // the loaded lesson (for strategy switches)
  std::optional<Costs> costs_;        // from --costs: replaces every lesson's [costs]
  Budget budget_;                     // from --allow-big / --max-events: what a run may cost
  Commands cmds_;
  float built_font_scale_ = 0;
  view::Theme built_theme_ = view::Theme::Dark;
  Fonts fonts_;
  std::string pending_shot_;          // a screenshot to save after this frame
  bool fullscreen_ = false;
  bool animating_ = false;            // a step's move is still playing: keep drawing
  // Frame-sequence export in progress (from the command line or the controls).
  struct Export {
    bool active = false;
    std::string dir;
    std::size_t next = 0, end = 0;
    int count = 0, max_frames = 5000;
    view::Story story = view::Story::Milestone;
  } export_;
  int windowed_[4] = {100, 100, 1600, 1000};
};

}  // namespace eps::app
