#!/usr/bin/env bash
# What the payment gate costs, measured with wrk on loopback, side by side in one run (issue 16's instrument):
#   (a) upstream direct   GET /api/ping on mcpserver's own URL (no gate)
#   (b) free via gate     GET /api/ping through the gate (YARP + pricing lookup, no payment); every ratio is to (b)
#   (c) paid via gate     GET /api/content/bench through the gate with a FRESH x402 v2 payment per request:
#                         decode, verify (EIP-712 + secp256k1 recovery), replay claim, forward, settle on the
#                         local facilitator's Postgres ledger, PAYMENT-RESPONSE. Payments are pre-signed with the
#                         official client code (@x402/evm + viem, Gate/presign.mjs), so the load generator only
#                         replays bytes and no header is ever sent twice.
#   (d) session, 16       the same GET paid with `Payment-Session: st_...`, tokens of SESSIONS (16) prepaid sessions
#                         opened before the measurement (Gate/open-sessions.mjs, @x402/fetch pays each deposit, funded
#                         for the whole run), picked round-robin per request by wrk (Gate/wrk-report.lua, CYCLE=1)
#   (e) session, 1        the same with one session shared by all connections
#   (f) peer, paid        the official @x402/express paywall (Peer/express-app.mjs), GET /premium ($0.001), fresh
#                         pre-signed payments as in (c), signed against the peer's own 402 offer; its facilitator
#                         answers yes at once (Peer/instant-facilitator.mjs: /verify, /settle, /supported, loopback)
#   (g) peer, free        the same express app's GET /free
#   (h) paid via gate,    (c) on a second stack whose gate has Facilitator:Url on the same instant facilitator (no
#       instant fac.      ledger): the gate's own cost per payment. Needs a stack started by this script.
# Prints requests/s, p50 and p99 per scenario, the ratios to (b), then issue 16's goals with PASS/MISS (a measuring aid:
# the exit code is 0 whenever the measurements ran).
#
# Stack: by default a fresh one is started from the AppHost (Gate/stack.sh: Release build, its own state folder, free
# ports) and stopped at the end; (h) then starts a second one. To measure a running stack instead, give both URLs
# ((h) is then not measured):
#   GATE_URL=http://localhost:8402 UPSTREAM_URL=http://localhost:<mcpserver port> tests/Benchmarks/gate-benchmark.sh
# (the gate must run in Development: the benchmark funds its wallets with POST /dev/faucet).
# The peer and the signers use tests/Benchmarks/Peer's packages (package.json + lock, installed with npm ci).
#
# Settings (environment): DURATION (s per scenario, default 10), CONNECTIONS (default 16), THREADS (wrk threads,
# default 1), WARMUP (s, default 3), WALLETS (payers signing the paid requests, default 4), SESSIONS (for (d), default
# 16), EPHEMERAL=1 (started stacks only: Postgres without fsync, as in the tests; default is the durable set-up of
# AppHost/run.sh), RECEIPTS=off (started stacks only, (h)'s too: every service gets Gate__Receipts__Enabled=false and
# Ledger__Chain__Enabled=false, so no signed receipts and no ledger chaining; default on: issue 19's cost is on minus off),
# CHAIN=on|off (the ledger chain alone, default as RECEIPTS: RECEIPTS=off CHAIN=on measures the receipts' share).
# The machine has 2 cores shared by wrk, the gate, mcpserver, SessionApi, Redis, Postgres and node:
# figures are relative, not absolute.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$repo/tests/Benchmarks/Gate"
peer_dir="$repo/tests/Benchmarks/Peer"
duration="${DURATION:-10}"
connections="${CONNECTIONS:-16}"
threads="${THREADS:-1}"
warmup="${WARMUP:-3}"
sessions="${SESSIONS:-16}"
receipts="${RECEIPTS:-on}"
chain="${CHAIN:-$receipts}"
stack_settings=()
for setting in "RECEIPTS=$receipts=Gate__Receipts__Enabled" "CHAIN=$chain=Ledger__Chain__Enabled"; do
    IFS== read -r name value key <<<"$setting"
    case "$value" in
        on) ;;
        off) stack_settings+=("$key=false") ;;
        *) echo "error: $name is on or off, not '$value'" >&2; exit 2 ;;
    esac
done
export WALLETS="${WALLETS:-4}"

# shellcheck source=AppHost/prerequisites.sh
source "$repo/AppHost/prerequisites.sh"
# shellcheck source=tests/Benchmarks/Gate/stack.sh
source "$here/stack.sh"
# shellcheck source=tests/Benchmarks/Gate/report.sh
source "$here/report.sh"
# shellcheck source=tests/Benchmarks/Gate/load.sh
source "$here/load.sh"
install_load_prerequisites

work="$(mktemp -d "${TMPDIR:-/tmp}/gate-benchmark.XXXXXX")"
chmod 755 "$work"   # the postgres user must reach its data folder
node_pids=()
cleanup() {
    stop_stack
    for pid in "${node_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A node server of the peer on a free loopback port; sets server_url from its "listening <url>" line.
start_node_server() {   # name script [NAME=value...]
    local name="$1" script="$2" log="$work/$1.log"
    shift 2
    env "$@" node "$script" >"$log" 2>&1 &
    node_pids+=($!)
    for _ in $(seq 100); do
        server_url="$(grep -oE 'listening https?://[^ ]+' "$log" | cut -d' ' -f2 || true)"
        [ -n "$server_url" ] && return
        kill -0 "${node_pids[-1]}" 2>/dev/null || break
        sleep 0.2
    done
    cat "$log" >&2; echo "error: $script did not start" >&2; exit 1
}
start_node_server facilitator "$peer_dir/instant-facilitator.mjs"
facilitator="$server_url"
start_node_server peer "$peer_dir/express-app.mjs" FACILITATOR_URL="$facilitator"
peer="$server_url"
echo "== instant facilitator $facilitator, peer (@x402/express) $peer" >&2

own_stack=""
if [ -n "${GATE_URL:-}" ] && [ -n "${UPSTREAM_URL:-}" ]; then
    gate="${GATE_URL%/}"
    upstream="${UPSTREAM_URL%/}"
    [ -z "${RECEIPTS:-}${CHAIN:-}" ] || { echo "error: RECEIPTS applies to a stack this script starts; configure a running stack itself" >&2; exit 2; }
    receipts="as the running stack has them"; chain="$receipts"
    echo "== using the running stack: gate $gate, upstream $upstream" >&2
else
    own_stack=1
    build_stack
    start_stack "$work/stack" "${stack_settings[@]}"
fi

for url in "$upstream/api/ping" "$gate/api/ping" "$peer/free"; do
    status="$(curl -s -o /dev/null -w '%{http_code}' "$url")"
    [ "$status" = 200 ] || { echo "error: GET $url answered $status (expected 200)" >&2; exit 1; }
done

link_signers
declare -A result label skipped
label=([a]="(a) upstream direct   GET /api/ping" [b]="(b) gate, free        GET /api/ping"
    [c]="(c) gate, paid x402   local facilitator" [d]="(d) gate, session     $sessions sessions round-robin"
    [e]="(e) gate, session     one session, shared" [f]="(f) peer, paid x402   instant facilitator"
    [g]="(g) peer, free        @x402/express" [h]="(h) gate, paid x402   instant facilitator")

echo "== warm-up (${warmup} s each) and preparation" >&2
measure "$upstream/api/ping" "$warmup" >/dev/null
free_warm="$(measure "$gate/api/ping" "$warmup")"
measure "$peer/free" "$warmup" >/dev/null
# Sessions funded for the whole run: the free route's rate bounds a session's, for warm-up and measurement, x1.5.
session_reads="$(awk -v w="$free_warm" -v t="$((warmup + duration))" 'BEGIN { split(w, x, " "); print int(x[1] / x[2] * t * 1.5) + 1000 }')"
open_sessions "$sessions" "$session_reads" "$work/sessions.txt" GATE_URL="$gate"
open_sessions 1 "$session_reads" "$work/session.txt" GATE_URL="$gate"
measure "$gate/api/content/bench" "$warmup" "$work/sessions.txt" Payment-Session 1 >/dev/null
measure "$gate/api/content/bench" "$warmup" "$work/session.txt" Payment-Session 1 >/dev/null
warm_paid "$gate/api/content/bench" "$work/paid.txt" GATE_URL="$gate"
warm_paid "$peer/premium" "$work/peer-paid.txt" PAY_URL="$peer/premium"

echo "== measuring (${duration} s each, $connections connections, $threads wrk thread(s))" >&2
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
result[a]="$(measure "$upstream/api/ping" "$duration")"
result[b]="$(measure "$gate/api/ping" "$duration")"
result[c]="$(measure "$gate/api/content/bench" "$duration" "$work/paid.txt")"
result[d]="$(measure "$gate/api/content/bench" "$duration" "$work/sessions.txt" Payment-Session 1)"
result[e]="$(measure "$gate/api/content/bench" "$duration" "$work/session.txt" Payment-Session 1)"
result[f]="$(measure "$peer/premium" "$duration" "$work/peer-paid.txt")"
result[g]="$(measure "$peer/free" "$duration")"
for key in c f; do
    file="$work/paid.txt"; [ "$key" = f ] && file="$work/peer-paid.txt"
    ! exhausted "${result[$key]}" "$file" || echo "warning: ${label[$key]%% *} used all its pre-signed payments: its req/s is understated" >&2
done

if [ -n "$own_stack" ]; then
    # (h): the same paid route with the instant facilitator behind the gate, on a stack of its own (the facilitator is
    # chosen at start-up); the first stack is stopped first so both never share the cores.
    stop_stack
    start_stack "$work/stack-instant" Facilitator__Url="$facilitator" "${stack_settings[@]}"
    measure "$gate/api/ping" "$warmup" >/dev/null
    warm_paid "$gate/api/content/bench" "$work/paid-instant.txt" GATE_URL="$gate"
    result[h]="$(measure "$gate/api/content/bench" "$duration" "$work/paid-instant.txt")"
    ! exhausted "${result[h]}" "$work/paid-instant.txt" || echo "warning: (h) used all its pre-signed payments: its req/s is understated" >&2
else
    skipped[h]="needs a stack started by the script (a second one, with Facilitator:Url on the instant facilitator)"
fi
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

echo
print_table a b c d e f g h
echo
print_goals
echo
echo "$(nproc) cores shared by wrk, the stack and node; $connections connections, ${duration} s per scenario, $WALLETS paying wallets," \
    "$sessions sessions for (d); receipts $receipts, ledger chain $chain; load average $load_before before, $load_after after;" \
    "commit $(git -C "$repo" rev-parse --short HEAD)."
