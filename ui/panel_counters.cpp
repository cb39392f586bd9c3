// "Counters": the run's figures as of the cursor (metrics_of the current world), not only at
// the end: syscalls by name, EAGAINs, fds scanned, context switches, wake-ups, CPU split,
// latency percentiles, requests completed.
#include <algorithm>
#include <cstdio>

#include "ui/panel_common.h"
#include "ui/view/format.h"

namespace eps::app {

namespace {

void row(const char* label, const std::string& value) {
  ImGui::TableNextRow();
  ImGui::TableNextColumn();
  ImGui::TextUnformatted(label);
  ImGui::TableNextColumn();
  ImGui::TextUnformatted(value.c_str());
}

// A horizontal bar of `frac` of the available width, with a label inside.
void bar(ImU32 color, float frac, const char* label, float h) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float w = ImGui::GetContentRegionAvail().x;
  dl->AddRectFilled(p, ImVec2(p.x + std::max(2.0f, w * std::clamp(frac, 0.0f, 1.0f)), p.y + h), color, 2);
  dl->AddText(ImVec2(p.x + 4, p.y + (h - ImGui::GetTextLineHeight()) / 2), ImGui::GetColorU32(ImGuiCol_Text), label);
  ImGui::Dummy(ImVec2(w, h + 2));
}

}  // namespace

void draw_counters(const PanelCtx& c, ViewState& vs, Commands& out) {
  const Pane& p = c.pane;
  const Trace& tr = *p.run->trace;
  const SimTime t = p.pb.cursor ? tr.events[p.pb.cursor - 1].t : 0;
  const Metrics m = metrics_of(p.world, tr, t);
  ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(col(c.pal.dim)));
  ImGui::Text("as of t = %s", view::format_time(t).c_str());
  ImGui::PopStyleColor();
  if (tr.source == "live") {  // only the syscalls were recorded: count those, claim nothing else
    if (ImGui::BeginTable("##k", 2, ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_RowBg)) {
      row("syscalls", view::group_digits(m.syscalls_total()));
      row("recvfrom EAGAIN", view::group_digits(m.eagain));
      ImGui::EndTable();
    }
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(col(c.pal.dim)));
    ImGui::TextWrapped("A live recording holds the server's syscalls: the run's CPU, latency and softirq figures "
                       "are in `epollscope-cli live LESSON --json`.");
    ImGui::PopStyleColor();
  } else {

  // CPU split as one stacked bar (all CPUs together).
  const double total = double(m.cpu_user_ns + m.cpu_system_ns + m.cpu_softirq_ns + m.cpu_idle_ns + m.cpu_background_ns);
  {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    const float w = ImGui::GetContentRegionAvail().x, h = ImGui::GetTextLineHeight() * 1.2f;
    struct Part { double ns; view::Rgba color; const char* name; };
    const Part parts[] = {{double(m.cpu_user_ns), c.pal.mode[int(CpuMode::User)], "user"},
                          {double(m.cpu_system_ns), c.pal.mode[int(CpuMode::System)], "kernel"},
                          {double(m.cpu_softirq_ns), c.pal.mode[int(CpuMode::Softirq)], "IRQ+softirq"},
                          {double(m.cpu_background_ns), c.pal.state[int(TaskState::Runnable)], "neighbours"},
                          {double(m.cpu_idle_ns), c.pal.mode[int(CpuMode::Idle)], "idle"}};
    float x = p0.x;
    for (const auto& part : parts) {
      if (total <= 0) break;
      const float pw = float(part.ns / total) * w;
      dl->AddRectFilled(ImVec2(x, p0.y), ImVec2(x + pw, p0.y + h), col(part.color));
      x += pw;
    }
    ImGui::Dummy(ImVec2(w, h + 2));
    std::string legend;
    for (const auto& part : parts)
      legend += std::string(part.name) + " " + view::format_percent(part.ns, total) + "   ";
    ImGui::TextWrapped("CPU: %s", legend.c_str());
  }

  // With several server threads the lesson is about who wakes: those figures come first, with
  // each thread's wake-ups for nothing (the herd's cost), before the table a panel may clip.
  const bool threads = strategy_info(tr.strategy).threads;
  if (threads && ImGui::BeginTable("##herd", 2, ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_RowBg)) {
    // Per connection made so far (established, accepted or not yet): mid-herd, the one being
    // handed out has woken its workers already.
    std::uint64_t made = 0;
    for (const WsSocket& s : p.world.sockets) made += s.conn != kNone && s.established;
    char per[64];
    std::snprintf(per, sizeof per, "%.1f", made ? double(m.wakeups) / double(made) : 0.0);
    row("wake-ups per connection", made ? per : "—");
    std::string each;
    for (const ThreadMetrics& th : m.threads)
      each += (each.empty() ? "" : " · ") + th.name + " " + view::group_digits(th.wasted_wakeups);
    row("wake-ups for nothing", view::group_digits(m.wasted_wakeups));
    ImGui::EndTable();
    if (!each.empty()) {
      ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(col(c.pal.dim)));
      ImGui::TextWrapped("for nothing, by thread: %s", each.c_str());
      ImGui::PopStyleColor();
    }
  }

  if (ImGui::BeginTable("##k", 2, ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_RowBg)) {
    row("requests done / sent", view::group_digits(m.requests_completed) + " / " + view::group_digits(m.requests_sent) +
                                    (m.requests_failed ? "  (" + view::group_digits(m.requests_failed) + " failed)" : ""));
    char lat[96];
    std::snprintf(lat, sizeof lat, "%lld / %lld / %lld µs", (long long)m.latency_p50_us, (long long)m.latency_p90_us,
                  (long long)m.latency_p99_us);
    row("latency p50 / p90 / p99", m.requests_completed ? lat : "—");
    row("syscalls", view::group_digits(m.syscalls_total()));
    row("EAGAIN", view::group_digits(m.eagain));
    row("fds scanned", view::group_digits(m.fds_scanned));
    row("context switches vol / invol", view::group_digits(m.ctx_voluntary) + " / " + view::group_digits(m.ctx_involuntary));
    row("wake-ups", view::group_digits(m.wakeups) +
                        (m.wasted_wakeups ? "  (" + view::group_digits(m.wasted_wakeups) + " for nothing)" : ""));
    row("NET_RX runs / packets", view::group_digits(m.softirq_net_rx) + " / " + view::group_digits(m.softirq_packets));
    if (m.time_squeeze || m.nic_drops)
      row("time_squeeze / NIC drops", view::group_digits(m.time_squeeze) + " / " + view::group_digits(m.nic_drops));
    ImGui::EndTable();
  }
  }
  // Syscalls by name, as bars.
  std::uint64_t most = 1;
  for (const auto& [name, n] : m.syscalls) most = std::max(most, n);
  const float h = ImGui::GetTextLineHeight() * 1.1f;
  for (const auto& [name, n] : m.syscalls) {
    if (n == 0) continue;
    const std::string label = name + "  " + view::group_digits(n);
    bar(col(view::with_alpha(c.pal.mode[int(CpuMode::System)], 150)), float(double(n) / double(most)), label.c_str(), h);
  }
  (void)vs;
  (void)out;
}

}  // namespace eps::app
