// For the GUI tests: make a trace that is corrupt but sealed. Reads a good trace, sets one
// field of the first event of a kind, and writes it back with write_trace_file, so the
// checksum is valid and only the trace checker can refuse the file. Prints the event's index.
//
//   epollscope-trace-edit IN OUT KIND FIELD VALUE
//   e.g. epollscope-trace-edit run.trace bad.trace cpu_mode a 250      -> 17
// KIND is an event kind's trace name (sim/names.cpp, ev_name); FIELD one of obj a b actor flow
// cpu; VALUE a number (0x... for hex). Exit 2 with a message on any error.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "sim/trace_io.h"

namespace {

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "epollscope-trace-edit: %s\n", why.c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) die("usage: epollscope-trace-edit IN OUT KIND FIELD VALUE");
  const std::string in = argv[1], out = argv[2], kind = argv[3], field = argv[4], value = argv[5];
  char* end = nullptr;
  const unsigned long long v = std::strtoull(value.c_str(), &end, 0);
  if (value.empty() || *end != '\0' || v > 0xffffffffULL) die("VALUE must be a number below 2^32: " + value);
  try {
    eps::Trace tr = eps::read_trace_file(in);
    for (std::size_t i = 0; i < tr.events.size(); i++) {
      eps::TraceEvent& e = tr.events[i];
      if (eps::ev_name(e.kind) != kind) continue;
      const auto u = std::uint32_t(v);
      if (field == "obj") e.obj = u;
      else if (field == "a") e.a = u;
      else if (field == "b") e.b = u;
      else if (field == "flow") e.flow = u;
      else if (field == "actor" && v <= 0xffff) e.actor = std::uint16_t(v);
      else if (field == "cpu" && v <= 0xff) e.cpu = std::uint8_t(v);
      else die("FIELD must be obj, a, b, flow, actor (< 2^16) or cpu (< 2^8): " + field + " = " + value);
      eps::write_trace_file(tr, out);
      std::printf("%zu\n", i);
      return 0;
    }
    die(in + ": no event of kind " + kind);
  } catch (const std::exception& e) {
    die(e.what());
  }
}
