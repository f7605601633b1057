#!/usr/bin/env bash
# Throughput of the in-house Redis client (Sessions.Redis, ONE multiplexed connection) next to redis-benchmark,
# against a private redis-server on a free loopback port. All three (server, redis-benchmark, our client) share the
# machine, so figures are relative, not absolute; run it on an otherwise idle machine.
#
# Same workload on both sides: SET then GET of the fixed key "key:__rand_int__" (redis-benchmark's default without -r)
# with a 3-byte value (its default -d 3). For N = 1, 16, 64 concurrent callers it compares:
#   ours            N callers awaiting one command at a time each, on ONE connection (the client auto-pipelines:
#                   up to N commands in flight, written in batches)
#   rb -c N         redis-benchmark -c N -P 1: N connections, one command in flight each (the same N waiting callers)
#   rb -c 1 -P N    redis-benchmark -c 1 -P N: ONE connection, N commands in flight (the same pipelining depth our
#                   multiplexer can reach; the goal is ours >= 0.5x this at N = 64)
# Environment: OPS (default 100000 per command and run; runs with one caller use OPS/5).
# Usage: tests/Benchmarks/redis-benchmark.sh
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ops="${OPS:-100000}"
callers=(1 16 64)

for tool in redis-server redis-benchmark dotnet; do
    command -v "$tool" >/dev/null || { echo "$tool is required (apt-get install -y redis-server)" >&2; exit 1; }
done

free_port() {
    local port
    for _ in $(seq 100); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
    done
    echo "no free port found" >&2; exit 1
}

port="$(free_port)"
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --protected-mode no --loglevel warning >/dev/null &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    sleep 0.05
done
echo "redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on 127.0.0.1:$port; $(nproc) cores shared by server and load generator" >&2

echo "== build (Release)" >&2
dotnet build "$repo/tests/Benchmarks/RedisBenchmark/RedisBenchmark.csproj" -c Release -nologo -v q -clp:NoSummary >&2

declare -A ours theirs
# redis-benchmark --csv prints "SET","<rps>",...; keep the rps per command.
run_redis_benchmark() {   # label clients pipeline requests
    local line
    while IFS=, read -r test rps _; do
        test="${test//\"/}"; rps="${rps//\"/}"
        [[ "$test" == SET || "$test" == GET ]] && theirs["$1 $test"]="${rps%.*}"
    done < <(redis-benchmark -h 127.0.0.1 -p "$port" -t set,get -n "$4" -c "$2" -P "$3" --csv 2>/dev/null)
}

echo "== redis-benchmark" >&2
for c in "${callers[@]}"; do
    n=$ops; [ "$c" = 1 ] && n=$((ops / 5))
    run_redis_benchmark "conns $c" "$c" 1 "$n"
    # Pipelined runs are many times faster: more requests keep them from ending within a few milliseconds.
    [ "$c" = 1 ] || n=$((ops * 5))
    run_redis_benchmark "pipe $c" 1 "$c" "$n"
done

echo "== Sessions.Redis (one connection)" >&2
while read -r tag c cmd rps; do
    [ "$tag" = RESULT ] && ours["$c $cmd"]="$rps"
done < <(dotnet "$repo/tests/Benchmarks/RedisBenchmark/bin/Release/net10.0/RedisBenchmark.dll" --port "$port" --ops "$ops" --concurrency "$(IFS=,; echo "${callers[*]}")")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }

echo
echo "Sessions.Redis vs redis-benchmark $(redis-benchmark --version 2>/dev/null | awk '{print $2}'), $(date -u +%Y-%m-%d), $(nproc) cores shared"
printf "%-8s %-4s %12s %14s %7s %16s %7s\n" callers cmd "ours ops/s" "rb -c N" ratio "rb -c 1 -P N" ratio
for c in "${callers[@]}"; do
    for cmd in SET GET; do
        o="${ours["$c $cmd"]:-0}"; t="${theirs["conns $c $cmd"]:-0}"; p="${theirs["pipe $c $cmd"]:-0}"
        printf "%-8s %-4s %12s %14s %7s %16s %7s\n" "$c" "$cmd" "$o" "$t" "$(ratio "$o" "$t")" "$p" "$(ratio "$o" "$p")"
    done
done
echo
echo "ours = N callers on ONE connection (auto-pipelined); 'rb -c N' = redis-benchmark with N connections, one request"
echo "in flight each; 'rb -c 1 -P N' = redis-benchmark with one connection and N requests in flight (same depth as ours)."
for cmd in SET GET; do
    r="$(ratio "${ours["64 $cmd"]:-0}" "${theirs["pipe 64 $cmd"]:-0}")"
    echo "goal $cmd at 64 callers: ours / (rb -c 1 -P 64) = $r (>= 0.50 wanted): $(awk -v r="$r" 'BEGIN { print (r + 0 >= 0.5) ? "met" : "NOT met" }')"
done
