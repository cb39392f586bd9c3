// Narration: one or two plain sentences saying what an event did and why, in the kernel's own
// words (ep_poll_callback, try_to_wake_up, net_rx_action) so a student can go and read the
// source. A pure function of the event and the world it produced: tested headless.
#pragma once

#include <string>
#include <vector>

#include "sim/trace.h"
#include "sim/world.h"

namespace eps::view {

// `w` is the state right after `e` was applied (the state the picture shows).
std::string narrate(const Trace& tr, const TraceEvent& e, const WorldState& w);
// What to say before the first event.
std::string narrate_start(const Trace& tr);
// A short one-line label for the event log: "epoll_wait returns 3 (server)". `task_names`
// is indexed by task id (TimelineIndex::task_name); a missing name prints as "task N".
std::string event_label(const Trace& tr, const TraceEvent& e,
                        const std::vector<std::string>& task_names);
// A task's name from the trace's TaskCreate events as the world knows it ("task 3" if unknown).
std::string task_name(const WorldState& w, std::uint16_t id);

}  // namespace eps::view
