// Loading and checking a lesson's TOML file (see scenario.h for the schema).
//
// Every problem becomes one ScenarioError whose what() a teacher can act on:
//   "lesson.toml:12: server.work_us: expected an integer, got a string"
// Key paths are dotted as the teacher wrote them. Groups in [[clients]] and [[background]]
// are numbered from 1, in file order ("clients[1]" is the first group) because people count
// from 1 and the message is read by people.
//
// toml++ is used in whichever mode it was built (exceptions or parse_result); no exception
// other than ScenarioError leaves load_scenario/parse_scenario.

#include "sim/scenario.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>

// toml++'s internal asserts abort on some malformed table headers ("[[[", "[=") when it is
// used header-only without NDEBUG; the released library (and NDEBUG) reports a syntax error
// instead. Make every build behave like the released library. See also prescan() below.
#ifndef TOML_ASSERT
#define TOML_ASSERT(expr) static_assert(true)
#endif
#include <toml++/toml.h>

#include "sim/uapi.h"

namespace eps {

// ---------------------------------------------------------------------------------------------
// Small helpers declared in scenario.h

int Scenario::total_connections() const {
  long long n = 0;
  for (const auto& g : clients) n += std::max(0, g.connections);
  return static_cast<int>(std::min<long long>(n, std::numeric_limits<int>::max()));
}

namespace {
// 1 + floor(log2(min(cpus, 8))), as in the kernel's sysctl_sched_tunable_scaling = LOG.
SimTime cpu_factor(int cpus) {
  int c = std::clamp(cpus, 1, 8);
  SimTime f = 1;
  while (c > 1) {
    c >>= 1;
    ++f;
  }
  return f;
}
}  // namespace

SimTime Scenario::effective_slice_ns() const {
  if (kernel.sched_slice_ns > 0) return kernel.sched_slice_ns;
  return 750'000 * cpu_factor(cpus);
}

SimTime Scenario::effective_wakeup_granularity_ns() const {
  if (kernel.wakeup_granularity_ns > 0) return kernel.wakeup_granularity_ns;
  return 1'000'000 * cpu_factor(cpus);
}

namespace {
std::string format_error(const std::string& file, int line, const std::string& key,
                         const std::string& message) {
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line);
  s += ": ";
  if (!key.empty()) s += key + ": ";
  s += message;
  return s;
}
}  // namespace

ScenarioError::ScenarioError(std::string file, int line, std::string key, std::string message)
    : std::runtime_error(format_error(file, line, key, message)),
      file_(std::move(file)),
      key_(std::move(key)),
      message_(std::move(message)),
      line_(line) {}

// ---------------------------------------------------------------------------------------------
// The checker

namespace {

constexpr std::size_t kMaxFileBytes = 16u << 20;  // a scenario is a small text file

// Keys allowed in each table, in the order they are documented.
const std::vector<std::string_view> kTopKeys = {"title",   "description", "seed",
                                                "duration_ms", "drain_ms", "start_ms", "machine",
                                                "server",  "clients",     "background",
                                                "costs",   "kernel"};
const std::vector<std::string_view> kMachineKeys = {"cpus"};
const std::vector<std::string_view> kServerKeys = {"strategy",     "work_us", "reply_bytes",
                                                   "et_read_once", "threads", "epoll_flags"};
const std::vector<std::string_view> kClientKeys = {"name",     "connections", "mode",
                                                   "rate_per_s", "requests", "think_us",
                                                   "request_bytes", "connect_at_ms",
                                                   "connect_gap_us"};
struct EpollFlag {
  std::string_view name;
  std::uint32_t bit;
};
const std::vector<EpollFlag> kEpollFlags = {
    {"EPOLLET", EPOLLET}, {"EPOLLONESHOT", EPOLLONESHOT}, {"EPOLLEXCLUSIVE", EPOLLEXCLUSIVE}};
const std::vector<std::string_view> kBackgroundKeys = {"name", "count"};

struct CostField {
  std::string_view name;
  SimTime Costs::*member;
};
const std::vector<CostField> kCostFields = {
    {"syscall_ns", &Costs::syscall_ns},
    {"context_switch_ns", &Costs::context_switch_ns},
    {"wakeup_ns", &Costs::wakeup_ns},
    {"irq_ns", &Costs::irq_ns},
    {"softirq_packet_ns", &Costs::softirq_packet_ns},
    {"poll_fd_ns", &Costs::poll_fd_ns},
    {"epoll_wait_ns", &Costs::epoll_wait_ns},
    {"epoll_event_ns", &Costs::epoll_event_ns},
    {"epoll_ctl_ns", &Costs::epoll_ctl_ns},
    {"accept_ns", &Costs::accept_ns},
    {"clone_ns", &Costs::clone_ns},
    {"copy_per_kib_ns", &Costs::copy_per_kib_ns},
    {"tx_packet_ns", &Costs::tx_packet_ns},
    {"wire_latency_ns", &Costs::wire_latency_ns},
};

const std::vector<std::string_view> kKernelKeys = {"netdev_budget", "napi_weight",
                                                   "rx_ring",       "sched_slice_ns",
                                                   "wakeup_granularity_ns", "maxevents"};

const std::vector<std::string_view> kModeNames = {"open", "closed"};

// Where each section's keys live, for "`work_us` belongs in [server]".
struct Section {
  std::string_view header;
  const std::vector<std::string_view>* keys;
};
const std::vector<Section>& sections() {
  static const std::vector<std::string_view> costs = cost_keys();
  static const std::vector<Section> s = {
      {"the top level (before any [table])", &kTopKeys},
      {"[machine]", &kMachineKeys},
      {"[server]", &kServerKeys},
      {"[[clients]]", &kClientKeys},
      {"[[background]]", &kBackgroundKeys},
      {"[costs]", &costs},
      {"[kernel]", &kKernelKeys},
  };
  return s;
}

std::string lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

// Optimal string alignment distance (Levenshtein plus adjacent transpositions), so that
// "wrok_us" is one edit away from "work_us".
std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size(), m = b.size();
  if (n > 64 || m > 64) return std::max(n, m);  // long keys are never a typo of ours
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

// The closest allowed word within edit distance 2, or "" if none. A word that only lacks
// its unit ("irq" for "irq_ns", "work" for "work_us") also counts as close.
std::string_view closest(std::string_view word, const std::vector<std::string_view>& allowed) {
  const std::string w = lower(word);
  std::string_view best;
  std::size_t best_d = 3;
  for (auto a : allowed) {
    const std::size_t d = edit_distance(w, a);
    if (d < best_d) {
      best_d = d;
      best = a;
    }
  }
  if (best.empty() && w.size() >= 3) {
    for (auto a : allowed) {
      if (a.size() > w.size() && a.substr(0, w.size()) == w && a[w.size()] == '_' &&
          a.find('_', w.size() + 1) == std::string_view::npos)
        return a;
    }
  }
  return best;
}

std::string join(const std::vector<std::string_view>& words) {
  std::string s;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i) s += ", ";
    s += words[i];
  }
  return s;
}

// Keys may be quoted and contain anything; keep the one-line message one line.
std::string printable(std::string_view s) {
  std::string r;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      r += buf;
    } else {
      r += static_cast<char>(c);
    }
  }
  if (r.empty()) r = "\"\"";
  return r;
}

std::string type_phrase(toml::node_type t) {
  switch (t) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

std::string fmt_double(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::ostringstream os;
  os.precision(15);
  os << v;
  return os.str();
}

std::string range_message(long double lo, long double hi, const std::string& got) {
  auto num = [](long double x) {
    if (x == std::floor(x) && std::fabs(x) < 1e18L)
      return std::to_string(static_cast<long long>(x));
    return fmt_double(static_cast<double>(x));
  };
  if (hi >= static_cast<long double>(std::numeric_limits<std::int64_t>::max()))
    return "must be " + num(lo) + " or more, got " + got;
  return "must be between " + num(lo) + " and " + num(hi) + ", got " + got;
}

int region_line(const toml::source_region& r) {
  const auto l = r.begin.line;
  return l > static_cast<toml::source_index>(std::numeric_limits<int>::max())
             ? 0
             : static_cast<int>(l);
}

int line_of(const toml::node* n) { return n ? region_line(n->source()) : 0; }

class Checker {
 public:
  explicit Checker(const std::string& file) : file_(file) {}

  [[noreturn]] void fail(int line, const std::string& key, const std::string& msg) const {
    throw ScenarioError(file_, line, key, msg);
  }
  [[noreturn]] void fail(const toml::node* n, const std::string& key,
                         const std::string& msg) const {
    fail(line_of(n), key, msg);
  }

  // Every key in `t` must be in `allowed`. Reports the unknown key that comes first in the file.
  void check_keys(const toml::table& t, const std::string& prefix,
                  const std::vector<std::string_view>& allowed) const {
    const toml::key* bad_key = nullptr;
    int bad_line = 0;
    for (auto&& [k, v] : t) {
      if (std::find(allowed.begin(), allowed.end(), k.str()) != allowed.end()) continue;
      int l = region_line(k.source());
      if (l == 0) l = line_of(&v);
      if (!bad_key || (l > 0 && (bad_line == 0 || l < bad_line))) {
        bad_key = &k;
        bad_line = l;
      }
    }
    if (!bad_key) return;
    const std::string_view name = bad_key->str();
    std::string msg = "unknown key";
    if (auto near = closest(name, allowed); !near.empty()) {
      msg += "; did you mean `" + std::string(near) + "`?";
    } else {
      std::string elsewhere;
      const std::string lname = lower(name);
      for (const auto& s : sections()) {
        if (s.keys == &allowed) continue;
        if (std::find(s.keys->begin(), s.keys->end(), lname) != s.keys->end()) {
          elsewhere = std::string(s.header);
          break;
        }
      }
      if (!elsewhere.empty())
        msg += "; `" + printable(lname) + "` belongs in " + elsewhere;
      else
        msg += "; allowed here: " + join(allowed);
    }
    fail(bad_line, prefix + printable(name), msg);
  }

  // Optional sub-table. nullptr when absent.
  const toml::table* table(const toml::table& parent, std::string_view key) const {
    const toml::node* n = parent.get(key);
    if (!n) return nullptr;
    if (const toml::table* t = n->as_table()) return t;
    fail(n, std::string(key),
         "expected a table ([" + std::string(key) + "]), got " + type_phrase(n->type()));
  }

  std::int64_t integer(const toml::table& t, std::string_view key, const std::string& path,
                       std::int64_t lo, std::int64_t hi, std::int64_t def) const {
    const toml::node* n = t.get(key);
    if (!n) return def;
    if (const auto* v = n->as_integer()) {
      const std::int64_t x = v->get();
      if (x < lo || x > hi) fail(n, path, range_message(lo, hi, std::to_string(x)));
      return x;
    }
    if (const auto* f = n->as_floating_point()) {
      const double x = f->get();
      if (std::isfinite(x) && x == std::floor(x) && std::fabs(x) < 1e18)
        fail(n, path,
             "expected an integer, got a float (write " +
                 std::to_string(static_cast<long long>(x)) + ", not " + fmt_double(x) + ".0)");
      fail(n, path, "expected an integer, got a float (" + fmt_double(x) + ")");
    }
    fail(n, path, "expected an integer, got " + type_phrase(n->type()));
  }

  double number(const toml::table& t, std::string_view key, const std::string& path, double lo,
                double hi, double def) const {
    const toml::node* n = t.get(key);
    if (!n) return def;
    double x = 0;
    std::string got;
    if (const auto* v = n->as_integer()) {
      x = static_cast<double>(v->get());
      got = std::to_string(v->get());
    } else if (const auto* f = n->as_floating_point()) {
      x = f->get();
      got = fmt_double(x);
    } else {
      fail(n, path, "expected a number, got " + type_phrase(n->type()));
    }
    if (!(x >= lo && x <= hi)) fail(n, path, range_message(lo, hi, got));
    return x;
  }

  bool boolean(const toml::table& t, std::string_view key, const std::string& path,
               bool def) const {
    const toml::node* n = t.get(key);
    if (!n) return def;
    if (const auto* v = n->as_boolean()) return v->get();
    fail(n, path, "expected true or false, got " + type_phrase(n->type()));
  }

  std::optional<std::string> string(const toml::table& t, std::string_view key,
                                    const std::string& path) const {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (const auto* v = n->as_string()) return v->get();
    fail(n, path, "expected a string, got " + type_phrase(n->type()));
  }

  // A word from a fixed list (strategy, mode).
  std::string_view choice(const toml::table& t, std::string_view key, const std::string& path,
                          const std::vector<std::string_view>& allowed,
                          std::string_view def) const {
    auto s = string(t, key, path);
    if (!s) return def;
    for (auto a : allowed)
      if (a == *s) return a;
    std::string msg = "unknown " + std::string(key) + " `" + printable(*s) + "`";
    if (auto near = closest(*s, allowed); !near.empty())
      msg += "; did you mean `" + std::string(near) + "`?";
    msg += " (expected one of: " + join(allowed) + ")";
    fail(t.get(key), path, msg);
  }

  // An array of words, each from a fixed list (epoll_flags = ["EPOLLET"]); empty when absent.
  std::vector<std::string_view> words(const toml::table& t, std::string_view key, const std::string& path,
                                      const std::vector<std::string_view>& allowed) const {
    std::vector<std::string_view> out;
    const toml::node* n = t.get(key);
    if (!n) return out;
    const toml::array* a = n->as_array();
    if (!a) fail(n, path, "expected an array of strings ([\"" + std::string(allowed.front()) + "\"]), got " +
                              type_phrase(n->type()));
    for (std::size_t i = 0; i < a->size(); ++i) {
      const toml::node* e = a->get(i);
      const auto* v = e->as_string();
      if (!v) fail(e, path, "expected strings, got " + type_phrase(e->type()));
      std::string_view found;
      for (auto w : allowed)
        if (w == v->get()) found = w;
      if (found.empty()) {
        std::string msg = "unknown flag `" + printable(v->get()) + "`";
        std::vector<std::string> low;  // closest() compares in lower case
        for (auto w : allowed) low.push_back(lower(w));
        const std::vector<std::string_view> low_views(low.begin(), low.end());
        if (auto near = closest(v->get(), low_views); !near.empty())
          for (std::size_t k = 0; k < low.size(); k++)
            if (low[k] == near) msg += "; did you mean `" + std::string(allowed[k]) + "`?";
        fail(e, path, msg + " (expected any of: " + join(allowed) + ")");
      }
      out.push_back(found);
    }
    return out;
  }

  // An array of tables ([[name]] or name = [{...}, ...]); nullptr when absent.
  const toml::array* table_array(const toml::table& parent, std::string_view key) const {
    const toml::node* n = parent.get(key);
    if (!n) return nullptr;
    const std::string k(key);
    if (n->is_table())
      fail(n, k,
           "expected an array of tables, got a table; write [[" + k + "]] with double brackets");
    const toml::array* a = n->as_array();
    if (!a) fail(n, k, "expected an array of tables ([[" + k + "]]), got " + type_phrase(n->type()));
    for (std::size_t i = 0; i < a->size(); ++i) {
      const toml::node* e = a->get(i);
      if (!e->is_table())
        fail(e, k + "[" + std::to_string(i + 1) + "]",
             "expected a table, got " + type_phrase(e->type()));
    }
    return a;
  }

 private:
  const std::string& file_;
};

// Returns an error message if `text` is not UTF-8 text (NUL byte or invalid encoding).
std::optional<std::pair<int, std::string>> not_text(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  if (n >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF)))
    return std::pair{1, std::string("not a text file (it looks like UTF-16; save it as UTF-8)")};
  int line = 1;
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    if (c == 0) return std::pair{line, std::string("not a text file (it contains a NUL byte)")};
    if (c == '\n') ++line;
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    }
    bool ok = len != 0 && i + len <= n;
    for (std::size_t k = 1; ok && k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (ok) {
      if (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
      if (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ok = false;
    }
    if (!ok) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "0x%02x", c);
      return std::pair{line, std::string("not a text file (invalid UTF-8, byte ") + buf + ")"};
    }
    i += len;
  }
  return std::nullopt;
}

// Pre-scan for toml++ 3.3 bugs. Two of its code paths have undefined behaviour on some
// inputs (toml++ issues #190 and #295: an assert or __builtin_unreachable is reached):
//  - a table header whose key starts with neither a bare-key character nor a quote
//    ("[[[", "[=", "[#"): parse_key() asserts (or, with clang and NDEBUG, assumes) it does;
//  - a non-ASCII character where toml++ asks "is this whitespace?": anywhere outside strings
//    and comments, after a backslash in a """multi-line""" string, and as the first character
//    after a line-ending backslash. Its lookup table for that question is incomplete.
// All of these but the last are invalid TOML, so we report a syntax error ourselves. So that
// an earlier error still comes first, toml++ first parses the text up to the end of that line
// with the offending character replaced by a control character, which it rejects safely.
// The last case is valid TOML: we rewrite that character as the equivalent \uXXXX escape,
// which changes no line number and no value. Valid TOML never produces a Hazard.
struct Hazard {
  int line;
  std::size_t pos, len;   // the offending bytes...
  std::string neutral;    // ...and what toml++ may safely see instead
  std::string message;
};

struct PreScan {
  std::optional<Hazard> hazard;
  std::vector<std::pair<std::size_t, std::size_t>> escape;  // (offset, bytes) to rewrite
};

std::size_t utf8_len(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

std::uint32_t utf8_decode(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) -> std::uint32_t {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u;
  };
  const std::uint32_t c = b(0);
  switch (utf8_len(s[i])) {
    case 1: return c;
    case 2: return ((c & 0x1Fu) << 6) | (b(1) & 0x3Fu);
    case 3: return ((c & 0x0Fu) << 12) | ((b(1) & 0x3Fu) << 6) | (b(2) & 0x3Fu);
    default:
      return ((c & 0x07u) << 18) | ((b(1) & 0x3Fu) << 12) | ((b(2) & 0x3Fu) << 6) |
             (b(3) & 0x3Fu);
  }
}

// `s` is valid UTF-8 (not_text() ran first).
PreScan prescan(std::string_view s) {
  PreScan out;
  const std::size_t n = s.size();
  std::size_t i = 0;
  if (s.substr(0, 3) == "\xEF\xBB\xBF") i = 3;  // byte order mark
  int line = 1, depth = 0;
  bool line_start = true;

  auto bare = [](unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
  };
  auto hws = [](char c) { return c == ' ' || c == '\t'; };
  auto high = [](char c) { return static_cast<unsigned char>(c) >= 0x80; };
  auto newline = [&](std::size_t) { ++line; };
  auto char_at = [&](std::size_t at) { return std::string(s.substr(at, utf8_len(s[at]))); };
  auto hazard = [&](std::size_t pos, std::size_t len, std::string neutral, std::string msg) {
    out.hazard = Hazard{line, pos, len, std::move(neutral), std::move(msg)};
  };

  while (i < n && !out.hazard) {
    const char c = s[i];
    if (c == '\n') {
      newline(i++);
      line_start = true;
      continue;
    }
    if (hws(c) || c == '\r') {
      ++i;
      continue;
    }
    const bool at_start = line_start;
    line_start = false;
    if (high(c)) {
      hazard(i, utf8_len(c), "\x01",
             "Error while parsing: unexpected character '" + char_at(i) +
                 "' outside a string or comment");
    } else if (c == '#') {
      while (i < n && s[i] != '\n') ++i;
    } else if (c == '\'') {  // literal strings: no escapes
      const bool multi = s.substr(i, 3) == "'''";
      const std::string_view close = multi ? "'''" : "'";
      i += close.size();
      while (i < n) {
        if (s[i] == '\n') {
          if (!multi) break;
          newline(i);
        }
        if (s.substr(i, close.size()) == close) {
          i += close.size();
          while (multi && i < n && s[i] == '\'') ++i;  // '''' and ''''' end with quotes
          break;
        }
        ++i;
      }
    } else if (c == '"' && s.substr(i, 3) != "\"\"\"") {  // basic string
      ++i;
      while (i < n && s[i] != '\n') {
        if (s[i] == '\\') {
          i += (i + 1 < n && s[i + 1] == '\n') ? 1 : 2;
          continue;
        }
        if (s[i++] == '"') break;
      }
    } else if (c == '"') {  // multi-line basic string
      i += 3;
      while (i < n && !out.hazard) {
        if (s[i] == '\n') {
          newline(i++);
          continue;
        }
        if (s.substr(i, 3) == "\"\"\"") {
          i += 3;
          while (i < n && s[i] == '"') ++i;  // """" and """"" end with quotes
          break;
        }
        if (s[i] != '\\') {
          ++i;
          continue;
        }
        ++i;  // the backslash
        if (i >= n) break;
        if (high(s[i])) {
          hazard(i, utf8_len(s[i]), "\x01",
                 "Error while parsing string: unknown escape sequence '\\" + char_at(i) + "'");
        } else if (hws(s[i]) || s[i] == '\r' || s[i] == '\n') {
          while (i < n && hws(s[i])) ++i;
          if (i < n && high(s[i])) {
            hazard(i, utf8_len(s[i]), "\x01",
                   "Error while parsing string: line-ending backslashes must be the last "
                   "non-whitespace character on the line");
            break;
          }
          if (i < n && s[i] == '\r') ++i;
          if (i >= n || s[i] != '\n') continue;  // toml++ reports that itself
          // A line-ending backslash: whitespace and newlines are trimmed up to the next
          // character, which toml++ would misjudge if it is not ASCII.
          while (i < n && (hws(s[i]) || s[i] == '\r' || s[i] == '\n')) {
            if (s[i] == '\n') newline(i);
            ++i;
          }
          if (i < n && high(s[i])) {
            const std::size_t len = utf8_len(s[i]);
            out.escape.emplace_back(i, len);
            i += len;
          }
        } else {
          ++i;  // an ordinary escape: \n, \\, \", \u....
        }
      }
    } else if (c == '[' && depth == 0 && at_start) {  // a table header
      std::size_t j = i + 1;
      bool ws = false;
      while (j < n && hws(s[j])) ws = true, ++j;
      if (ws && j < n && s[j] == '[') {  // "[ [": toml++ reports it properly
        i = j + 1;
        continue;
      }
      if (j < n && s[j] == '[') {
        ++j;
        while (j < n && hws(s[j])) ++j;
      }
      if (j < n && s[j] != ']' && s[j] != '"' && s[j] != '\'' &&
          !bare(static_cast<unsigned char>(s[j]))) {
        const auto b = static_cast<unsigned char>(s[j]);
        const std::string seen = b == '\n'   ? std::string("\\n")
                                 : b == '\r' ? std::string("\\r")
                                 : b < 0x20  ? std::string("?")
                                             : char_at(j);
        hazard(j, 0, "\"\x01",
               "Error while parsing key: expected bare key starting character or string "
               "delimiter, saw '" + seen + "'");
      }
      i = j;
    } else if (c == '[' || c == '{') {
      ++depth;
      ++i;
    } else if (c == ']' || c == '}') {
      depth = std::max(0, depth - 1);
      ++i;
    } else {
      ++i;
    }
  }
  return out;
}

std::string apply_escapes(std::string_view s,
                          const std::vector<std::pair<std::size_t, std::size_t>>& spots) {
  std::string r;
  std::size_t at = 0;
  for (auto [off, len] : spots) {
    r.append(s.substr(at, off - at));
    const std::uint32_t cp = utf8_decode(s, off);
    char buf[16];
    if (cp <= 0xFFFF)
      std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(cp));
    else
      std::snprintf(buf, sizeof buf, "\\U%08X", static_cast<unsigned>(cp));
    r += buf;
    at = off + len;
  }
  r.append(s.substr(at));
  return r;
}

// The [costs] table, in a scenario or a costs file: each key given replaces its default.
void read_costs(const Checker& c, const toml::table& t, Costs& costs) {
  static const std::vector<std::string_view> keys = cost_keys();
  c.check_keys(t, "costs.", keys);
  for (const auto& f : kCostFields)
    costs.*f.member = c.integer(t, f.name, "costs." + std::string(f.name), 0,
                                std::numeric_limits<std::int64_t>::max(), costs.*f.member);
}

Scenario check(const toml::table& root, const std::string& file) {
  Checker c(file);
  Scenario sc;
  sc.path = file;

  if (root.empty())
    c.fail(0, "", "empty scenario: expected at least `title` and one [[clients]]");

  c.check_keys(root, "", kTopKeys);

  // Top level.
  auto title = c.string(root, "title", "title");
  if (!title) c.fail(0, "title", "missing; every scenario needs a title = \"...\"");
  if (title->find_first_not_of(" \t\r\n") == std::string::npos)
    c.fail(root.get("title"), "title", "must not be empty");
  sc.title = *title;
  sc.description = c.string(root, "description", "description").value_or("");
  sc.seed = static_cast<std::uint64_t>(c.integer(
      root, "seed", "seed", 0, std::numeric_limits<std::int64_t>::max(), 1));
  sc.duration_ms = c.integer(root, "duration_ms", "duration_ms", 1, 3'600'000, 100);
  sc.drain_ms = c.integer(root, "drain_ms", "drain_ms", 0, 3'600'000, 100);
  sc.start_ms = c.integer(root, "start_ms", "start_ms", 0, 3'600'000, 0);

  // [machine]
  if (const toml::table* m = c.table(root, "machine")) {
    c.check_keys(*m, "machine.", kMachineKeys);
    sc.cpus = static_cast<int>(c.integer(*m, "cpus", "machine.cpus", 1, 64, 1));
  }

  // [server]
  if (const toml::table* s = c.table(root, "server")) {
    c.check_keys(*s, "server.", kServerKeys);
    std::vector<std::string_view> names;
    for (Strategy st : all_strategies()) names.push_back(strategy_name(st));
    sc.strategy = *parse_strategy(c.choice(*s, "strategy", "server.strategy", names, "epoll"));
    sc.work_us = c.integer(*s, "work_us", "server.work_us", 0, 1'000'000, 20);
    sc.reply_bytes =
        static_cast<int>(c.integer(*s, "reply_bytes", "server.reply_bytes", 1, 65536, 64));
    sc.et_read_once = c.boolean(*s, "et_read_once", "server.et_read_once", false);
    sc.threads = static_cast<int>(c.integer(*s, "threads", "server.threads", 0, 64, 0));
    std::vector<std::string_view> flag_names;
    for (const auto& f : kEpollFlags) flag_names.push_back(f.name);
    for (std::string_view w : c.words(*s, "epoll_flags", "server.epoll_flags", flag_names))
      for (const auto& f : kEpollFlags)
        if (f.name == w) sc.epoll_flags |= f.bit;
    if ((sc.epoll_flags & EPOLLEXCLUSIVE) && (sc.epoll_flags & EPOLLONESHOT))
      c.fail(s->get("epoll_flags"), "server.epoll_flags",
             "EPOLLEXCLUSIVE cannot be combined with EPOLLONESHOT: epoll_ctl refuses it with EINVAL "
             "(fs/eventpoll.c, do_epoll_ctl: EPOLLEXCLUSIVE_OK_BITS)");
  }

  // [[clients]]
  const toml::array* clients = c.table_array(root, "clients");
  if (!clients) c.fail(0, "clients", "missing; add at least one [[clients]] group");
  if (clients->empty())
    c.fail(clients, "clients", "empty; add at least one [[clients]] group");
  std::int64_t total = 0;
  for (std::size_t i = 0; i < clients->size(); ++i) {
    const toml::table& t = *clients->get(i)->as_table();
    const std::string p = "clients[" + std::to_string(i + 1) + "]";  // 1-based, see top
    c.check_keys(t, p + ".", kClientKeys);
    ClientGroup g;
    g.name = c.string(t, "name", p + ".name").value_or("clients" + std::to_string(i + 1));
    if (g.name.empty()) c.fail(t.get("name"), p + ".name", "must not be empty");
    for (std::size_t j = 0; j < sc.clients.size(); ++j)
      if (sc.clients[j].name == g.name)
        c.fail(t.get("name") ? t.get("name") : static_cast<const toml::node*>(&t), p + ".name",
               "duplicate name `" + printable(g.name) + "` (clients[" + std::to_string(j + 1) +
                   "] has it too); group names must be unique");
    g.connections =
        static_cast<int>(c.integer(t, "connections", p + ".connections", 1, 100'000, 1));
    g.mode = c.choice(t, "mode", p + ".mode", kModeNames, "open") == "open" ? ClientMode::Open
                                                                           : ClientMode::Closed;
    g.rate_per_s = c.number(t, "rate_per_s", p + ".rate_per_s", 0, 1e7, g.rate_per_s);
    g.requests =
        static_cast<int>(c.integer(t, "requests", p + ".requests", 0, 1'000'000'000, 0));
    g.think_us = c.integer(t, "think_us", p + ".think_us", 0, 1'000'000'000, 0);
    g.request_bytes =
        static_cast<int>(c.integer(t, "request_bytes", p + ".request_bytes", 1, 65536, 64));
    g.connect_at_ms = c.integer(t, "connect_at_ms", p + ".connect_at_ms", 0, 3'600'000, -1);
    g.connect_gap_us = c.integer(t, "connect_gap_us", p + ".connect_gap_us", 0, 1'000'000, 0);
    if (!g.connects_during_run() && t.get("connect_gap_us"))
      c.fail(t.get("connect_gap_us"), p + ".connect_gap_us",
             "needs connect_at_ms: without it the connections are made before the run");
    total += g.connections;
    sc.clients.push_back(std::move(g));
  }
  if (total > kMaxTotalConnections)
    c.fail(clients, "clients",
           "too many connections: " + std::to_string(total) +
               " over all groups, at most 100000");

  // [[background]]
  if (const toml::array* bg = c.table_array(root, "background")) {
    for (std::size_t i = 0; i < bg->size(); ++i) {
      const toml::table& t = *bg->get(i)->as_table();
      const std::string p = "background[" + std::to_string(i + 1) + "]";
      c.check_keys(t, p + ".", kBackgroundKeys);
      BackgroundGroup g;
      g.name = c.string(t, "name", p + ".name").value_or("Q");
      if (g.name.empty()) c.fail(t.get("name"), p + ".name", "must not be empty");
      g.count = static_cast<int>(c.integer(t, "count", p + ".count", 1, 64, 1));
      sc.background.push_back(std::move(g));
    }
  }

  // [costs]
  if (const toml::table* t = c.table(root, "costs")) read_costs(c, *t, sc.costs);

  // [kernel]
  if (const toml::table* t = c.table(root, "kernel")) {
    c.check_keys(*t, "kernel.", kKernelKeys);
    auto& k = sc.kernel;
    k.netdev_budget = static_cast<int>(
        c.integer(*t, "netdev_budget", "kernel.netdev_budget", 1, 100'000, k.netdev_budget));
    k.napi_weight = static_cast<int>(
        c.integer(*t, "napi_weight", "kernel.napi_weight", 1, 1024, k.napi_weight));
    k.rx_ring = static_cast<int>(c.integer(*t, "rx_ring", "kernel.rx_ring", 1, 65536, k.rx_ring));
    k.sched_slice_ns = c.integer(*t, "sched_slice_ns", "kernel.sched_slice_ns", 0,
                                 1'000'000'000, k.sched_slice_ns);
    k.wakeup_granularity_ns =
        c.integer(*t, "wakeup_granularity_ns", "kernel.wakeup_granularity_ns", 0,
                  1'000'000'000, k.wakeup_granularity_ns);
    k.maxevents =
        static_cast<int>(c.integer(*t, "maxevents", "kernel.maxevents", 1, 65536, k.maxevents));
  }
  return sc;
}

std::string display_name(const std::string& s) { return s.empty() ? "<scenario>" : s; }

struct SyntaxError {
  int line;
  std::string message;
};

// toml++ in whichever error mode it was built.
std::optional<SyntaxError> parse_toml(std::string_view text, const std::string& file,
                                      toml::table& out) {
#if TOML_EXCEPTIONS
  try {
    out = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    return SyntaxError{region_line(e.source()), std::string(e.description())};
  }
#else
  toml::parse_result res = toml::parse(text, file);
  if (!res) return SyntaxError{region_line(res.error().source()), std::string(res.error().description())};
  out = std::move(res).table();
#endif
  return std::nullopt;
}

// The TOML document, after the checks a text file must pass (not binary, no hazards).
toml::table parse_root(std::string_view text, const std::string& file) {
  if (auto bad = not_text(text)) throw ScenarioError(file, bad->first, "", bad->second);

  PreScan scan = prescan(text);
  std::string escaped;
  if (!scan.escape.empty()) {
    escaped = apply_escapes(text, scan.escape);
    text = escaped;
    scan = prescan(text);
  }
  if (const auto& h = scan.hazard) {
    // toml++ stops at the first error; if one comes before the offending character, it wins.
    std::size_t eol = text.find('\n', h->pos + h->len);
    if (eol == std::string_view::npos) eol = text.size();
    std::string safe(text.substr(0, h->pos));
    safe += h->neutral;
    safe.append(text.substr(h->pos + h->len, eol - h->pos - h->len));
    toml::table ignored;
    if (auto e = parse_toml(safe, file, ignored); e && e->line > 0 && e->line < h->line)
      throw ScenarioError(file, e->line, "", e->message);
    throw ScenarioError(file, h->line, "", h->message);
  }

  toml::table root;
  if (auto e = parse_toml(text, file, root)) throw ScenarioError(file, e->line, "", e->message);
  return root;
}

// Runs `parse` (which may throw ScenarioError) and turns any other failure into one.
template <class F>
auto guarded(const std::string& file, const char* what, F&& parse) {
  try {
    return parse();
  } catch (const ScenarioError&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw ScenarioError(file, 0, "", std::string("out of memory while reading the ") + what);
  } catch (const std::exception& e) {
    throw ScenarioError(file, 0, "", std::string("cannot parse: ") + e.what());
  } catch (...) {
    throw ScenarioError(file, 0, "", "cannot parse: unknown error");
  }
}

// The whole file as text (at most kMaxFileBytes), or ScenarioError saying why not.
std::string read_text(const std::string& path, const char* what) {
  const std::string file = display_name(path);
  std::string text;
  try {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
      throw ScenarioError(file, 0, "", std::string("cannot read: ") + std::strerror(EISDIR));
    errno = 0;
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) {
      const int err = errno ? errno : ENOENT;
      throw ScenarioError(file, 0, "", std::string("cannot read: ") + std::strerror(err));
    }
    char buf[65536];
    bool too_big = false;
    for (;;) {
      const std::size_t got = std::fread(buf, 1, sizeof buf, f);
      text.append(buf, got);
      if (text.size() > kMaxFileBytes) {
        too_big = true;
        break;
      }
      if (got < sizeof buf) break;
    }
    const bool failed = std::ferror(f) != 0;
    const int err = errno ? errno : EIO;
    std::fclose(f);
    if (failed)
      throw ScenarioError(file, 0, "", std::string("cannot read: ") + std::strerror(err));
    if (too_big)
      throw ScenarioError(file, 0, "", std::string("too large (over 16 MiB); a ") + what + " is a small text file");
  } catch (const ScenarioError&) {
    throw;
  } catch (const std::exception& e) {
    throw ScenarioError(file, 0, "", std::string("cannot read: ") + e.what());
  }
  return text;
}

}  // namespace

Scenario parse_scenario(std::string_view toml_text, const std::string& source_name) {
  const std::string file = display_name(source_name);
  return guarded(file, "scenario", [&] {
    Scenario sc = check(parse_root(toml_text, file), file);
    sc.path = source_name;
    return sc;
  });
}

Scenario load_scenario(const std::string& path) { return parse_scenario(read_text(path, "scenario"), path); }

std::vector<std::string_view> cost_keys() {
  std::vector<std::string_view> k;
  for (const auto& f : kCostFields) k.push_back(f.name);
  return k;
}

SimTime* cost_field(Costs& costs, std::string_view key) {
  for (const auto& f : kCostFields)
    if (f.name == key) return &(costs.*f.member);
  return nullptr;
}

Costs parse_costs(std::string_view toml_text, const std::string& source_name, const Costs& base) {
  const std::string file = display_name(source_name);
  return guarded(file, "costs file", [&] {
    const toml::table root = parse_root(toml_text, file);
    Checker c(file);
    static const std::vector<std::string_view> top = {"costs"};
    c.check_keys(root, "", top);
    const toml::table* t = c.table(root, "costs");
    if (!t) c.fail(0, "costs", "missing: a costs file holds one [costs] table (see `epollscope-cli calibrate`)");
    Costs costs = base;
    read_costs(c, *t, costs);
    return costs;
  });
}

Costs load_costs(const std::string& path, const Costs& base) {
  return parse_costs(read_text(path, "costs file"), path, base);
}

}  // namespace eps
