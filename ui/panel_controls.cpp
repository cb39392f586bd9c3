// The bar at the top: lesson, strategy, compare, open by path, presenter settings (row 1);
// playback: step, story step, play, seek slider, speed, run until (row 2).
#include <algorithm>
#include <cstdlib>
#include <tuple>
#include <string>

#include "ui/panel_common.h"
#include "ui/view/format.h"

namespace eps::app {

namespace {

// The strategies' names, as the combo boxes want them (from the one strategy table).
const std::vector<std::string>& strategy_labels() {
  static const std::vector<std::string> labels = [] {
    std::vector<std::string> v;
    for (Strategy s : all_strategies()) v.emplace_back(strategy_name(s));
    return v;
  }();
  return labels;
}

}  // namespace

void draw_controls(const PanelCtx& c, ViewState& vs, Commands& out, const std::vector<view::Lesson>& lessons) {
  const Pane& p = c.pane;
  const Trace* tr = p.active() ? p.run->trace.get() : nullptr;
  const float em = ImGui::GetFontSize();

  // --- row 1: what to watch ---
  ImGui::SetNextItemWidth(em * 16);
  const std::string title = tr ? tr->scenario_title : "(nothing loaded)";
  if (ImGui::BeginCombo("##lesson", title.c_str())) {
    for (std::size_t i = 0; i < lessons.size(); i++) {
      const auto& l = lessons[i];
      ImGui::BeginDisabled(!l.error.empty());
      if (ImGui::Selectable((l.title + "##" + l.path).c_str(), p.active() && p.run->source == l.path))
        out.push_back({Cmd::OpenLesson, (long long)i});
      ImGui::EndDisabled();
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s\n%s", l.path.c_str(), l.error.empty() ? l.description.c_str() : l.error.c_str());
    }
    if (lessons.empty()) ImGui::TextDisabled("no lessons found in scenarios/");
    ImGui::EndCombo();
  }
  if (ImGui::IsItemHovered() && p.active() && p.run->scenario) ImGui::SetTooltip("%s", p.run->scenario->description.c_str());
  if (!vs.costs_label.empty()) {  // the model runs on this machine's costs, not the defaults
    ImGui::SameLine();
    ImGui::TextDisabled("%s", vs.costs_label.c_str());
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("The model runs on the costs in %s (--costs), not on its defaults.", vs.costs_path.c_str());
  }
  ImGui::SameLine();
  ImGui::TextUnformatted("strategy");
  ImGui::SameLine();
  // As wide as the longest strategy name ("epoll-per-thread"), so none is cut.
  float strat_w = 0;
  for (const std::string& l : strategy_labels()) strat_w = std::max(strat_w, ImGui::CalcTextSize(l.c_str()).x);
  strat_w += ImGui::GetFrameHeight() + 2 * ImGui::GetStyle().FramePadding.x;
  ImGui::SetNextItemWidth(strat_w);
  const std::string cur_name = tr ? std::string(strategy_name(tr->strategy)) : "";
  if (ImGui::BeginCombo("##strategy", cur_name.c_str())) {
    for (const std::string& s : strategy_labels())
      if (ImGui::Selectable(s.c_str(), s == cur_name)) out.push_back({Cmd::SetStrategy, 0, 0, s});
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::TextUnformatted("compare");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(strat_w);
  const std::string cmp = c.other ? std::string(strategy_name(c.other->run->trace->strategy)) : "off";
  if (ImGui::BeginCombo("##compare", cmp.c_str())) {
    if (ImGui::Selectable("off", !c.other)) out.push_back({Cmd::SetCompare, 0, 0, ""});
    for (const std::string& s : strategy_labels())
      if (ImGui::Selectable(s.c_str(), cmp == s)) out.push_back({Cmd::SetCompare, 0, 0, s});
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(em * 14);
  const bool enter = ImGui::InputTextWithHint("##path", "scenario .toml or trace file", vs.path_buf, sizeof vs.path_buf,
                                              ImGuiInputTextFlags_EnterReturnsTrue);
  ImGui::SameLine();
  if (ImGui::Button("Open") || enter) out.push_back({Cmd::Open, 0, 0, vs.path_buf});
  ImGui::SameLine();
  ImGui::SetNextItemWidth(em * 7);
  int theme = int(vs.theme);
  const char* themes[] = {"dark", "light", "high-contrast"};
  if (ImGui::Combo("##theme", &theme, themes, 3)) out.push_back({Cmd::SetTheme, theme});
  ImGui::SameLine();
  if (ImGui::Button("A-")) out.push_back({Cmd::ScaleDown});
  ImGui::SameLine();
  if (ImGui::Button("A+")) out.push_back({Cmd::ScaleUp});
  ImGui::SameLine();
  if (ImGui::Button("Panels")) ImGui::OpenPopup("##panels");
  if (ImGui::BeginPopup("##panels")) {
    for (int i = 0; i < kPanelCount; i++) ImGui::Checkbox(panel_title(Panel(i)), &vs.show[i]);
    ImGui::Separator();
    ImGui::Checkbox("timeline follows the cursor", &vs.follow);
    ImGui::SliderInt("socket boxes", &vs.max_sockets, 2, 24);
    ImGui::EndPopup();
  }
  ImGui::SameLine();
  if (ImGui::Button("Keys")) vs.show_help = !vs.show_help;
  ImGui::SameLine();
  if (ImGui::Button("Screenshot"))
    out.push_back({Cmd::Screenshot, 0, 0, "epollscope-" + std::to_string(p.pb.cursor) + ".png"});
  ImGui::SameLine();
  if (ImGui::Button("Export frames")) ImGui::OpenPopup("##export");
  if (ImGui::BeginPopup("##export")) {
    ImGui::TextUnformatted("One PNG per story step, from the cursor on, into ./frames");
    if (ImGui::Button("Next 50 steps") && tr) {
      std::size_t to = p.pb.cursor;
      for (int i = 0; i < 50; i++) to = view::next_story(*tr, to, vs.story);
      out.push_back({Cmd::ExportFrames, (long long)to, 0, "frames"});
      ImGui::CloseCurrentPopup();
    }
    ImGui::EndPopup();
  }
  if (!vs.status.empty()) {
    ImGui::SameLine();
    ImGui::TextDisabled("%s", vs.status.c_str());
  }

  // --- row 2: playback ---
  if (!tr) return;
  const std::size_t n = tr->events.size();
  if (ImGui::Button("|<")) out.push_back({Cmd::Seek, 0});
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Start (Home)");
  ImGui::SameLine();
  if (ImGui::Button("<<")) out.push_back({Cmd::StoryPrev});
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Previous %s (Shift+Left)", std::string(view::story_name(vs.story)).c_str());
  ImGui::SameLine();
  if (ImGui::Button("<")) out.push_back({Cmd::Step, -1});
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("One event back (Left)");
  ImGui::SameLine();
  if (ImGui::Button(p.pb.playing ? "Pause" : "Play ", ImVec2(em * 4, 0))) out.push_back({Cmd::TogglePlay});
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Space");
  ImGui::SameLine();
  if (ImGui::Button(">")) out.push_back({Cmd::Step, 1});
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("One event forward (Right)");
  ImGui::SameLine();
  if (ImGui::Button(">>")) out.push_back({Cmd::StoryNext});
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Next %s (Shift+Right)", std::string(view::story_name(vs.story)).c_str());
  ImGui::SameLine();
  if (ImGui::Button(">|")) out.push_back({Cmd::Seek, (long long)n});
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("End");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(em * 9);
  int story = int(vs.story);
  if (ImGui::BeginCombo("##story", ("step: " + std::string(view::story_name(vs.story))).c_str())) {
    for (int i = 0; i < view::kStoryCount; i++)
      if (ImGui::Selectable(std::string(view::story_name(view::Story(i))).c_str(), story == i)) vs.story = view::Story(i);
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(em * 8);
  const auto& ladder = view::speed_ladder();
  if (ImGui::BeginCombo("##speed", std::string(ladder[std::size_t(p.pb.speed)].label).c_str())) {
    for (std::size_t i = 0; i < ladder.size(); i++)
      if (ImGui::Selectable(std::string(ladder[i].label).c_str(), int(i) == p.pb.speed)) out.push_back({Cmd::SetSpeed, (long long)i});
    ImGui::EndCombo();
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Speed (+ / -)");
  ImGui::SameLine();
  // Run until: "2.5ms" (a time), "#1234" (an event), or the next event of a kind.
  ImGui::SetNextItemWidth(em * 5);
  const bool go = ImGui::InputTextWithHint("##until", "1.5ms / #N", vs.until_buf, sizeof vs.until_buf,
                                           ImGuiInputTextFlags_EnterReturnsTrue);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Run until a time (e.g. 1.5ms, 800us) or an event number (#1234)");
  if (go) {
    const std::string s = vs.until_buf;
    if (!s.empty() && s[0] == '#') {
      out.push_back({Cmd::Seek, std::atoll(s.c_str() + 1)});
    } else if (!s.empty()) {
      double v = std::atof(s.c_str());
      if (s.find("us") != std::string::npos || s.find("µs") != std::string::npos) v *= 1e3;
      else if (s.find("ns") != std::string::npos) v *= 1;
      else if (s.find('s') != std::string::npos && s.find("ms") == std::string::npos) v *= 1e9;
      else v *= 1e6;  // ms is the default unit
      out.push_back({Cmd::RunUntilTime, 0, v});
    }
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(em * 8);
  // Only the kinds this run has, with their counts (counted once per trace): a kind that never
  // happens here would make "next" do nothing. If the chosen one is absent, take the first of
  // the story's usual moments that is present.
  // Keyed by more than the address: a new run's trace may be allocated where the last one was.
  static std::tuple<const Trace*, std::size_t, SimTime, Strategy> counted{};
  static std::vector<std::uint64_t> per_kind;
  if (counted != std::tuple{tr, tr->events.size(), tr->end_ns, tr->strategy}) {
    counted = {tr, tr->events.size(), tr->end_ns, tr->strategy};
    per_kind = view::kind_counts(*tr);
  }
  vs.until_kind = int(view::until_kind_for(per_kind, Ev(std::clamp(vs.until_kind, 0, int(Ev::Count) - 1))));
  if (ImGui::BeginCombo("##kind", std::string(ev_name(Ev(vs.until_kind))).c_str())) {
    for (int k = 0; k < int(Ev::Count); k++) {
      if (per_kind[k] == 0) continue;
      const std::string item = std::string(ev_name(Ev(k))) + "  (" + view::group_digits(per_kind[k]) + ")";
      if (ImGui::Selectable(item.c_str(), k == vs.until_kind)) vs.until_kind = k;
    }
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  if (ImGui::Button("next")) out.push_back({Cmd::RunUntilKind, vs.until_kind});
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Run until the next event of this kind");
  ImGui::SameLine();
  int cur = int(p.pb.cursor);
  ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x);
  const std::string fmt = "event %d of " + view::group_digits(n) + "  ·  " +
                          view::format_time(SimTime(view::display_time(*tr, p.pb.cursor, p.pb.frac)));
  if (ImGui::SliderInt("##seek", &cur, 0, int(n), fmt.c_str())) out.push_back({Cmd::Seek, cur});
}

}  // namespace eps::app
