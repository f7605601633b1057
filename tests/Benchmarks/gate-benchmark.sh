#!/usr/bin/env bash
# What the payment gate costs, measured with wrk on loopback, side by side in one run:
#   (a) upstream direct   GET /api/ping on mcpserver's own URL (no gate)
#   (b) free via gate     GET /api/ping through the gate (YARP + pricing lookup, no payment)
#   (c) paid via gate     GET /api/content/bench through the gate with a FRESH x402 v2 payment per request:
#                         decode, verify (EIP-712 + secp256k1 recovery), replay claim, forward, settle on the
#                         local facilitator's Postgres ledger, PAYMENT-RESPONSE. Payments are pre-signed with the
#                         official client code (@x402/evm + viem, tests/Benchmarks/Gate/presign.mjs), so the load
#                         generator only replays bytes and no header is ever sent twice.
# Prints requests/s, p50 and p99 per scenario and the ratios to (b).
#
# Stack: by default a fresh one is started from the AppHost (Release build, its own state folder, free ports) and
# stopped at the end. To measure a running stack instead, give both URLs:
#   GATE_URL=http://localhost:8402 UPSTREAM_URL=http://localhost:<mcpserver port> tests/Benchmarks/gate-benchmark.sh
# (the gate must run in Development: the benchmark funds its wallets with POST /dev/faucet).
#
# Settings (environment): DURATION (s per scenario, default 10), CONNECTIONS (default 16), THREADS (wrk threads,
# default 1), WARMUP (s, default 3), WALLETS (payers signing the paid requests, default 4), EPHEMERAL=1 (started
# stack only: Postgres without fsync, as in the tests; default is the durable set-up of AppHost/run.sh).
# The machine has 2 cores shared by wrk, the gate, mcpserver, Redis and Postgres: figures are relative, not absolute.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$repo/tests/Benchmarks/Gate"
duration="${DURATION:-10}"
connections="${CONNECTIONS:-16}"
threads="${THREADS:-1}"
warmup="${WARMUP:-3}"
export WALLETS="${WALLETS:-4}"

# shellcheck source=AppHost/prerequisites.sh
source "$repo/AppHost/prerequisites.sh"
command -v wrk >/dev/null 2>&1 || prereq_apt_install wrk
install_node_prerequisites
interop="$repo/tests/Interop"
if [ ! -e "$interop/node_modules/.package-lock.json" ] || [ "$interop/package-lock.json" -nt "$interop/node_modules/.package-lock.json" ]; then
    (cd "$interop" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/gate-benchmark.XXXXXX")"
chmod 755 "$work"   # the postgres user must reach its data folder
apphost_pid=""
cleanup() {
    if [ -n "$apphost_pid" ] && kill -0 "$apphost_pid" 2>/dev/null; then
        echo "== stopping the stack" >&2
        kill -TERM "$apphost_pid" 2>/dev/null || true
        wait "$apphost_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${GATE_URL:-}" ] && [ -n "${UPSTREAM_URL:-}" ]; then
    gate="${GATE_URL%/}"
    upstream="${UPSTREAM_URL%/}"
    echo "== using the running stack: gate $gate, upstream $upstream" >&2
else
    install_prerequisites
    echo "== build (Release)" >&2
    dotnet build "$repo/AppHost/AppHost.csproj" -c Release -nologo -v q -clp:NoSummary >&2
    echo "== starting the stack (state in $work/state)" >&2
    # The AppHost itself (not `dotnet run`), so SIGTERM reaches it and it stops its children. Without the launch profile
    # it needs the profile's dashboard settings (http, no dev certificate), here on ports of its own.
    dashboard_ports=($(shuf -i 40000-49999 -n 3))
    (cd "$repo/AppHost" && ASPNETCORE_ENVIRONMENT=Development DOTNET_ENVIRONMENT=Development ASPIRE_ALLOW_UNSECURED_TRANSPORT=true \
        ASPNETCORE_URLS="http://localhost:${dashboard_ports[0]}" \
        ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL="http://localhost:${dashboard_ports[1]}" \
        ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL="http://localhost:${dashboard_ports[2]}" \
        exec dotnet "bin/Release/net10.0/AppHost.dll" --state-dir "$work/state" --randomize-ports \
        ${EPHEMERAL:+--AppHost:EphemeralState=true}) >"$work/apphost.log" 2>&1 &
    apphost_pid=$!
    for _ in $(seq 360); do
        grep -q "Stack is up" "$work/apphost.log" && break
        kill -0 "$apphost_pid" 2>/dev/null || { tail -40 "$work/apphost.log" >&2; echo "error: the AppHost exited" >&2; exit 1; }
        sleep 0.5
    done
    grep -q "Stack is up" "$work/apphost.log" || { tail -40 "$work/apphost.log" >&2; echo "error: the stack did not come up in 180 s" >&2; exit 1; }
    # The resource table: "  <name>  Project  Running  Healthy  http://localhost:<port>  <pid>".
    endpoint_of() { grep -E "^\s+$1\s+Project\s" "$work/apphost.log" | tail -1 | grep -oE 'https?://[^ ]+'; }
    gate="$(endpoint_of paymentgate)"
    upstream="$(endpoint_of mcpserver)"
    echo "== stack up: gate $gate, upstream (mcpserver) $upstream" >&2
fi

for url in "$upstream/api/ping" "$gate/api/ping"; do
    status="$(curl -s -o /dev/null -w '%{http_code}' "$url")"
    [ "$status" = 200 ] || { echo "error: GET $url answered $status (expected 200)" >&2; exit 1; }
done

# wrk with the reporting script; prints "requests seconds p50_us p99_us non2xx socket_errors".
measure() {   # url seconds [headers file]
    local out
    out="$(HEADERS_FILE="${3:-}" WRK_THREADS="$threads" wrk -t"$threads" -c"$connections" -d"$2"s --timeout 10s \
        -s "$here/wrk-report.lua" "$1" 2>&1)" || { echo "$out" >&2; return 1; }
    echo "$out" | grep '^RESULT ' | cut -d' ' -f2- || { echo "$out" >&2; return 1; }
}
# ES modules ignore NODE_PATH: the signer runs from the work folder, next to a link to tests/Interop's packages.
ln -s "$interop/node_modules" "$work/node_modules"
cp "$here/presign.mjs" "$work/presign.mjs"
presign() {   # count file
    (cd "$work" && GATE_URL="$gate" COUNT="$1" OUT="$2" CONTENT_KEY=bench node presign.mjs) >&2
}

echo "== warm-up (${warmup} s each)" >&2
measure "$upstream/api/ping" "$warmup" >/dev/null
measure "$gate/api/ping" "$warmup" >/dev/null
warm_count=$((connections * 40))
presign "$warm_count" "$work/warm.txt"
read -r w_requests w_seconds _ _ w_non2xx _ < <(measure "$gate/api/content/bench" "$warmup" "$work/warm.txt")
[ "$w_non2xx" = 0 ] || echo "warning: $w_non2xx of $w_requests warm-up payments were not served" >&2
# Enough fresh payments for the measured run: 1.5x the warm-up rate (a run that runs out would understate req/s).
paid_count=$(awk -v r="$w_requests" -v s="$w_seconds" -v d="$duration" 'BEGIN { n = int(r / s * d * 1.5) + 200; print (n < 1000 ? 1000 : n) }')
echo "== pre-signing $paid_count payments" >&2
presign "$paid_count" "$work/paid.txt"

echo "== measuring (${duration} s each, $connections connections, $threads wrk thread(s))" >&2
declare -A result
result[a]="$(measure "$upstream/api/ping" "$duration")"
result[b]="$(measure "$gate/api/ping" "$duration")"
result[c]="$(measure "$gate/api/content/bench" "$duration" "$work/paid.txt")"
read -r c_requests _ < <(echo "${result[c]}")
if [ "$c_requests" -ge "$paid_count" ]; then
    echo "warning: the paid run used all $paid_count pre-signed payments: its req/s is understated" >&2
fi

echo
printf '%-34s %10s %9s %9s %8s %11s %11s %11s\n' scenario "req/s" "p50 ms" "p99 ms" "non-2xx" "req/s÷(b)" "p50÷(b)" "p99÷(b)"
read -r _ b_seconds b_p50 b_p99 _ _ < <(echo "${result[b]}")
read -r b_requests _ < <(echo "${result[b]}")
for key in a b c; do
    case $key in
        a) label="(a) upstream direct  GET /api/ping" ;;
        b) label="(b) gate, free       GET /api/ping" ;;
        c) label="(c) gate, paid x402  GET content" ;;
    esac
    read -r requests seconds p50 p99 non2xx errors < <(echo "${result[$key]}")
    awk -v l="$label" -v n="$requests" -v s="$seconds" -v p50="$p50" -v p99="$p99" -v bad="$((non2xx + errors))" \
        -v bn="$b_requests" -v bs="$b_seconds" -v b50="$b_p50" -v b99="$b_p99" 'BEGIN {
        rps = n / s; brps = bn / bs
        printf "%-34s %10.0f %9.2f %9.2f %8d %11.2f %11.2f %11.2f\n", l, rps, p50 / 1000, p99 / 1000, bad, rps / brps, p50 / b50, p99 / b99
    }'
done
echo
echo "$(nproc) cores shared by wrk, the gate, mcpserver, Redis and Postgres; $connections connections, ${duration} s per scenario, $WALLETS paying wallets."
