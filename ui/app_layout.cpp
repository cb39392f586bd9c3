// The screen: fonts and style for the chosen scale and palette, and the layout of the panels
// (normal: machine and timeline on the left, narration, program, counters and log on the
// right; compare: the difference line, two machines side by side, their counters).
#include <algorithm>
#include <cmath>
#include <filesystem>

#include <GLFW/glfw3.h>
#include <backends/imgui_impl_opengl3.h>

#include "ui/app.h"

namespace eps::app {

constexpr double kAnimSeconds = 0.45;  // how long a step's move plays

const char* panel_title(Panel p) {
  switch (p) {
    case kMachine: return "The machine";
    case kNarration: return "What happened";
    case kProgram: return "The program";
    case kTimeline: return "Timeline";
    case kCounters: return "Counters";
    case kLog: return "Event log";
    case kPanelCount: break;
  }
  return "?";
}

void App::rebuild_fonts() {
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  static const ImWchar ranges[] = {0x0020, 0x00FF, 0x2010, 0x2027, 0x2190, 0x21FF,
                                   0x2200, 0x22FF, 0x25A0, 0x25FF, 0};
  const float px = 19.0f * vs_.scale;
  auto load = [&](const char* file, float size) -> ImFont* {
    const std::string path = std::string("/usr/share/fonts/truetype/dejavu/") + file;
    if (std::filesystem::exists(path)) {
      ImFontConfig cfg;
      cfg.OversampleH = 2;
      return io.Fonts->AddFontFromFileTTF(path.c_str(), size, &cfg, ranges);
    }
    ImFontConfig cfg;  // fallback: ImGui's own font, scaled
    cfg.SizePixels = size;
    return io.Fonts->AddFontDefault(&cfg);
  };
  fonts_.body = load("DejaVuSans.ttf", px);
  fonts_.big = load("DejaVuSans-Bold.ttf", px * 1.3f);
  fonts_.mono = load("DejaVuSansMono.ttf", px);
  fonts_.small = load("DejaVuSans.ttf", px * 0.82f);
  io.FontDefault = fonts_.body;
  ImGui_ImplOpenGL3_DestroyFontsTexture();
  ImGui_ImplOpenGL3_CreateFontsTexture();

  ImGuiStyle style;
  switch (vs_.theme) {
    case view::Theme::Light: ImGui::StyleColorsLight(&style); break;
    default: ImGui::StyleColorsDark(&style); break;
  }
  const view::Palette& pal = view::palette(vs_.theme);
  auto v4 = [](view::Rgba c) { return ImGui::ColorConvertU32ToFloat4(ImU32(c)); };
  style.Colors[ImGuiCol_WindowBg] = v4(pal.panel);
  style.Colors[ImGuiCol_ChildBg] = v4(pal.panel);
  style.Colors[ImGuiCol_Text] = v4(pal.text);
  style.Colors[ImGuiCol_TextDisabled] = v4(pal.dim);
  style.Colors[ImGuiCol_Border] = v4(pal.frame);
  if (vs_.theme == view::Theme::HighContrast) {
    style.Colors[ImGuiCol_TitleBg] = style.Colors[ImGuiCol_TitleBgActive] = v4(view::rgb(40, 40, 40));
    style.Colors[ImGuiCol_FrameBg] = v4(view::rgb(30, 30, 30));
    style.Colors[ImGuiCol_Button] = v4(view::rgb(0, 70, 140));
    style.WindowBorderSize = 2;
    style.FrameBorderSize = 1;
  }
  style.WindowRounding = 3;
  style.FrameRounding = 3;
  style.ScaleAllSizes(vs_.scale);
  ImGui::GetStyle() = style;
  built_font_scale_ = vs_.scale;
  built_theme_ = vs_.theme;
}

void App::layout_and_draw() {
  ImGuiIO& io = ImGui::GetIO();
  const float W = io.DisplaySize.x, H = io.DisplaySize.y;
  const view::Palette& pal = view::palette(vs_.theme);
  const ImGuiWindowFlags fixed = ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize |
                                 ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoSavedSettings;
  PanelCtx ctx{main_, pal, fonts_, vs_.scale, other_.active() ? &other_ : nullptr};
  // After each step the move into the new state plays for kAnimSeconds (not in pictures
  // made from the command line: they show the state itself).
  if (main_.pb.cursor != vs_.anim_cursor) {
    vs_.anim_cursor = main_.pb.cursor;
    vs_.anim_start = glfwGetTime();
  }
  const bool still = !opt_.screenshot.empty() || !opt_.export_dir.empty() || opt_.benchmark_frames > 0;
  ctx.anim = still ? 1.0f : float(std::clamp((glfwGetTime() - vs_.anim_start) / kAnimSeconds, 0.0, 1.0));
  animating_ = ctx.anim < 1.0f;

  // Controls across the top.
  const float bar_h = ImGui::GetFrameHeightWithSpacing() * 2 + ImGui::GetStyle().WindowPadding.y * 2 + 2;
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(ImVec2(W, bar_h));
  ImGui::Begin("##controls", nullptr, fixed | ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoScrollbar);
  draw_controls(ctx, vs_, cmds_, lessons_);
  ImGui::End();
  float top = bar_h;

  // An error stays on screen until dismissed: the app keeps running with what it had.
  if (!vs_.error.empty()) {
    // Wrapped, so that the end of a long one (what to do about it) stays on screen.
    const ImGuiStyle& st = ImGui::GetStyle();
    const std::string text = "Error: " + vs_.error;
    const float button_w = ImGui::CalcTextSize("Dismiss").x + st.FramePadding.x * 2 + st.ItemSpacing.x;
    const float wrap_w = std::max(100.0f, W - button_w - st.WindowPadding.x * 2);
    const float text_h = ImGui::CalcTextSize(text.c_str(), nullptr, false, wrap_w).y;
    const float eh = std::max(ImGui::GetFrameHeight(), text_h) + st.ItemSpacing.y + st.WindowPadding.y * 2;
    ImGui::SetNextWindowPos(ImVec2(0, top));
    ImGui::SetNextWindowSize(ImVec2(W, eh));
    ImGui::PushStyleColor(ImGuiCol_WindowBg, ImGui::ColorConvertU32ToFloat4(ImU32(view::rgb(150, 20, 20))));
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1, 1, 1, 1));
    ImGui::Begin("##error", nullptr, fixed | ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoScrollbar);
    if (ImGui::Button("Dismiss")) vs_.error.clear();
    ImGui::SameLine();
    ImGui::PushTextWrapPos(0.0f);  // wrap at the window's right edge
    ImGui::TextUnformatted(text.c_str());
    ImGui::PopTextWrapPos();
    ImGui::End();
    ImGui::PopStyleColor(2);
    top += eh;
  }
  if (!main_.active()) {
    ImGui::SetNextWindowPos(ImVec2(0, top));
    ImGui::SetNextWindowSize(ImVec2(W, H - top));
    ImGui::Begin("##empty", nullptr, fixed | ImGuiWindowFlags_NoTitleBar);
    ImGui::TextWrapped("Nothing is loaded. Pick a lesson, or type the path of a scenario (.toml) or "
                       "a trace file above and press Open.");
    ImGui::End();
    return;
  }

  if (vs_.show_help) {
    ImGui::SetNextWindowPos(ImVec2(W * 0.3f, H * 0.25f), ImGuiCond_Appearing);
    ImGui::Begin("Keys (F1)", &vs_.show_help, ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings);
    ImGui::TextUnformatted("Space            play / pause\n"
                           "Left / Right     one event back / forward\n"
                           "Shift+Left/Right previous / next story step\n"
                           "Home / End       start / end of the run\n"
                           "+ / -            faster / slower\n"
                           "Ctrl + / Ctrl -  bigger / smaller (presenting)\n"
                           "F11              full screen\n"
                           "Ctrl+S           screenshot (PNG)\n"
                           "Timeline: wheel zooms, drag pans, click seeks");
    ImGui::End();
  }
  auto panel = [&](Panel p, ImVec2 pos, ImVec2 size, auto&& body) {
    ImGui::SetNextWindowPos(pos);
    ImGui::SetNextWindowSize(size);
    bool open = true;
    ImGui::Begin(panel_title(p), &open, fixed);
    body();
    ImGui::End();
    if (!open) vs_.show[p] = false;
  };
  const float avail = H - top;

  if (other_.active()) {
    // Compare: the difference line, then two machines side by side, their counters, and
    // the primary side's timeline.
    // As tall as the explanation needs (it wraps to the window's width).
    const float line_h = ImGui::GetTextLineHeightWithSpacing() + fonts_.big->FontSize * 3.4f +
                         ImGui::GetStyle().WindowPadding.y * 2;
    ImGui::SetNextWindowPos(ImVec2(0, top));
    ImGui::SetNextWindowSize(ImVec2(W, line_h));
    ImGui::Begin("##diff", nullptr, fixed | ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoScrollbar);
    draw_compare_line(ctx, vs_, cmds_);
    ImGui::End();
    const float y0 = top + line_h;
    const float rest = H - y0;
    const float mh = rest * (vs_.show[kTimeline] ? 0.62f : 0.72f), ch = rest * (vs_.show[kTimeline] ? 0.22f : 0.28f);
    const Pane* sides[2] = {&main_, &other_};
    for (int i = 0; i < 2; i++) {
      PanelCtx sc{*sides[i], pal, fonts_, vs_.scale, sides[1 - i]};
      const float x = i * W / 2;
      const std::string title = std::string(i ? "B: " : "A: ") + std::string(strategy_name(sides[i]->run->trace->strategy));
      ImGui::SetNextWindowPos(ImVec2(x, y0));
      ImGui::SetNextWindowSize(ImVec2(W / 2, mh));
      ImGui::Begin((title + "##m" + std::to_string(i)).c_str(), nullptr, fixed | ImGuiWindowFlags_NoScrollbar);
      draw_machine(sc, vs_, cmds_, ImGui::GetContentRegionAvail());
      ImGui::End();
      ImGui::SetNextWindowPos(ImVec2(x, y0 + mh));
      ImGui::SetNextWindowSize(ImVec2(W / 2, ch));
      ImGui::Begin((title + " counters##c" + std::to_string(i)).c_str(), nullptr, fixed);
      draw_counters(sc, vs_, cmds_);
      ImGui::End();
    }
    if (vs_.show[kTimeline])
      panel(kTimeline, ImVec2(0, y0 + mh + ch), ImVec2(W, rest - mh - ch), [&] { draw_timeline(ctx, vs_, cmds_); });
    return;
  }

  // Normal: left column machine over timeline; right column narration, program, counters, log.
  const bool right_any = vs_.show[kNarration] || vs_.show[kProgram] || vs_.show[kCounters] || vs_.show[kLog];
  const bool left_any = vs_.show[kMachine] || vs_.show[kTimeline];
  const float lw = !right_any ? W : !left_any ? 0 : std::floor(W * 0.64f);
  if (left_any) {
    const float mh = !vs_.show[kTimeline] ? avail : !vs_.show[kMachine] ? 0 : std::floor(avail * 0.70f);
    if (vs_.show[kMachine])
      panel(kMachine, ImVec2(0, top), ImVec2(lw, mh), [&] { draw_machine(ctx, vs_, cmds_, ImGui::GetContentRegionAvail()); });
    if (vs_.show[kTimeline])
      panel(kTimeline, ImVec2(0, top + mh), ImVec2(lw, avail - mh), [&] { draw_timeline(ctx, vs_, cmds_); });
  }
  if (right_any) {
    struct Slot { Panel p; float weight; };
    const Slot slots[] = {{kNarration, 0.22f}, {kProgram, 0.30f}, {kCounters, 0.26f}, {kLog, 0.22f}};
    float total = 0;
    for (const auto& s : slots) if (vs_.show[s.p]) total += s.weight;
    float y = top;
    for (const auto& s : slots) {
      if (!vs_.show[s.p]) continue;
      const float h = std::floor(avail * s.weight / total);
      panel(s.p, ImVec2(lw, y), ImVec2(W - lw, h), [&] {
        switch (s.p) {
          case kNarration: draw_narration(ctx, vs_, cmds_); break;
          case kProgram: draw_program(ctx, vs_, cmds_); break;
          case kCounters: draw_counters(ctx, vs_, cmds_); break;
          case kLog: draw_log(ctx, vs_, cmds_); break;
          default: break;
        }
      });
      y += h;
    }
  }
}

}  // namespace eps::app
