#include "ui/view/palette.h"

#include <algorithm>
#include <cmath>

namespace eps::view {

Rgba with_alpha(Rgba c, std::uint8_t a) { return (c & 0x00ffffffu) | Rgba(a) << 24; }

Rgba mix(Rgba a, Rgba b, float t) {
  t = std::clamp(t, 0.0f, 1.0f);
  auto ch = [&](int shift) {
    const float x = float((a >> shift) & 0xff), y = float((b >> shift) & 0xff);
    return Rgba(std::lround(x + (y - x) * t)) << shift;
  };
  return ch(0) | ch(8) | ch(16) | ch(24);
}

double luminance(Rgba c) {
  auto lin = [](std::uint8_t v) {
    const double s = v / 255.0;
    return s <= 0.03928 ? s / 12.92 : std::pow((s + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * lin(red_of(c)) + 0.7152 * lin(green_of(c)) + 0.0722 * lin(blue_of(c));
}

double contrast(Rgba a, Rgba b) {
  double la = luminance(a), lb = luminance(b);
  if (la < lb) std::swap(la, lb);
  return (la + 0.05) / (lb + 0.05);
}

std::string_view theme_name(Theme t) {
  switch (t) {
    case Theme::Dark: return "dark";
    case Theme::Light: return "light";
    case Theme::HighContrast: return "high-contrast";
  }
  return "?";
}

std::optional<Theme> parse_theme(std::string_view s) {
  for (int i = 0; i < kThemeCount; i++)
    if (theme_name(Theme(i)) == s) return Theme(i);
  return std::nullopt;
}

namespace {

// Okabe-Ito: orange, sky blue, bluish green, yellow, blue, vermillion, reddish purple.
constexpr Rgba kOrange = rgb(230, 159, 0), kSky = rgb(86, 180, 233), kGreen = rgb(0, 158, 115),
               kYellow = rgb(240, 228, 66), kBlue = rgb(0, 114, 178), kVermillion = rgb(213, 94, 0),
               kPurple = rgb(204, 121, 167);

Palette make_dark() {
  Palette p{};
  p.bg = rgb(24, 26, 30); p.panel = rgb(34, 37, 43); p.text = rgb(236, 236, 236);
  p.dim = rgb(160, 164, 172); p.frame = rgb(96, 100, 110);
  p.user_bg = rgb(30, 44, 60); p.kernel_bg = rgb(46, 36, 30); p.boundary = kYellow;
  p.mode[int(CpuMode::Idle)] = rgb(70, 74, 82);
  p.mode[int(CpuMode::User)] = kGreen;
  p.mode[int(CpuMode::System)] = kSky;
  p.mode[int(CpuMode::HardIrq)] = kVermillion;
  p.mode[int(CpuMode::Softirq)] = kOrange;
  p.mode[int(CpuMode::Switch)] = kPurple;
  p.state[int(TaskState::Running)] = kGreen;
  p.state[int(TaskState::Runnable)] = kYellow;
  p.state[int(TaskState::Sleeping)] = kBlue;
  p.state[int(TaskState::Dead)] = rgb(90, 90, 90);
  p.rb_red = kVermillion; p.rb_black = rgb(12, 12, 12); p.rb_text = rgb(255, 255, 255);
  p.packet = kYellow; p.packet_outline = rgb(0, 0, 0); p.focus = kYellow;
  p.wake_arrow = kYellow; p.ready = kOrange; p.queue = kSky; p.drop = kVermillion;
  p.cursor = rgb(255, 255, 255);
  return p;
}

Palette make_light() {
  Palette p{};
  p.bg = rgb(250, 250, 248); p.panel = rgb(255, 255, 255); p.text = rgb(20, 20, 24);
  p.dim = rgb(84, 88, 96); p.frame = rgb(150, 150, 160);
  p.user_bg = rgb(226, 238, 250); p.kernel_bg = rgb(250, 236, 222); p.boundary = rgb(150, 120, 0);
  p.mode[int(CpuMode::Idle)] = rgb(205, 205, 210);
  p.mode[int(CpuMode::User)] = kGreen;
  p.mode[int(CpuMode::System)] = kBlue;
  p.mode[int(CpuMode::HardIrq)] = kVermillion;
  p.mode[int(CpuMode::Softirq)] = kOrange;
  p.mode[int(CpuMode::Switch)] = kPurple;
  p.state[int(TaskState::Running)] = kGreen;
  p.state[int(TaskState::Runnable)] = rgb(200, 170, 0);
  p.state[int(TaskState::Sleeping)] = kBlue;
  p.state[int(TaskState::Dead)] = rgb(170, 170, 170);
  p.rb_red = kVermillion; p.rb_black = rgb(20, 20, 20); p.rb_text = rgb(255, 255, 255);
  p.packet = rgb(200, 150, 0); p.packet_outline = rgb(0, 0, 0); p.focus = rgb(190, 60, 0);
  p.wake_arrow = rgb(190, 60, 0); p.ready = kOrange; p.queue = kBlue; p.drop = kVermillion;
  p.cursor = rgb(0, 0, 0);
  return p;
}

Palette make_high_contrast() {
  Palette p = make_dark();
  p.bg = rgb(0, 0, 0); p.panel = rgb(0, 0, 0); p.text = rgb(255, 255, 255);
  p.dim = rgb(220, 220, 220); p.frame = rgb(255, 255, 255);
  p.user_bg = rgb(0, 28, 56); p.kernel_bg = rgb(48, 24, 0); p.boundary = rgb(255, 255, 0);
  p.mode[int(CpuMode::Idle)] = rgb(60, 60, 60);
  p.mode[int(CpuMode::System)] = rgb(120, 200, 255);
  p.rb_black = rgb(0, 0, 0);
  p.packet = rgb(255, 255, 0); p.packet_outline = rgb(255, 255, 255);
  return p;
}

}  // namespace

const Palette& palette(Theme t) {
  static const Palette kDark = make_dark(), kLight = make_light(), kHigh = make_high_contrast();
  switch (t) {
    case Theme::Light: return kLight;
    case Theme::HighContrast: return kHigh;
    case Theme::Dark: break;
  }
  return kDark;
}

}  // namespace eps::view
