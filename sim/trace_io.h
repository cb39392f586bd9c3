// Trace files: a run saved to disk plays back later without re-running the model.
//
// Layout (all integers little-endian):
//   "EPSTRACE"            8 bytes magic
//   u32 version           kTraceVersion
//   u32 header length     then that many bytes of JSON: title, strategy, seed, cpus,
//                         connections, listeners, end_ns, strings, program, events (the
//                         count), and source ("sim" or "live"; absent means "sim")
//   events                count x 32 bytes, TraceEvent field by field
//   u64 checksum          FNV-1a 64 of everything before it
#pragma once

#include <cstdint>
#include <string>

#include "sim/trace.h"

namespace eps {

// Version 2 names sockets by socket id and records the fd table (FdInstall); version 1 named
// them by fd. Version 1 files are still read: they are converted on the way in.
inline constexpr std::uint32_t kTraceVersion = 2;

// Throws std::runtime_error("PATH: …") when the file cannot be written.
void write_trace_file(const Trace& trace, const std::string& path);
// Throws std::runtime_error("PATH: …") naming what is wrong: missing file, not a trace,
// another version, truncated, corrupt (checksum), bad header, or an event a field of which
// is out of what its kind allows ("PATH: corrupt: events[N] (kind): field = V is not ...",
// from check_trace in sim/trace_check.h), for sim and live traces alike.
Trace read_trace_file(const std::string& path);

// A version 1 trace's events (sockets, wait queues and epoll named by fd) as version 2 would
// have recorded them. Exposed for its test.
std::vector<TraceEvent> convert_v1_events(const Trace& v1_header, const std::vector<TraceEvent>& v1);

}  // namespace eps
