#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job on the default lesson.
# Extra arguments go to the program (e.g. a lesson: scripts/run.sh scenarios/05-epoll.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >&2
lesson="${1:-$(ls scenarios/*.toml | head -n 1)}"
shift || true
exec build/bin/epollscope-cli compare "$lesson" "$@"
