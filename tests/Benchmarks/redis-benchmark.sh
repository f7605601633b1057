#!/usr/bin/env bash
# Throughput of the in-house Redis client (Sessions.Redis, ONE multiplexed connection) next to redis-benchmark,
# against a private redis-server on a free loopback port. Both load generators share the machine with the server,
# so figures are relative, not absolute. Environment: OPS (default 100000 per command and run; runs with one
# caller use OPS/5), PIPELINE (default 64).
# Usage: tests/Benchmarks/redis-benchmark.sh
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ops="${OPS:-100000}"
pipeline="${PIPELINE:-64}"
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
    run_redis_benchmark "$c" "$c" 1 "$n"
done
run_redis_benchmark "pipelined" 1 "$pipeline" $((ops * 5))

echo "== Sessions.Redis (one connection)" >&2
while read -r tag c cmd rps; do
    [ "$tag" = RESULT ] && ours["$c $cmd"]="$rps"
done < <(dotnet "$repo/tests/Benchmarks/RedisBenchmark/bin/Release/net10.0/RedisBenchmark.dll" --port "$port" --ops "$ops" --concurrency "$(IFS=,; echo "${callers[*]}")")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }

echo
printf "%-8s %-4s %12s %18s %7s %20s %7s\n" callers cmd "ours ops/s" "redis-bench -c N" ratio "redis-bench -c1 -P$pipeline" ratio
for c in "${callers[@]}"; do
    for cmd in SET GET; do
        o="${ours["$c $cmd"]:-0}"; t="${theirs["$c $cmd"]:-0}"; p="${theirs["pipelined $cmd"]:-0}"
        printf "%-8s %-4s %12s %18s %7s %20s %7s\n" "$c" "$cmd" "$o" "$t" "$(ratio "$o" "$t")" "$p" "$(ratio "$o" "$p")"
    done
done
echo
echo "ours = N concurrent callers on ONE connection (auto-pipelined); 'redis-bench -c N' = N connections, one request"
echo "in flight each; 'redis-bench -c1 -P$pipeline' = one connection, $pipeline requests per batch (the goal: ours at 64 >= 0.5x)."
