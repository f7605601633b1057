#!/usr/bin/env bash
# Issue 19's cost rule, measured A/B: "the benchmark ratios of the money-path issue do not drop by more than 10% with
# receipts and the chain on". Two stacks run at once, one as shipped (receipts and the ledger chain on) and one with
# both off (Gate__Receipts__Enabled=false, Ledger__Chain__Enabled=false), and the gate benchmark's scenarios that have
# those ratios are measured on them in turns:
#   (b) free via gate    GET /api/ping (every ratio's denominator, measured in the same round on the same stack)
#   (c) paid via gate    a fresh pre-signed x402 v2 payment per request, local facilitator
#   (d) session, 16      Payment-Session tokens of 16 prepaid sessions, round-robin
#   (e) session, 1       one session shared by all connections
# (see gate-benchmark.sh for each). A round measures the four on one stack, then on the other; which stack goes first
# alternates, so both settings meet the same minutes of the machine. Run as root, each stack runs in a control group of
# its own (Gate/cgroup.sh): the stack not being measured is frozen whole (no dashboard, chainer or autovacuum of it runs
# in the other's windows: they did, and made the two settings unequal neighbours), and each scenario's CPU is the whole
# stack's, counted from its start until the machine is quiet again after it (`settle`), so what its requests left to do
# (the fold's and the chainer's passes, the receipts' batch, the dashboard ingesting their telemetry) is counted with it.
# Before each measurement the script waits for the CPUs to be quiet (`settle`, at most 30 s). Why not two runs of
# gate-benchmark.sh: its ratios move by 10-20% from one run to the next on this machine (docs/benchmarks.md), as much as
# the rule allows, and runs minutes apart compare minutes, not settings.
# Prints each round's req/s, ratios and CPU per request, the mean and median per setting, and on ÷ off with the rule's
# verdict (a measuring aid: the exit code is 0 whenever the measurements ran).
#
# Settings (environment): ROUNDS (default 6), DURATION (s per scenario, default 10), WARMUP (s per scenario and stack,
# default 10), CONNECTIONS (16), THREADS (wrk threads, 1), WALLETS (payers signing the paid requests, 4), SESSIONS (for
# (d), 16), EPHEMERAL=1 (Postgres without fsync), FIRST=on|off (the stack started first, default on), SETTLE_MAX (30 s),
# FREEZE=0 (both stacks run all along, as before the control groups). A run takes about 2 x (2 min + 5 x WARMUP) +
# ROUNDS x 8 x (DURATION + settling + 3 s).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$repo/tests/Benchmarks/Gate"
peer_dir="$repo/tests/Benchmarks/Peer"
rounds="${ROUNDS:-6}"
duration="${DURATION:-10}"
warmup="${WARMUP:-10}"
connections="${CONNECTIONS:-16}"
threads="${THREADS:-1}"
sessions="${SESSIONS:-16}"
case "${FIRST:-on}" in on) first_order="on off" ;; off) first_order="off on" ;; *) echo "error: FIRST is on or off" >&2; exit 2 ;; esac
export WALLETS="${WALLETS:-4}"

# shellcheck source=AppHost/prerequisites.sh
source "$repo/AppHost/prerequisites.sh"
# shellcheck source=tests/Benchmarks/Gate/stack.sh
source "$here/stack.sh"
# shellcheck source=tests/Benchmarks/Gate/load.sh
source "$here/load.sh"
# shellcheck source=tests/Benchmarks/Gate/cgroup.sh
source "$here/cgroup.sh"
install_load_prerequisites
groups=""
if [ "${FREEZE:-1}" != 0 ]; then
    if stack_cgroups_available; then groups="sessions-receipts-benchmark-$$"
    else echo "warning: no control groups here (root and cgroup v1 or v2 needed): both stacks run all along and no CPU per request is reported" >&2; fi
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/receipts-benchmark.XXXXXX")"
chmod 755 "$work"   # the postgres user must reach its data folder
declare -A stack_of gate_of paid_warm
cleanup() {
    for setting in "${!stack_of[@]}"; do
        [ -z "$groups" ] || stack_thaw "$groups-$setting"   # a frozen process would not take SIGTERM
        stack_pid="${stack_of[$setting]}"
        stop_stack
    done
    if [ -n "$groups" ]; then for setting in on off; do stack_cgroup_remove "$groups-$setting"; done; fi
    rm -rf "$work"
}
# Only the stack being measured runs (when control groups are available).
turn_to() {   # setting
    [ -n "$groups" ] || return 0
    local other=on
    [ "$1" = on ] && other=off
    stack_freeze "$groups-$other"
    stack_thaw "$groups-$1"
}
cpu_of() {   # setting: the stack's CPU so far, µs (0 without control groups)
    if [ -n "$groups" ]; then stack_cpu_us "$groups-$1"; else echo 0; fi
}
# One measured scenario: measure's fields, then the stack's CPU (µs) from the settled start until quiet again after it.
window() {   # setting url seconds [headers file [header name [cycle]]]
    local setting="$1" before result
    shift
    settle
    before="$(cpu_of "$setting")"
    result="$(measure "$@")"
    settle
    echo "$result $(( $(cpu_of "$setting") - before ))"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

build_stack
for setting in $first_order; do
    if [ -n "$groups" ]; then stack_cgroup_create "$groups-$setting"; export STACK_CGROUP="$groups-$setting"; fi
    if [ "$setting" = on ]; then start_stack "$work/on"; else start_stack "$work/off" Gate__Receipts__Enabled=false Ledger__Chain__Enabled=false; fi
    stack_of[$setting]="$stack_pid"; gate_of[$setting]="$gate"
done
unset STACK_CGROUP
link_signers

for setting in on off; do
    gate="${gate_of[$setting]}"
    turn_to "$setting"
    echo "== warm-up and preparation of the stack with receipts and the chain $setting ($gate)" >&2
    free_warm="$(measure "$gate/api/ping" "$warmup")"
    # Sessions funded for every round at the free route's rate (which bounds a session's), x1.5.
    reads="$(awk -v w="$free_warm" -v t="$((warmup + rounds * duration))" 'BEGIN { split(w, x, " "); print int(x[1] / x[2] * t * 1.5) + 1000 }')"
    open_sessions "$sessions" "$reads" "$work/$setting-sessions.txt" GATE_URL="$gate"
    open_sessions 1 "$reads" "$work/$setting-session.txt" GATE_URL="$gate"
    measure "$gate/api/content/bench" "$warmup" "$work/$setting-sessions.txt" Payment-Session 1 >/dev/null
    measure "$gate/api/content/bench" "$warmup" "$work/$setting-session.txt" Payment-Session 1 >/dev/null
    warm_paid "$gate/api/content/bench" "$work/$setting-paid.txt" GATE_URL="$gate"
    paid_warm["$setting"]="$(measure "$gate/api/content/bench" "$warmup" "$work/$setting-paid.txt")"
done

rows="$work/rounds.txt"
printf '%-5s %-4s %8s %8s %8s %8s %9s %9s %9s   %s\n' round set "(b)" "(c)" "(d)" "(e)" "(c)÷(b)" "(d)÷(b)" "(e)÷(b)" \
    "${groups:+CPU µs per request (b) (c) (d) (e)}"
for round in $(seq "$rounds"); do
    order="on off"; [ $((round % 2)) = 0 ] && order="off on"
    for setting in $order; do
        gate="${gate_of[$setting]}"
        turn_to "$setting"
        # Signed just before the round: a pre-signed payment is valid for minutes only (the offer's timeout).
        paid="$work/$setting-paid-$round.txt"
        presign "$(enough "${paid_warm[$setting]}")" "$paid" GATE_URL="$gate"
        b="$(window "$setting" "$gate/api/ping" "$duration")"
        c="$(window "$setting" "$gate/api/content/bench" "$duration" "$paid")"
        ! exhausted "$c" "$paid" || echo "warning: round $round's (c) on the $setting stack used all its pre-signed payments: its req/s is understated" >&2
        d="$(window "$setting" "$gate/api/content/bench" "$duration" "$work/$setting-sessions.txt" Payment-Session 1)"
        e="$(window "$setting" "$gate/api/content/bench" "$duration" "$work/$setting-session.txt" Payment-Session 1)"
        echo "$round $setting|$b|$c|$d|$e" | tee -a "$rows" | awk -F'|' -v cpu="$groups" '{
            split($1, k, " "); n = 0; us = ""
            for (i = 2; i <= 5; i++) { split($i, r, " "); rps[i] = r[1] / r[2]; bad += r[5] + r[6]; if (cpu) us = us sprintf(" %6.0f", r[7] / r[1]) }
            printf "%-5s %-4s %8.0f %8.0f %8.0f %8.0f %9.4f %9.3f %9.3f  %s%s\n", k[1], k[2], rps[2], rps[3], rps[4], rps[5],
                rps[3] / rps[2], rps[4] / rps[2], rps[5] / rps[2], us, bad ? "  (" bad " non-2xx or socket errors)" : ""
        }'
    done
done

echo
awk -F'|' -v cpu="$groups" '
    function ratio(field, base) { split(field, r, " "); split(base, b, " "); return (r[1] / r[2]) / (b[1] / b[2]) }
    function median(list, count,   i, j, t, a) {
        for (i = 1; i <= count; i++) a[i] = list[i]
        for (i = 1; i <= count; i++) for (j = i + 1; j <= count; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return count % 2 ? a[(count + 1) / 2] : (a[count / 2] + a[count / 2 + 1]) / 2
    }
    function rps(field) { split(field, r, " "); return r[1] / r[2] }
    {
        split($1, k, " "); s = k[2]; n[s]++
        for (i = 3; i <= 5; i++) { v = ratio($i, $2); sum[s, i] += v; all[s, i, n[s]] = v }
        for (i = 2; i <= 5; i++) { raw[s, i] += rps($i); split($i, r, " "); req[s, i] += r[1]; us[s, i] += r[7] }
    }
    END {
        split("(c)÷(b) (d)÷(b) (e)÷(b)", name, " ")
        printf "%-9s %18s %18s %12s %12s\n", "ratio", "on: mean, median", "off: mean, median", "on÷off mean", "on÷off med."
        verdict = "PASS"
        for (i = 3; i <= 5; i++) {
            for (s in n) { for (j = 1; j <= n[s]; j++) l[j] = all[s, i, j]; med[s] = median(l, n[s]); mean[s] = sum[s, i] / n[s] }
            drop = mean["on"] / mean["off"] - 1
            if (drop < -0.10) verdict = "MISS"
            printf "%-9s %9.4f %8.4f %9.4f %8.4f %+11.1f%% %+11.1f%%\n", name[i - 2], mean["on"], med["on"], mean["off"], med["off"],
                100 * drop, 100 * (med["on"] / med["off"] - 1)
        }
        printf "\nIssue 19 (on ÷ off of each mean ratio at least -10%%): %s\n", verdict
        # The free route runs the same code in both settings (no receipt, no chain row): a difference in (b) between the
        # stacks moves every ratio above without being the setting. The requests/s themselves, compared directly:
        printf "\nmean req/s   on       off      on÷off\n"
        split("(b) (c) (d) (e)", scenario, " ")
        for (i = 2; i <= 5; i++)
            printf "%-8s %8.0f %8.0f %+9.1f%%\n", scenario[i - 1], raw["on", i] / n["on"], raw["off", i] / n["off"],
                100 * (raw["on", i] / n["on"]) / (raw["off", i] / n["off"]) - 100
        if (!cpu) exit
        # What receipts and the chain cost, free of how busy the machine was: CPU per request of the whole stack (summed
        # over the rounds), and the req/s change it predicts on a machine the stack keeps busy (off ÷ on - 1).
        printf "\nCPU µs per request, whole stack (its requests until quiet again)\n%-8s %8s %8s %9s %12s\n", "", "on", "off", "on÷off", "req/s change"
        for (i = 2; i <= 5; i++)
            printf "%-8s %8.0f %8.0f %+8.1f%% %+11.1f%%\n", scenario[i - 1], us["on", i] / req["on", i], us["off", i] / req["off", i],
                100 * (us["on", i] / req["on", i]) / (us["off", i] / req["off", i]) - 100,
                100 * (us["off", i] / req["off", i]) / (us["on", i] / req["on", i]) - 100
    }' "$rows"
echo
running="both stacks"; [ -z "$groups" ] || running="the stack measured (the other frozen)"
echo "$(nproc) cores shared by wrk, node and $running; $connections connections, ${duration} s per scenario, $rounds rounds," \
    "$WALLETS paying wallets, $sessions sessions for (d); started first: ${first_order%% *}; commit $(git -C "$repo" rev-parse --short HEAD)."
