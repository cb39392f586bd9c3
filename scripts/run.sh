#!/usr/bin/env bash
# Installs what is missing, builds, and opens the GUI on the default lesson (the first in
# scenarios/), or on the lesson given: scripts/run.sh scenarios/05-epoll.toml [more GUI flags].
# Without a display it prints the comparison of all strategies on the command line instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >&2
lesson="${1:-$(ls scenarios/*.toml | head -n 1)}"
shift || true
if [ -x build/bin/epollscope ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
  exec build/bin/epollscope --scenario "$lesson" "$@"
fi
echo "run.sh: no display here, so the comparison of every strategy on the command line instead" >&2
echo "        (with a display, this opens build/bin/epollscope; or try: xvfb-run build/bin/epollscope --scenario $lesson --screenshot shot.png)" >&2
exec build/bin/epollscope-cli compare "$lesson"
