// Chrome Trace Event JSON (opens in Perfetto or chrome://tracing): one lane per CPU with
// its user / syscall / IRQ / softirq / context-switch slices, one lane per task with its
// syscalls and sleeps, counters (rdllist length, runqueue length, RX ring), and flow arrows
// that follow each packet: NIC -> softirq -> socket -> wake-up -> the syscall that read it.
#pragma once

#include <ostream>

#include "sim/trace.h"

namespace eps {

void write_chrome_trace(const Trace& trace, std::ostream& out);

}  // namespace eps
