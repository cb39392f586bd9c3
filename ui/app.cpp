// App: the main loop (input -> commands -> apply -> sync the worlds -> draw), the loading of
// runs, and the screen layout. Kept apart from the panels, which only draw.
#include "ui/app.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include <glad/gl.h>
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>

#include "ui/view/format.h"
#include "ui/view/keys.h"

namespace eps::app {

App::App(GLFWwindow* window, const Options& opt) : win_(window), opt_(opt) {
  vs_.theme = view::parse_theme(opt.theme).value_or(view::Theme::Dark);
  vs_.scale = opt.scale;
  lessons_ = view::find_lessons(view::lessons_dir());
  if (opt.allow_big) budget_ = Budget::unlimited();
  else if (opt.max_events > 0) budget_ = Budget::events(opt.max_events);
  std::string costs_error;
  if (!opt.costs.empty()) {
    try {
      costs_ = load_costs(opt.costs);
      vs_.costs_label = "costs: " + std::filesystem::path(opt.costs).filename().string();
      vs_.costs_path = opt.costs;
    } catch (const ScenarioError& e) {  // shown in the window; the lessons run with their own
      costs_error = std::string("--costs: ") + e.what();
      std::fprintf(stderr, "epollscope: %s\n", costs_error.c_str());
    }
  }
  load_from_options();
  if (!costs_error.empty()) vs_.error = costs_error;
  if (opt.fullscreen) apply(Command{Cmd::ToggleFullscreen});
}

void App::load_from_options() {
  std::optional<Strategy> strat;
  if (!opt_.strategy.empty()) strat = parse_strategy(opt_.strategy);
  if (!opt_.trace.empty()) {
    open(opt_.trace, std::nullopt);
  } else if (!opt_.scenario.empty()) {
    open(view::resolve_lesson(opt_.scenario), strat);
  } else {
    const view::Lesson* first = nullptr;
    for (const auto& l : lessons_)
      if (l.error.empty()) { first = &l; break; }
    if (first) open(first->path, strat);
    else {
      Scenario sc = view::builtin_lesson();
      if (strat) sc.strategy = *strat;
      open_lesson(sc);
    }
  }
  if (!opt_.compare.empty()) apply(Command{Cmd::SetCompare, 0, 0, opt_.compare});
  if (opt_.seek >= 0 && main_.active()) view::seek(main_.pb, *main_.run->trace, std::size_t(opt_.seek));
  if (opt_.time_ms >= 0 && main_.active())
    view::seek(main_.pb, *main_.run->trace, view::cursor_at_time(*main_.run->trace, SimTime(opt_.time_ms * 1e6)));
  if (auto k = view::parse_ev(opt_.until); k && main_.active())
    for (int i = 0; i < opt_.until_count; i++)
      view::seek(main_.pb, *main_.run->trace, view::next_kind(*main_.run->trace, main_.pb.cursor, *k));
}

void App::open(const std::string& path, std::optional<Strategy> strategy) {
  view::Loaded l = view::looks_like_scenario(path) ? view::load_scenario_file(path, strategy, costs_, budget_)
                                                   : view::load_trace_file(path);
  if (!l.run) {
    vs_.error = l.error;  // shown in the window; the current run stays
    std::fprintf(stderr, "epollscope: %s\n", l.error.c_str());
    return;
  }
  vs_.error.clear();
  install(l);
  std::snprintf(vs_.path_buf, sizeof vs_.path_buf, "%s", path.c_str());
  rebuild_compare();
}

void App::open_lesson(const Scenario& lesson) {
  Scenario sc = lesson;
  if (costs_) sc.costs = *costs_;
  view::Loaded l = view::run_scenario(sc, std::nullopt, budget_);
  if (!l.run) {
    vs_.error = l.error;
    return;
  }
  install(l);
  rebuild_compare();
}

// A run was loaded: it becomes the main pane, and the views that depend on it start afresh.
void App::install(const view::Loaded& l) {
  main_ = Pane{};
  main_.run = l.run;
  main_.pb.speed = view::default_speed();
  scenario_ = l.run->scenario;
  vs_.axis_fitted = false;
  vs_.log_dirty = true;
}

// A new lesson in compare mode: run the other side again on it.
void App::rebuild_compare() {
  if (!other_.active()) return;
  const std::string s(strategy_name(other_.run->trace->strategy));
  other_ = Pane{};
  if (scenario_) apply(Command{Cmd::SetCompare, 0, 0, s});
}

void App::apply(const Command& c) {
  const bool have = main_.active();
  const Trace* tr = have ? main_.run->trace.get() : nullptr;
  auto& pb = main_.pb;
  switch (c.kind) {
    case Cmd::TogglePlay:
      if (have) {
        if (!pb.playing && pb.cursor >= tr->events.size()) view::seek(pb, *tr, 0);
        pb.playing = !pb.playing;
      }
      break;
    case Cmd::Play: pb.playing = have; break;
    case Cmd::Pause: pb.playing = false; break;
    case Cmd::Step: if (have) { pb.playing = false; view::step(pb, *tr, long(c.n)); } break;
    case Cmd::Seek: if (have) view::seek(pb, *tr, std::size_t(std::max(0LL, c.n))); break;
    case Cmd::StoryNext: if (have) { pb.playing = false; view::seek(pb, *tr, view::next_story(*tr, pb.cursor, vs_.story)); } break;
    case Cmd::StoryPrev: if (have) { pb.playing = false; view::seek(pb, *tr, view::prev_story(*tr, pb.cursor, vs_.story)); } break;
    case Cmd::SpeedUp: pb.speed = std::min(pb.speed + 1, int(view::speed_ladder().size()) - 1); pb.vtime = -1; break;
    case Cmd::SpeedDown: pb.speed = std::max(pb.speed - 1, 0); pb.vtime = -1; break;
    case Cmd::SetSpeed: pb.speed = int(std::clamp<long long>(c.n, 0, long(view::speed_ladder().size()) - 1)); pb.vtime = -1; break;
    case Cmd::RunUntilTime: if (have) view::seek(pb, *tr, view::cursor_at_time(*tr, SimTime(c.x))); break;
    case Cmd::RunUntilKind: if (have) view::seek(pb, *tr, view::next_kind(*tr, pb.cursor, Ev(c.n))); break;
    case Cmd::Open: open(c.s, std::nullopt); break;
    case Cmd::OpenLesson:
      if (c.n >= 0 && std::size_t(c.n) < lessons_.size()) open(lessons_[std::size_t(c.n)].path, std::nullopt);
      break;
    case Cmd::SetStrategy: {
      auto s = parse_strategy(c.s);
      if (!s) break;
      if (!scenario_) { vs_.error = "a trace file replays one recorded strategy; open a scenario to switch"; break; }
      const std::size_t keep = pb.cursor;
      const double t = have ? view::display_time(*tr, pb.cursor, 0) : 0;
      view::Loaded l = view::run_scenario(*scenario_, *s, budget_);
      if (!l.run) { vs_.error = l.error; break; }
      main_ = Pane{};
      main_.run = l.run;
      main_.pb.speed = pb.speed;
      // Keep the same moment of simulated time after the switch.
      view::seek(main_.pb, *l.run->trace, keep ? view::cursor_at_time(*l.run->trace, SimTime(t)) : 0);
      vs_.log_dirty = true;
      break;
    }
    case Cmd::SetCompare: {
      if (c.s.empty()) { other_ = Pane{}; break; }
      auto s = parse_strategy(c.s);
      if (!s) break;
      if (!scenario_) { vs_.error = "compare runs the lesson again with another strategy: open a scenario, not a trace"; break; }
      view::Loaded l = view::run_scenario(*scenario_, *s, budget_);
      if (!l.run) { vs_.error = l.error; break; }
      other_ = Pane{};
      other_.run = l.run;
      break;
    }
    case Cmd::Screenshot: pending_shot_ = c.s; break;
    case Cmd::ToggleFullscreen: {
      GLFWmonitor* mon = glfwGetPrimaryMonitor();
      if (!fullscreen_ && mon) {
        glfwGetWindowPos(win_, &windowed_[0], &windowed_[1]);
        glfwGetWindowSize(win_, &windowed_[2], &windowed_[3]);
        const GLFWvidmode* m = glfwGetVideoMode(mon);
        glfwSetWindowMonitor(win_, mon, 0, 0, m->width, m->height, m->refreshRate);
        fullscreen_ = true;
      } else if (fullscreen_) {
        glfwSetWindowMonitor(win_, nullptr, windowed_[0], windowed_[1], windowed_[2], windowed_[3], 0);
        fullscreen_ = false;
      }
      break;
    }
    case Cmd::ScaleUp: vs_.scale = std::min(4.0f, vs_.scale * 1.15f); break;
    case Cmd::ScaleDown: vs_.scale = std::max(0.5f, vs_.scale / 1.15f); break;
    case Cmd::SetTheme: vs_.theme = view::Theme(std::clamp<long long>(c.n, 0, view::kThemeCount - 1)); built_font_scale_ = 0; break;
    case Cmd::ExportFrames:
      if (have) start_export(c.s, pb.cursor, std::size_t(std::max(0LL, c.n)), vs_.story);
      break;
  }
}

void App::handle_keys() {
  ImGuiIO& io = ImGui::GetIO();
  if (io.WantTextInput) return;
  struct Binding { int glfw; view::Key key; };
  static constexpr Binding kKeys[] = {
      {GLFW_KEY_SPACE, view::Key::Space}, {GLFW_KEY_LEFT, view::Key::Left},
      {GLFW_KEY_RIGHT, view::Key::Right}, {GLFW_KEY_HOME, view::Key::Home},
      {GLFW_KEY_END, view::Key::End},     {GLFW_KEY_EQUAL, view::Key::Plus},
      {GLFW_KEY_KP_ADD, view::Key::Plus}, {GLFW_KEY_MINUS, view::Key::Minus},
      {GLFW_KEY_KP_SUBTRACT, view::Key::Minus}, {GLFW_KEY_F11, view::Key::F11},
      {GLFW_KEY_S, view::Key::S},         {GLFW_KEY_F1, view::Key::F1}};
  const std::size_t n = main_.active() ? main_.run->trace->events.size() : 0;
  for (const Binding& b : kKeys) {
    if (!ImGui::IsKeyPressed(b.glfw, true)) continue;
    const auto a = view::action_for(b.key, io.KeyCtrl, io.KeyShift);
    if (!a) continue;
    switch (*a) {
      case view::Action::TogglePlay: cmds_.push_back({Cmd::TogglePlay}); break;
      case view::Action::StepBack: cmds_.push_back({Cmd::Step, -1}); break;
      case view::Action::StepForward: cmds_.push_back({Cmd::Step, 1}); break;
      case view::Action::StoryBack: cmds_.push_back({Cmd::StoryPrev}); break;
      case view::Action::StoryForward: cmds_.push_back({Cmd::StoryNext}); break;
      case view::Action::ToStart: cmds_.push_back({Cmd::Seek, 0}); break;
      case view::Action::ToEnd: cmds_.push_back({Cmd::Seek, (long long)n}); break;
      case view::Action::Faster: cmds_.push_back({Cmd::SpeedUp}); break;
      case view::Action::Slower: cmds_.push_back({Cmd::SpeedDown}); break;
      case view::Action::ScaleUp: cmds_.push_back({Cmd::ScaleUp}); break;
      case view::Action::ScaleDown: cmds_.push_back({Cmd::ScaleDown}); break;
      case view::Action::FullScreen: cmds_.push_back({Cmd::ToggleFullscreen}); break;
      case view::Action::Screenshot:
        cmds_.push_back({Cmd::Screenshot, 0, 0, "epollscope-" + std::to_string(main_.pb.cursor) + ".png"});
        break;
      case view::Action::Help: vs_.show_help = !vs_.show_help; break;
    }
  }
}

namespace {

// Brings `p`'s worlds to its cursor: forward by one event is an apply; anything else a seek
// through the replay's snapshots. Also prepares the ep_insert pictures when they are current.
void sync_pane(Pane& p) {
  if (!p.active()) return;
  const Trace& tr = *p.run->trace;
  const std::size_t c = std::min(p.pb.cursor, tr.events.size());
  if (!p.world_valid) {
    p.world = p.run->replay->at(c);
    p.before = c ? p.run->replay->at(c - 1) : p.world;
  } else if (c == p.world_cursor + 1) {
    p.before = p.world;
    apply(p.world, tr, tr.events[c - 1]);
  } else if (c != p.world_cursor) {
    p.run->replay->seek(p.world, c);
    p.before = c ? p.run->replay->at(c - 1) : p.world;
  }
  p.world_valid = true;
  p.world_cursor = c;
  // The ep_insert in progress: the current event is an EpitemInsert or one of the RbRotate /
  // RbRecolor events right after it.
  std::size_t j = c;
  while (j > 0 && (tr.events[j - 1].kind == Ev::RbRotate || tr.events[j - 1].kind == Ev::RbRecolor)) j--;
  if (j > 0 && tr.events[j - 1].kind == Ev::EpitemInsert) {
    const std::size_t at = j - 1;
    if (p.story_at != at) {
      WorldState w = p.run->replay->at(at);
      const auto fd = std::int32_t(tr.events[at].a);
      const std::uint32_t eid = tr.events[at].obj;
      p.story = eid < w.eps.size() ? view::insert_story(w.eps[eid].rbr, RbKey{std::uint32_t(fd), fd})
                                   : std::vector<view::TreeShape>{};
      p.story_eid = eid;
      p.story_at = at;
    }
  } else {
    p.story_at = ~std::size_t(0);
    p.story.clear();
  }
}

}  // namespace

void App::sync_panes() {
  sync_pane(main_);
  if (other_.active() && main_.active()) {
    // Lockstep on one simulated-time axis: the other side shows the same moment.
    const double t = view::display_time(*main_.run->trace, main_.pb.cursor, main_.pb.frac);
    const Trace& ot = *other_.run->trace;
    std::size_t oc = main_.pb.cursor == 0 ? 0 : view::cursor_at_time(ot, SimTime(t));
    other_.pb.cursor = oc;
    other_.pb.frac = 0;
    sync_pane(other_);
  }
}

void App::draw_frame() {
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  ImGui::NewFrame();
  handle_keys();
  layout_and_draw();
  ImGui::Render();
  int fw = 0, fh = 0;
  glfwGetFramebufferSize(win_, &fw, &fh);
  glViewport(0, 0, fw, fh);
  const view::Rgba bg = view::palette(vs_.theme).bg;
  glClearColor(view::red_of(bg) / 255.f, view::green_of(bg) / 255.f, view::blue_of(bg) / 255.f, 1);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
}

int App::run() {
  const bool shot_mode = !opt_.screenshot.empty();
  if (opt_.benchmark_frames > 0) return run_benchmark();
  if (!opt_.export_dir.empty()) {
    if (!main_.active()) {
      std::fprintf(stderr, "epollscope: nothing to export: %s\n", vs_.error.c_str());
      return 1;
    }
    const auto story = [&] {
      for (int i = 0; i < view::kStoryCount; i++)
        if (view::story_name(view::Story(i)) == opt_.export_story) return view::Story(i);
      return view::Story::Milestone;
    }();
    const std::size_t from = opt_.export_from >= 0 ? std::size_t(opt_.export_from) : main_.pb.cursor;
    // Without --to: the first frame and 200 steps on, as --help says (not the whole run).
    const bool bounded = opt_.export_to >= 0;
    const std::size_t to = bounded ? std::size_t(opt_.export_to) : main_.run->trace->events.size();
    start_export(opt_.export_dir, from, to, story, bounded ? 5000 : 201);
  }
  int frame = 0;
  double last = glfwGetTime();
  while (!glfwWindowShouldClose(win_)) {
    const bool busy = main_.pb.playing || animating_ || export_.active || shot_mode || frame < 3;
    if (busy) glfwPollEvents();
    else glfwWaitEventsTimeout(0.25);
    const double now = glfwGetTime();
    const double dt = std::min(now - last, 0.25);
    last = now;
    if (built_font_scale_ != vs_.scale || built_theme_ != vs_.theme) rebuild_fonts();
    if (main_.active() && !shot_mode) view::advance(main_.pb, *main_.run->trace, dt);
    sync_panes();
    draw_frame();
    frame++;
    if (export_.active) {
      if (!export_step() && !opt_.export_dir.empty()) return 0;
    }
    if (!pending_shot_.empty()) {
      if (save_screenshot(pending_shot_)) vs_.status = "saved " + pending_shot_;
      else vs_.status = "could not save " + pending_shot_;
      pending_shot_.clear();
    }
    // A screenshot of the requested state: a few frames first so that every window has
    // settled its size (ImGui sizes windows from the previous frame's content).
    if (shot_mode && frame >= 4) {
      const bool ok = save_screenshot(opt_.screenshot);
      if (ok) std::printf("epollscope: saved %s\n", opt_.screenshot.c_str());
      return ok ? 0 : 1;
    }
    glfwSwapBuffers(win_);
    for (const Command& c : cmds_) apply(c);
    cmds_.clear();
  }
  return 0;
}

}  // namespace eps::app
