// What every panel gets: the const world to draw, the view-only state it may change, and the
// command list it pushes user actions onto. One panel per file: panel_<name>.cpp.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <imgui.h>

#include "sim/world.h"
#include "ui/view/palette.h"
#include "ui/view/playback.h"
#include "ui/view/session.h"
#include "ui/view/timeline.h"
#include "ui/view/tree_layout.h"

namespace eps::app {

// A user action. Panels push these; App::apply runs them after the frame.
enum class Cmd {
  TogglePlay, Play, Pause, Step, Seek, StoryNext, StoryPrev, SpeedUp, SpeedDown, SetSpeed,
  RunUntilTime, RunUntilKind, Open, OpenLesson, SetStrategy, SetCompare, Screenshot,
  ToggleFullscreen, ScaleUp, ScaleDown, SetTheme, ExportFrames
};
struct Command {
  Cmd kind;
  long long n = 0;      // Step: delta; Seek: cursor; SetSpeed: index; OpenLesson: index;
                        // RunUntilKind: Ev; SetTheme: Theme; ExportFrames: to
  double x = 0;         // RunUntilTime: ns
  std::string s;        // Open: path; SetStrategy / SetCompare: name ("" = off); Screenshot: path
  Command(Cmd k, long long n_ = 0, double x_ = 0, std::string s_ = {}) : kind(k), n(n_), x(x_), s(std::move(s_)) {}
};
using Commands = std::vector<Command>;

enum Panel { kMachine, kNarration, kProgram, kTimeline, kCounters, kLog, kPanelCount };
const char* panel_title(Panel p);

// View-only state: what the user set that is not the model. One struct, no statics.
struct ViewState {
  view::Theme theme = view::Theme::Dark;
  float scale = 1.0f;                 // UI scale (fonts, spacing): Ctrl +/-, --scale
  bool show[kPanelCount] = {true, true, true, true, true, true};
  view::Story story = view::Story::Milestone;  // what Shift+arrow jumps to
  int max_sockets = 8;                // socket boxes in the machine picture
  std::string costs_label;            // "costs: FILE" when --costs replaced the model's costs
  std::string costs_path;             // ... and its full path (tooltip)
  // Timeline
  view::TimeAxis axis;
  bool axis_fitted = false;
  bool follow = true;                 // keep the cursor in view
  bool show_task_lanes = true;
  // Event log
  bool log_kind[std::size_t(Ev::Count)];
  bool log_follow = true;
  std::vector<std::uint32_t> log_rows;  // filtered event indexes (rebuilt when the filter changes)
  bool log_dirty = true;
  const void* log_for = nullptr;      // the trace log_rows was built for
  // Controls
  char path_buf[512] = {};
  char until_buf[64] = {};
  int until_kind = int(Ev::RdllistAdd);
  std::string error;                  // shown in a banner until dismissed or replaced
  std::string status;                 // last action's result ("saved shot.png")
  bool show_lessons = false;
  bool show_help = false;
  int program_lit = -1;               // the lit line last scrolled to
  // The move into the current state plays for a moment after each step.
  std::size_t anim_cursor = 0;
  double anim_start = 0;
  ViewState() { for (bool& b : log_kind) b = true; }
};

// One watched run and its cursor. The compare side follows the main side by simulated time.
struct Pane {
  std::shared_ptr<view::Run> run;
  view::Playback pb;
  WorldState world;                   // the state at pb.cursor
  bool world_valid = false;
  std::size_t world_cursor = 0;
  WorldState before;                  // the state at pb.cursor - 1 (for tree animation)
  // ep_insert animation: the pictures of the insert whose events are current.
  std::size_t story_at = ~std::size_t(0);
  std::vector<view::TreeShape> story;
  std::uint32_t story_eid = kNone;    // the epoll instance whose tree the story animates
  bool active() const { return run && run->trace; }
};

// The fonts the panels use (scaled).
struct Fonts {
  ImFont* body = nullptr;
  ImFont* big = nullptr;
  ImFont* mono = nullptr;
  ImFont* small = nullptr;
};

struct PanelCtx {
  const Pane& pane;
  const view::Palette& pal;
  const Fonts& fonts;
  float scale;
  const Pane* other = nullptr;        // compare mode: the other side
  float anim = 1;                     // 0..1: how far the last step's move has played
};

// The panels (each in its own file).
void draw_controls(const PanelCtx& c, ViewState& vs, Commands& out,
                   const std::vector<view::Lesson>& lessons);
void draw_machine(const PanelCtx& c, ViewState& vs, Commands& out, ImVec2 size);
void draw_narration(const PanelCtx& c, ViewState& vs, Commands& out);
void draw_program(const PanelCtx& c, ViewState& vs, Commands& out);
void draw_timeline(const PanelCtx& c, ViewState& vs, Commands& out);
void draw_counters(const PanelCtx& c, ViewState& vs, Commands& out);
void draw_log(const PanelCtx& c, ViewState& vs, Commands& out);
void draw_compare_line(const PanelCtx& c, ViewState& vs, Commands& out);

// Helpers shared by the panels (panel_common.cpp).
inline ImU32 col(view::Rgba c) { return ImU32(c); }
void text_centered(ImDrawList* dl, ImFont* f, float size, ImVec2 center, ImU32 color, const char* text);
// A labelled box: filled, outlined, title at its top-left.
void box(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 fill, ImU32 outline, float rounding, float thick);
void arrow(ImDrawList* dl, ImVec2 from, ImVec2 to, ImU32 color, float thick, float head);

}  // namespace eps::app
