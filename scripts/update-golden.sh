#!/usr/bin/env bash
# Regenerates tests/golden/*.json from the current model. Run it only when a change of the
# model is meant to move the numbers, then read `git diff tests/golden` before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build build -j"$(nproc)" --target epollscope-tests >/dev/null
EPS_UPDATE_GOLDEN=1 build/bin/epollscope-tests "[golden]" >/dev/null
git status --short tests/golden
