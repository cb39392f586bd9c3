#!/usr/bin/env bash
# The seed's "Redis benchmark, ~100k QPS with epoll", on this machine: Debian's redis-server
# and `epollscope-cli serve --strategy epoll`, driven by the same redis-benchmark command,
# alternating (ours, redis, ours, redis, ...) so that both see the same machine, then
# ours/redis per test. With --strategies, also every strategy of `serve` under that load.
#
#   scripts/bench_redis.sh [--cli PATH] [--rounds N] [--requests N] [--clients N] [--strategies]
#
# Loopback only. Needs redis-server and redis-benchmark (Debian: redis-server, redis-tools).
# Prints one table; exits non-zero if something could not run (not on a slow result:
# speed is measured and reported, not asserted).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cli="${EPS_CLI:-}"
rounds=3
requests=100000
clients=50
strategies=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --cli) cli="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --requests) requests="$2"; shift 2 ;;
    --clients) clients="$2"; shift 2 ;;
    --strategies) strategies=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
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

tests="ping_inline,ping_mbulk,get,set"
redis_port=16379
ours_port=16380
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
  redis-benchmark -h 127.0.0.1 -p "$1" -c "$clients" -n "$requests" -t "$tests" --csv 2>/dev/null |
    awk -F'","' 'NR > 1 { gsub(/"/, "", $1); gsub(/"/, "", $2); print $1, $2 }'
}

redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
  --loglevel warning >/dev/null 2>&1 &
pids+=($!)
"$cli" serve --strategy epoll --port "$ours_port" >/dev/null 2>&1 &
pids+=($!)
wait_port "$redis_port"
wait_port "$ours_port"

declare -A best_ours best_redis
record() {  # record ARRAY < "TEST rps" lines: keep the best of the rounds per test
  local -n arr="$1"
  while read -r t v; do
    [[ -z "$t" ]] && continue
    if [[ -z "${arr[$t]:-}" ]] || awk -v a="$v" -v b="${arr[$t]}" 'BEGIN { exit !(a > b) }'; then arr[$t]="$v"; fi
  done
}

echo "redis-benchmark -c $clients -n $requests -t $tests, $rounds rounds alternating, best of each"
echo "redis-server: $(redis-server --version | awk '{print $3}'); machine: $(nproc) CPUs, $(uname -r)"
for r in $(seq 1 "$rounds"); do
  if (( r % 2 )); then
    record best_ours < <(bench "$ours_port"); record best_redis < <(bench "$redis_port")
  else
    record best_redis < <(bench "$redis_port"); record best_ours < <(bench "$ours_port")
  fi
done

printf '\n%-12s %14s %14s %10s\n' "test" "redis-server" "ours (epoll)" "ours/redis"
status=0
for t in PING_INLINE PING_MBULK SET GET; do
  o="${best_ours[$t]:-}"; s="${best_redis[$t]:-}"
  if [[ -z "$o" || -z "$s" ]]; then echo "$t: no result" >&2; status=1; continue; fi
  printf '%-12s %14.0f %14.0f %9.2fx\n' "$t" "$s" "$o" "$(awk -v a="$o" -v b="$s" 'BEGIN { print a / b }')"
done

if (( strategies )); then
  printf '\nevery strategy of `serve` under the same load (requests/s, one run each)\n'
  printf '%-10s %12s %12s %12s %12s\n' "strategy" PING_INLINE PING_MBULK SET GET
  port=16390
  for s in blocking busy-poll select poll epoll epoll-et; do
    "$cli" serve --strategy "$s" --port "$port" >/dev/null 2>&1 &
    pid=$!
    pids+=("$pid")
    wait_port "$port"
    declare -A res=()
    while read -r t v; do res[$t]="$v"; done < <(bench "$port")
    printf '%-10s %12.0f %12.0f %12.0f %12.0f\n' "$s" "${res[PING_INLINE]:-0}" "${res[PING_MBULK]:-0}" \
      "${res[SET]:-0}" "${res[GET]:-0}"
    kill "$pid"; wait "$pid" 2>/dev/null || true
    port=$((port + 1))
  done
fi
exit $status
