#!/usr/bin/env bash
# Makes the README's pictures with `epollscope --screenshot` (under Xvfb when there is no
# display). Usage: tests/gui/make_screenshots.sh [path/to/epollscope] (default: build/bin).
# Run from the repository root; writes assets/screenshots/*.png.
set -euo pipefail
app=${1:-build/bin/epollscope}
out=assets/screenshots
mkdir -p "$out"
run() {
  local name=$1; shift
  if [ -n "${DISPLAY:-}" ]; then "$app" "$@" --screenshot "$out/$name.png"
  else xvfb-run -a -s "-screen 0 1600x1000x24" "$app" "$@" --screenshot "$out/$name.png"; fi
}
run 01-blocking-wakeup          --until sched_wakeup --until-count 2
run 05-epoll-ready-list         --scenario scenarios/05-epoll.toml --time-ms 10 --until rdllist_add
run 05-epoll-wakeup             --scenario scenarios/05-epoll.toml --time-ms 10 --until sched_wakeup
run 05-epoll-tree-insert        --scenario scenarios/05-epoll.toml --until rb_rotate --until-count 3
run 04-compare-select-epoll     --scenario scenarios/04-select-crowd.toml --compare epoll --time-ms 12 --until sys_exit
run 03-busy-poll-presenter-light --scenario scenarios/03-busy-polling.toml --time-ms 5 --theme light --scale 1.3
run 06-epoll-et-high-contrast   --scenario scenarios/06-epoll-et-pitfall.toml --time-ms 5 --until sys_exit --theme high-contrast
run 09-herd-fan-out             --scenario scenarios/09-thundering-herd.toml --until sched_wakeup --until-count 4
run 09-compare-herd-reuseport   --scenario scenarios/09-thundering-herd.toml --compare reuseport --time-ms 3 --until sys_exit
