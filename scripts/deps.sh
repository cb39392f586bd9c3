#!/usr/bin/env bash
# Installs what epollscope needs from Debian's packages; skips what is already there.
# Safe to run again. Uses sudo when not root. CI has no terminal: apt runs non-interactive.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  catch2 libtomlplusplus-dev nlohmann-json3-dev libcli11-dev libstb-dev   # sim, cli, tests
  libimgui-dev libglfw3-dev python3-glad libgl-dev fonts-dejavu-core       # GUI
  xvfb xauth libgl1-mesa-dri                                              # GUI tests
  redis-tools redis-server linux-perf                                     # live backend, --kernel-trace
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
