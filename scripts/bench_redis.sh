#!/usr/bin/env bash
# The seed's "Redis benchmark, ~100k QPS with epoll", on this machine: Debian's redis-server
# and `epollscope-cli serve --strategy epoll`, driven by the same redis-benchmark command,
# in rounds that alternate between them so that both see the same machine, then ours/redis
# per test. A second redis-server (the control) runs in the same rounds: control/redis shows
# how far apart two identical servers land on this machine, which is the noise any ratio
# carries. With --strategies, also every strategy of `serve` under that load.
# Defaults: 30 rounds of 20,000 requests per test; short rounds keep a machine's slow spells
# from falling on one server only.
#
#   scripts/bench_redis.sh [--cli PATH] [--rounds N] [--requests N] [--clients N] [--pin]
#                          [--spin-us N] [--threads N] [--strategies]
#
# --pin: redis-benchmark on the first CPU, every server on the last one (taskset), so that
# the scheduler's placement is the same for all of them.
# --spin-us N: our server polls epoll_wait for up to N us before each sleep (serve --spin-us):
# CPU spent so that the client need not wake it. The CPU line shows the price.
# --threads N: redis-benchmark --threads N (the seed's command uses one client thread, which
# is then the bottleneck; more threads make the servers' own cost show).
#
# Loopback only. Needs redis-server and redis-benchmark (Debian: redis-server, redis-tools).
# Prints one table; exits non-zero if something could not run (not on a slow result:
# speed is measured and reported, not asserted).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cli="${EPS_CLI:-}"
rounds=30
requests=20000
clients=50
strategies=0
pin=0
spin=0
threads=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --cli) cli="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --requests) requests="$2"; shift 2 ;;
    --clients) clients="$2"; shift 2 ;;
    --strategies) strategies=1; shift ;;
    --pin) pin=1; shift ;;
    --spin-us) spin="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed -n 's/^# \{0,1\}//p'; exit 0 ;;
    *) echo "bench_redis.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [[ -z "$cli" ]]; then
  for c in "$here/build/bin/epollscope-cli" "$here/build-live/bin/epollscope-cli"; do
    [[ -x "$c" ]] && { cli="$c"; break; }
  done
fi
[[ -x "$cli" ]] || { echo "bench_redis.sh: epollscope-cli not found (build it, or pass --cli PATH)" >&2; exit 2; }
for tool in redis-server redis-benchmark; do
  command -v "$tool" >/dev/null || { echo "bench_redis.sh: $tool is not installed (Debian: redis-server, redis-tools)" >&2; exit 2; }
done

on_server=()  # command prefixes: taskset with --pin, nothing without
on_client=()
if (( pin )); then
  command -v taskset >/dev/null || { echo "bench_redis.sh: --pin needs taskset (Debian: util-linux)" >&2; exit 2; }
  last=$(( $(nproc) - 1 ))
  (( last > 0 )) || { echo "bench_redis.sh: --pin needs two CPUs or more" >&2; exit 2; }
  on_server=(taskset -c "$last")
  on_client=(taskset -c 0)
fi

tests="ping_inline,ping_mbulk,get,set"
redis_port=16379
ours_port=16380
control_port=16381
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do [[ -n "$p" ]] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  return 0
}
trap cleanup EXIT

wait_port() {  # until something answers PING on the port (5 s at most)
  for _ in $(seq 1 100); do
    redis-cli -p "$1" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "bench_redis.sh: nothing answers on 127.0.0.1:$1" >&2
  return 1
}

# One redis-benchmark run; prints "TEST rps" lines.
bench() {
  local extra=()
  (( threads > 0 )) && extra=(--threads "$threads")
  "${on_client[@]}" redis-benchmark -h 127.0.0.1 -p "$1" -c "$clients" -n "$requests" -t "$tests" "${extra[@]}" --csv 2>/dev/null |
    awk -F'","' 'NR > 1 { gsub(/"/, "", $1); gsub(/"/, "", $2); print $1, $2 }'
}

declare -A pid_of
start_redis() {  # start_redis NAME PORT: a redis-server that neither saves nor logs
  "${on_server[@]}" redis-server --port "$2" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
    --loglevel warning >/dev/null 2>&1 &
  pids+=($!)
  pid_of[$1]=$!
}
start_redis redis "$redis_port"
start_redis control "$control_port"
"${on_server[@]}" "$cli" serve --strategy epoll --port "$ours_port" --spin-us "$spin" >/dev/null 2>&1 &
pids+=($!)
pid_of[ours]=$!
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }  # user + system, all threads
for p in "$redis_port" "$control_port" "$ours_port"; do wait_port "$p"; done

# Rounds rotate the order (ours, redis, control / redis, control, ours / ...) so that no
# server always runs first or last. Each round's results go to $work/NAME.ROUND.
work="$(mktemp -d)"
trap 'cleanup; rm -rf "$work"' EXIT
names=(ours redis control)
declare -A port_of=([ours]="$ours_port" [redis]="$redis_port" [control]="$control_port")
echo "redis-benchmark -c $clients -n $requests -t $tests$( (( threads > 0 )) && echo " --threads $threads"); $rounds rounds, order rotating$( (( pin )) && echo "; pinned: client CPU 0, servers CPU $last")"
echo "redis-server: $(redis-server --version | awk '{print $3}'); machine: $(nproc) CPUs, $(uname -r)"
for r in $(seq 1 "$rounds"); do
  for i in 0 1 2; do
    name="${names[$(( (r - 1 + i) % 3 ))]}"
    t0=$(cpu_ticks "${pid_of[$name]}")
    bench "${port_of[$name]}" > "$work/$name.$r"
    echo $(( $(cpu_ticks "${pid_of[$name]}") - t0 )) > "$work/$name.$r.cpu"
  done
done

# Per test: the median requests/s of each server, and the median of the per-round ratios
# ours/redis (each from the same round, minutes apart at most) with their range. The control
# is a second redis-server: control/redis is what "equal" looks like on this machine today.
status=0
python3 - "$work" "$rounds" "$requests" "$(getconf CLK_TCK)" "$spin" <<'PY' || status=$?
import statistics, sys
work, rounds, requests, hz, spin = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
ours = "ours (epoll)" if float(spin) == 0 else f"ours (spin {spin} us)"
def load(name, r):
    out = {}
    with open(f"{work}/{name}.{r}") as f:
        for line in f:
            t, v = line.split()
            out[t] = float(v)
    return out
runs = {n: [load(n, r) for r in range(1, rounds + 1)] for n in ("ours", "redis", "control")}
print()
print(f"{'test':<12} {'redis-server':>12} {ours:>20} {'ours/redis':>22} {'control/redis':>22}")
status = 0
for t in ("PING_INLINE", "PING_MBULK", "SET", "GET"):
    try:
        o = [x[t] for x in runs["ours"]]; s = [x[t] for x in runs["redis"]]; c = [x[t] for x in runs["control"]]
    except KeyError:
        print(f"{t}: no result", file=sys.stderr); status = 1; continue
    ro = [a / b for a, b in zip(o, s)]; rc = [a / b for a, b in zip(c, s)]
    fmt = lambda r: f"{statistics.median(r):.2f}x [{min(r):.2f}-{max(r):.2f}]"
    print(f"{t:<12} {statistics.median(s):>12,.0f} {statistics.median(o):>20,.0f} {fmt(ro):>22} {fmt(rc):>22}")
# Server CPU (user + system, from /proc/PID/stat) per request over the four tests of a round.
def cpu_us(name):
    ticks = [int(open(f"{work}/{name}.{r}.cpu").read()) for r in range(1, rounds + 1)]
    return statistics.median(ticks) / hz * 1e6 / (4 * requests)
print(f"{'CPU/request':<12} {cpu_us('redis'):>10.1f}us {cpu_us('ours'):>18.1f}us   (server user + system time, median round)")
print("\nmedians over the rounds; [range] of the per-round ratios; control = a second redis-server")
sys.exit(status)
PY

if (( strategies )); then
  printf '\nevery strategy of `serve` under the same load (requests/s, one run each)\n'
  printf '%-17s %12s %12s %12s %12s\n' "strategy" PING_INLINE PING_MBULK SET GET
  port=16390
  # Every strategy, as `epollscope-cli list` names them: a new one is measured without editing this.
  for s in $("$cli" list | sed -n '/^Strategies:/,$p' | tail -n +2 | awk '{print $1}'); do
    "${on_server[@]}" "$cli" serve --strategy "$s" --port "$port" >/dev/null 2>&1 &
    pid=$!
    pids+=("$pid")
    wait_port "$port"
    declare -A res=()
    while read -r t v; do res[$t]="$v"; done < <(bench "$port")
    printf '%-17s %12.0f %12.0f %12.0f %12.0f\n' "$s" "${res[PING_INLINE]:-0}" "${res[PING_MBULK]:-0}" \
      "${res[SET]:-0}" "${res[GET]:-0}"
    kill "$pid"; wait "$pid" 2>/dev/null || true
    port=$((port + 1))
  done
fi
exit $status
