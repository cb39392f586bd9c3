// Colours of the picture, per theme. Built on the Okabe-Ito palette, whose eight colours stay
// apart for the common forms of colour blindness; every meaning also differs in lightness or
// carries a label, so nothing is told by hue alone. Packed like ImGui's IM_COL32 (0xAABBGGRR)
// so the panels pass them straight to ImDrawList, but nothing here includes ImGui.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "sim/trace.h"

namespace eps::view {

using Rgba = std::uint32_t;

constexpr Rgba rgb(std::uint8_t r, std::uint8_t g, std::uint8_t b, std::uint8_t a = 255) {
  return Rgba(r) | Rgba(g) << 8 | Rgba(b) << 16 | Rgba(a) << 24;
}
constexpr std::uint8_t red_of(Rgba c) { return std::uint8_t(c); }
constexpr std::uint8_t green_of(Rgba c) { return std::uint8_t(c >> 8); }
constexpr std::uint8_t blue_of(Rgba c) { return std::uint8_t(c >> 16); }
Rgba with_alpha(Rgba c, std::uint8_t a);
Rgba mix(Rgba a, Rgba b, float t);  // t = 0 -> a, 1 -> b

// WCAG relative luminance (0..1) and contrast ratio (1..21).
double luminance(Rgba c);
double contrast(Rgba a, Rgba b);

enum class Theme : std::uint8_t { Dark, Light, HighContrast };
inline constexpr int kThemeCount = 3;
std::string_view theme_name(Theme t);             // "dark", "light", "high-contrast"
std::optional<Theme> parse_theme(std::string_view s);

struct Palette {
  Rgba bg, panel, text, dim, frame, kernel_bg, user_bg, boundary;
  Rgba mode[kCpuModeCount];         // CpuMode colours: idle, user, syscall, hard IRQ, softirq, switch
  Rgba state[4];                    // TaskState: running, runnable, sleeping, dead
  Rgba rb_red, rb_black, rb_text;   // red-black tree nodes and their labels
  Rgba packet, packet_outline, focus, wake_arrow, ready, queue, drop, cursor;
};

const Palette& palette(Theme t);

}  // namespace eps::view
