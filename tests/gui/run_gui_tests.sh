#!/usr/bin/env bash
# GUI tests under Xvfb: each case renders states with `epollscope --screenshot` and checks the
# PNGs (non-blank, different where the state differs, identical where it does not) and exit
# codes. Usage: run_gui_tests.sh CASE   (environment: EPS_APP, EPS_CLI, EPS_CHECK, EPS_SHOTS,
# EPS_SOURCE_DIR; set by ui/gui.cmake).
set -euo pipefail
case_name=${1:?case}
app=${EPS_APP:?}; check=${EPS_CHECK:?}; shots=${EPS_SHOTS:?}; src=${EPS_SOURCE_DIR:?}
out="$shots/$case_name"
rm -rf "$out"; mkdir -p "$out"
xvfb() { xvfb-run -a -s "-screen 0 1600x1000x24" "$@"; }
shot() {  # shot NAME ARGS...: render, save $out/NAME.png, require exit 0 and a non-blank picture
  local name=$1; shift
  timeout 120 xvfb-run -a -s "-screen 0 1600x1000x24" "$app" "$@" --screenshot "$out/$name.png" \
    >"$out/$name.log" 2>&1 || { echo "FAIL: $name exited $?"; cat "$out/$name.log"; exit 1; }
  "$check" nonblank "$out/$name.png"
}
lessons() { ls "$src"/scenarios/*.toml 2>/dev/null | sort; }

case "$case_name" in
  default)      # the README's first command: no arguments opens the first lesson
    shot default
    (cd "$src" && shot first --scenario "scenarios/$(basename "$(lessons | head -1)")")
    "$check" same "$out/default.png" "$out/first.png"
    ;;
  lessons)      # every shipped lesson, at the start and at three later points
    n=0
    for f in $(lessons); do
      b=$(basename "$f" .toml)
      shot "$b-0" --scenario "$f"
      shot "$b-a" --scenario "$f" --until sys_exit --until-count 5
      shot "$b-b" --scenario "$f" --until sys_exit --until-count 60
      shot "$b-c" --scenario "$f" --until reply_recv
      "$check" differ "$out/$b-0.png" "$out/$b-a.png"
      "$check" differ "$out/$b-a.png" "$out/$b-b.png"
      n=$((n + 1))
    done
    [ "$n" -gt 0 ] || { echo "FAIL: no lessons in $src/scenarios"; exit 1; }
    ;;
  deterministic) # the same state renders to the same pixels; a step changes them
    f=$(lessons | tail -3 | head -1)
    shot a --scenario "$f" --seek 500
    shot b --scenario "$f" --seek 500
    shot c --scenario "$f" --seek 501
    "$check" same "$out/a.png" "$out/b.png"
    "$check" differ "$out/a.png" "$out/c.png"
    ;;
  compare)      # select vs epoll side by side, and each strategy on its own
    f=$(lessons | grep -m1 select || lessons | head -1)
    shot cmp --scenario "$f" --strategy select --compare epoll --until sys_exit --until-count 200
    shot single --scenario "$f" --strategy select --until sys_exit --until-count 200
    "$check" differ "$out/cmp.png" "$out/single.png"
    ;;
  themes)       # the palettes and presenter scale change the picture
    f=$(lessons | head -1)
    shot dark --scenario "$f" --seek 100
    shot light --scenario "$f" --seek 100 --theme light
    shot hc --scenario "$f" --seek 100 --theme high-contrast --scale 1.4
    "$check" differ "$out/dark.png" "$out/light.png"
    "$check" differ "$out/dark.png" "$out/hc.png"
    ;;
  bad-file)     # a broken or missing file: the error is shown in the window, exit 0
    shot broken --scenario "$src/tests/data/scenarios/bad_syntax.toml"
    grep -q "bad_syntax.toml:" "$out/broken.log"
    shot missing --scenario /nonexistent/lesson.toml
    grep -q "/nonexistent/lesson.toml" "$out/missing.log"
    shot badtrace --trace "$src/tests/data/scenarios/good_minimal.toml.trace-does-not-exist"
    grep -q "good_minimal.toml.trace-does-not-exist: cannot read" "$out/badtrace.log" ||
      { echo "FAIL: badtrace: the log does not name the file and the error"; cat "$out/badtrace.log"; exit 1; }
    "$check" differ "$out/broken.png" "$out/missing.png"
    # Corrupt but sealed (valid checksum): one field of one event out of range, each a probe
    # that once crashed replay. The trace checker refuses it, naming the event and field.
    cli=${EPS_CLI:?}; edit=${EPS_TRACE_EDIT:?}
    "$cli" run "$src/tests/data/cli/one_request.toml" --trace "$out/good.trace" >/dev/null
    for probe in "cpu_mode a 250 a = 250 is not a CpuMode" \
                 "sys_enter a 100000 a = 100000 (0x186a0) is not a Sys" \
                 "socket_create obj 0xfffffff0 obj = 4294967280 (0xfffffff0) is not a socket" \
                 "fd_install obj 0xfffffff0 obj = 4294967280 (0xfffffff0) is not an fd"; do
      read -r kind field value want <<<"$probe"
      n=$("$edit" "$out/good.trace" "$out/$kind.trace" "$kind" "$field" "$value")
      shot "corrupt-$kind" --trace "$out/$kind.trace"
      grep -qF "$out/$kind.trace: corrupt: events[$n] ($kind): $want" "$out/corrupt-$kind.log" ||
        { echo "FAIL: corrupt-$kind: the log does not name events[$n] and the field"; cat "$out/corrupt-$kind.log"; exit 1; }
    done
    ;;
  budget)       # a run over the budget is refused in the window (exit 0); the flags let one through
    start=$SECONDS
    shot big --scenario "$src/tests/data/budget/all_max.toml"
    [ $((SECONDS - start)) -lt 60 ] || { echo "FAIL: the refusal took $((SECONDS - start)) s"; exit 1; }
    grep -q "all_max.toml: clients\[1\].rate_per_s, clients\[1\].connections, duration_ms: this run would record about" \
      "$out/big.log"
    grep -q -- "--allow-big" "$out/big.log"
    f=$(lessons | head -1)
    shot tight --scenario "$f" --max-events 100       # the first lesson needs ~240 events
    grep -q "this run would record about" "$out/tight.log"
    shot allowed --scenario "$f" --max-events 100 --allow-big
    if grep -q "this run would" "$out/allowed.log"; then echo "FAIL: --allow-big still refused"; exit 1; fi
    shot raised --scenario "$f" --max-events 100000
    "$check" differ "$out/tight.png" "$out/allowed.png"
    "$check" same "$out/allowed.png" "$out/raised.png"
    ;;
  costs)        # --costs: the lesson runs on the file's costs, and says so; a bad file is shown
    f="$src/scenarios/05-epoll.toml"
    shot default --scenario "$f" --time-ms 3
    shot slow --scenario "$f" --time-ms 3 --costs "$src/tests/data/costs_slow_syscalls.toml"
    "$check" differ "$out/default.png" "$out/slow.png"
    shot badcosts --scenario "$f" --time-ms 3 --costs /nonexistent/costs.toml
    grep -q -- "--costs: /nonexistent/costs.toml: cannot read" "$out/badcosts.log"
    ;;
  trace)        # a trace written by epollscope-cli plays back; same picture as the scenario
    cli=${EPS_CLI:?}
    f=$(lessons | head -1)
    "$cli" run "$f" --trace "$out/run.trace" >/dev/null
    shot fromtrace --trace "$out/run.trace" --seek 150
    shot fromscenario --scenario "$f" --seek 150
    "$check" nonblank "$out/fromtrace.png"
    # a live recording plays back too, and says what it does not hold
    "$cli" live "$src/tests/data/live/small.toml" --trace "$out/live.trace" >/dev/null 2>&1
    shot fromlive --trace "$out/live.trace" --seek 300
    "$check" differ "$out/fromlive.png" "$out/fromtrace.png"
    ;;
  usage)        # bad flags: usage and exit 2; no display: a clear message, exit 1
    set +e
    "$app" --no-such-flag >"$out/u.log" 2>&1; rc=$?
    [ $rc -eq 2 ] || { echo "FAIL: bad flag exit $rc"; exit 1; }
    grep -q -- "--scenario" "$out/u.log"
    "$app" --scale 99 >"$out/u2.log" 2>&1; rc=$?
    [ $rc -eq 2 ] || { echo "FAIL: bad scale exit $rc"; exit 1; }
    env -u DISPLAY -u WAYLAND_DISPLAY "$app" >"$out/nd.log" 2>&1; rc=$?
    [ $rc -eq 1 ] || { echo "FAIL: no display exit $rc"; cat "$out/nd.log"; exit 1; }
    grep -q "epollscope-cli" "$out/nd.log"
    set -e
    ;;
  export)       # frame-sequence export: one PNG per story step
    f=$(lessons | head -1)
    timeout 300 xvfb-run -a -s "-screen 0 1600x1000x24" "$app" --scenario "$f" --export-frames "$out/frames" \
      --from 0 --to 120 --story "packet path" >"$out/export.log" 2>&1
    count=$(ls "$out/frames"/frame_*.png | wc -l)
    [ "$count" -ge 3 ] || { echo "FAIL: $count frames"; exit 1; }
    "$check" differ "$out/frames/frame_00000.png" "$out/frames/frame_00002.png"
    # without --to: the first frame and 200 steps on, not the whole run (small frames: speed)
    timeout 600 xvfb-run -a -s "-screen 0 1600x1000x24" "$app" --scenario "$src/scenarios/05-epoll.toml" \
      --export-frames "$out/open" --width 480 --height 320 >"$out/open.log" 2>&1
    count=$(ls "$out/open"/frame_*.png | wc -l)
    [ "$count" -eq 201 ] || { echo "FAIL: $count frames without --to (want 201)"; exit 1; }
    # a story that does not exist: the list of those that do, exit 2, nothing written
    set +e
    "$app" --scenario "$f" --export-frames "$out/bogus" --story bogus >"$out/bogus.log" 2>&1; rc=$?
    set -e
    [ $rc -eq 2 ] || { echo "FAIL: --story bogus exit $rc"; exit 1; }
    grep -q "packet path" "$out/bogus.log"
    [ ! -e "$out/bogus" ] || { echo "FAIL: --story bogus wrote frames"; exit 1; }
    ;;
  *) echo "unknown case $case_name"; exit 2 ;;
esac
echo "PASS: $case_name"
