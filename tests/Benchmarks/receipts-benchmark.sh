#!/usr/bin/env bash
# Issue 19's cost rule, measured A/B: "the benchmark ratios of the money-path issue do not drop by more than 10% with
# receipts and the chain on". Two stacks run at once, one as shipped (receipts and the ledger chain on) and one with
# both off (Gate__Receipts__Enabled=false, Ledger__Chain__Enabled=false), and the gate benchmark's scenarios that have
# those ratios are measured on them in turns:
#   (b) free via gate    GET /api/ping (every ratio's denominator)
#   (c) paid via gate    a fresh pre-signed x402 v2 payment per request, local facilitator
#   (d) session, 16      Payment-Session tokens of 16 prepaid sessions, round-robin
#   (e) session, 1       one session shared by all connections
# (see gate-benchmark.sh for each). Each scenario is measured in PAIRS pairs of short windows, one window on each stack,
# back to back, the order alternating from pair to pair; a pair's on ÷ off compares two windows seconds apart, so the
# machine's own drift (one stack's free route moved from 7,200 to 9,500 req/s within a run of 10 s windows a minute
# apart) cancels, and the spread of the pairs gives each result an interval. Run as root, each stack runs in a control
# group of its own (Gate/cgroup.sh) and only the stack whose window it is runs: the other is frozen whole (its dashboard,
# chainer and autovacuum included), so each stack's background runs in its own windows only and is counted there: a
# window's CPU is the stack's from its thaw to its freeze. The (c) payments of each window are signed just before it,
# with both stacks frozen, by wallets funded once per stack.
# Prints each pair, then per scenario the req/s of each setting, on ÷ off with a 90% interval and the CPU per request,
# and per ratio ((c), (d), (e) ÷ (b)) on ÷ off with its interval and the rule's verdict (a measuring aid: the exit code is
# 0 whenever the measurements ran).
#
# Settings (environment): PAIRS (default 16, each scenario's first pair more, not counted), DURATION (s per window,
# default 5), WARMUP (s per scenario and stack before the pairs, default 10), CONNECTIONS (16), THREADS (wrk threads, 1),
# WALLETS (payers signing the paid requests, 4), SESSIONS (for (d), 16), EPHEMERAL=1 (Postgres without fsync),
# FIRST=on|off (the stack started, warmed up and measured first in odd pairs, default on: runs with each mirror each other
# whole, and the slot a setting runs in favours it by a few percent, so pool runs of both), BREAKDOWN=1 (also the CPU per
# request of each process, by name), FREEZE=0 (both stacks run all along and no CPU is reported; also what happens, with a
# warning, without root or control groups). A run takes about 2 x (2 min + 5 x WARMUP) + 4 x (PAIRS + 1) x 2 x
# (DURATION + 1 s), plus the signing of (c)'s payments (about 2 s per window).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$repo/tests/Benchmarks/Gate"
peer_dir="$repo/tests/Benchmarks/Peer"
pairs="${PAIRS:-16}"
duration="${DURATION:-5}"
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
breakdown=""; [ "${BREAKDOWN:-0}" = 0 ] || [ -z "$groups" ] || breakdown=1

work="$(mktemp -d "${TMPDIR:-/tmp}/receipts-benchmark.XXXXXX")"
chmod 755 "$work"   # the postgres user must reach its data folder
declare -A stack_of gate_of paid_per_window
cleanup() {
    for setting in "${!stack_of[@]}"; do
        [ -z "$groups" ] || stack_thaw "$groups-$setting"   # a frozen process would not take SIGTERM
        stack_pid="${stack_of[$setting]}"
        stop_stack
    done
    if [ -n "$groups" ]; then for setting in on off; do stack_cgroup_remove "$groups-$setting"; done; fi
    rm -rf "$work"
}
# Without control groups these do nothing and every CPU figure is 0.
freeze() { [ -z "$groups" ] || stack_freeze "$groups-$1"; }
thaw() { [ -z "$groups" ] || stack_thaw "$groups-$1"; }
cpu_of() {   # setting: the stack's CPU so far, µs
    if [ -n "$groups" ]; then stack_cpu_us "$groups-$1"; else echo 0; fi
}
# One window: the stack runs from just before the load to just after it, and its CPU over that time is the window's.
window() {   # setting url seconds [headers file [header name [cycle]]]
    local setting="$1" before result
    shift
    before="$(cpu_of "$setting")"
    thaw "$setting"
    result="$(measure "$@")"
    freeze "$setting"
    [ -z "$breakdown" ] || by_process "$setting"
    echo "$result $(( $(cpu_of "$setting") - before ))"
}
# Each process name's CPU (µs) since the stack's previous window (or its warm-up), into $work/<setting>-window-cpu.txt.
by_process() {   # setting
    local now="$work/$1-cpu-now.txt" last="$work/$1-cpu-last.txt"
    stack_cpu_by_process "$groups-$1" > "$now"
    [ -f "$last" ] || : > "$last"
    awk 'NR == FNR { last[$1] = $2; next } { print $1, $2 - last[$1] }' "$last" "$now" > "$work/$1-window-cpu.txt"
    mv "$now" "$last"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

build_stack
for setting in $first_order; do
    if [ -n "$groups" ]; then stack_cgroup_create "$groups-$setting"; export STACK_CGROUP="$groups-$setting"; fi
    if [ "$setting" = on ]; then start_stack "$work/on"; else start_stack "$work/off" Gate__Receipts__Enabled=false Ledger__Chain__Enabled=false; fi
    stack_of[$setting]="$stack_pid"; gate_of[$setting]="$gate"
    freeze "$setting"
done
unset STACK_CGROUP
link_signers

for setting in $first_order; do
    gate="${gate_of[$setting]}"
    thaw "$setting"
    echo "== warm-up and preparation of the stack with receipts and the chain $setting ($gate)" >&2
    free_warm="$(measure "$gate/api/ping" "$warmup")"
    # Sessions funded for every window at the free route's rate (which bounds a session's), x1.5.
    reads="$(awk -v w="$free_warm" -v t="$((warmup + (pairs + 1) * duration))" 'BEGIN { split(w, x, " "); print int(x[1] / x[2] * t * 1.5) + 1000 }')"
    open_sessions "$sessions" "$reads" "$work/$setting-sessions.txt" GATE_URL="$gate"
    open_sessions 1 "$reads" "$work/$setting-session.txt" GATE_URL="$gate"
    measure "$gate/api/content/bench" "$warmup" "$work/$setting-sessions.txt" Payment-Session 1 >/dev/null
    measure "$gate/api/content/bench" "$warmup" "$work/$setting-session.txt" Payment-Session 1 >/dev/null
    warm_paid "$gate/api/content/bench" "$work/$setting-paid.txt" GATE_URL="$gate"
    paid_per_window[$setting]="$(enough "$(measure "$gate/api/content/bench" "$warmup" "$work/$setting-paid.txt")")"
    # The wallets that pay (c)'s windows, funded for all of them; each window's payments are signed later without the gate.
    presign 1 "$work/$setting-paid-setup.txt" GATE_URL="$gate" STATE="$work/$setting-wallets.json" \
        FUND_REQUESTS="$(( paid_per_window[$setting] * (pairs + 1) / WALLETS + 1 ))"
    freeze "$setting"
    [ -z "$breakdown" ] || by_process "$setting"
done

rows="$work/windows.txt"
printf '%-4s %4s %9s %9s %8s   %s\n' "" pair "on req/s" "off req/s" "on÷off" "${groups:+CPU µs per request on, off}"
for scenario in b c d e; do
    for pair in $(seq 0 "$pairs"); do   # pair 0 warms the scenario up and is not counted
        order="$first_order"; [ $((pair % 2)) = 0 ] && order="${first_order#* } ${first_order%% *}"
        declare -A result=()
        for setting in $order; do
            gate="${gate_of[$setting]}"
            case "$scenario" in
                b) result[$setting]="$(window "$setting" "$gate/api/ping" "$duration")" ;;
                c) paid="$work/$setting-paid-window.txt"
                   # Both stacks frozen: the signing (node, outside the groups) takes nothing from either's window.
                   presign "${paid_per_window[$setting]}" "$paid" GATE_URL="$gate" STATE="$work/$setting-wallets.json"
                   result[$setting]="$(window "$setting" "$gate/api/content/bench" "$duration" "$paid")"
                   ! exhausted "${result[$setting]}" "$paid" ||
                       echo "warning: pair $pair's (c) on the $setting stack used all its pre-signed payments: its req/s is understated" >&2 ;;
                d) result[$setting]="$(window "$setting" "$gate/api/content/bench" "$duration" "$work/$setting-sessions.txt" Payment-Session 1)" ;;
                e) result[$setting]="$(window "$setting" "$gate/api/content/bench" "$duration" "$work/$setting-session.txt" Payment-Session 1)" ;;
            esac
        done
        [ "$pair" = 0 ] && continue
        for setting in on off; do
            echo "$scenario $pair $setting ${result[$setting]}" >> "$rows"
            [ -z "$breakdown" ] || awk -v key="$scenario $setting" '{ print key, $0 }' "$work/$setting-window-cpu.txt" >> "$work/processes.txt"
        done
        awk -v s="($scenario)" -v p="$pair" -v on="${result[on]}" -v off="${result[off]}" -v cpu="$groups" 'BEGIN {
            split(on, a, " "); split(off, b, " ")
            line = sprintf("%-4s %4d %9.0f %9.0f %+7.1f%%", s, p, a[1] / a[2], b[1] / b[2], 100 * (a[1] / a[2]) / (b[1] / b[2]) - 100)
            if (cpu) line = line sprintf("   %6.0f %6.0f", a[7] / a[1], b[7] / b[1])
            if (a[5] + a[6] + b[5] + b[6]) line = line sprintf("  (non-2xx, socket errors: on %d, %d; off %d, %d)", a[5], a[6], b[5], b[6])
            print line
        }'
    done
done

echo
# Each pair gives x = ln(on req/s ÷ off req/s) and y = ln(on p99 ÷ off p99); a scenario's on ÷ off is exp(mean x), a ratio's
# (e.g. (e) ÷ (b)) exp(mean x(e) - mean x(b)), their 90% intervals from the spread of the pairs (Student's t, approximated
# as 1.645 + 1.6 / df). The money-path issue's ratios (gate-benchmark.sh): (d) ÷ (b) and (e) ÷ (b) in req/s and in p99
# (lower is better), and (c) ÷ (f), (f) being the peer's paywall, the same program for both settings: its on ÷ off is (c)'s.
awk -v cpu="$groups" '
    function t90(df) { return 1.645 + 1.6 / df }
    function pct(v) { return sprintf("%+.1f%%", 100 * (exp(v) - 1)) }
    function stats(name,   j) {
        mean[name] = 0; var[name] = 0
        for (j = 1; j <= n[substr(name, 2, 1)]; j++) mean[name] += pair[name, j] / n[substr(name, 2, 1)]
        for (j = 1; j <= n[substr(name, 2, 1)]; j++) var[name] += (pair[name, j] - mean[name]) ^ 2 / (n[substr(name, 2, 1)] - 1)
    }
    # A ratio of two measures (den "": one alone); sign -1 when lower is better. Prints it and updates the verdict.
    function rule(label, num, den, sign,   d, h, nn, lo, hi) {
        d = mean[num] - (den == "" ? 0 : mean[den]); nn = n[substr(num, 2, 1)]
        h = t90(nn - 1) * sqrt(var[num] / nn + (den == "" ? 0 : var[den] / n[substr(den, 2, 1)]))
        lo = sign * (exp(d - h) - 1); hi = sign * (exp(d + h) - 1)
        if (sign * (exp(d) - 1) < -0.10) verdict = "MISS"
        if ((lo < -0.10) != (hi < -0.10)) sure = 0
        printf "%-30s %8s %9s .. %-7s\n", label, pct(d), pct(d - h), pct(d + h)
    }
    {
        split($0, f, " "); key = f[1] SUBSEP f[2]
        rps[key, f[3]] = f[4] / f[5]; p99[key, f[3]] = f[7]; req[f[1], f[3]] += f[4]; sec[f[1], f[3]] += f[5]; us[f[1], f[3]] += f[10]
        if (f[3] == "off") {
            n[f[1]]++
            pair["x" f[1], n[f[1]]] = log(rps[key, "on"] / rps[key, "off"])
            pair["y" f[1], n[f[1]]] = log(p99[key, "on"] / p99[key, "off"])
        }
    }
    END {
        split("b c d e", scenario, " ")
        for (i = 1; i <= 4; i++) { stats("x" scenario[i]); stats("y" scenario[i]) }
        printf "%-9s %5s %9s %9s %8s %19s", "scenario", "pairs", "on req/s", "off req/s", "on÷off", "90% interval"
        if (cpu) printf "   %s", "CPU µs per request on, off, on÷off"
        printf "\n"
        for (i = 1; i <= 4; i++) {
            s = scenario[i]; h = t90(n[s] - 1) * sqrt(var["x" s] / n[s])
            printf "(%s)%-6s %5d %9.0f %9.0f %8s %9s .. %-7s", s, "", n[s], req[s, "on"] / sec[s, "on"], req[s, "off"] / sec[s, "off"],
                pct(mean["x" s]), pct(mean["x" s] - h), pct(mean["x" s] + h)
            if (cpu) printf "   %6.0f %6.0f %+7.1f%%", us[s, "on"] / req[s, "on"], us[s, "off"] / req[s, "off"],
                100 * (us[s, "on"] / req[s, "on"]) / (us[s, "off"] / req[s, "off"]) - 100
            printf "\n"
        }
        printf "\n%-30s %8s %19s\n", "ratio, on ÷ off", "", "90% interval"
        verdict = "PASS"; sure = 1
        rule("(c)÷(f) req/s", "xc", "", 1)
        rule("(d)÷(b) req/s", "xd", "xb", 1)
        rule("(e)÷(b) req/s", "xe", "xb", 1)
        rule("(d)÷(b) p99 (lower is better)", "yd", "yb", -1)
        rule("(e)÷(b) p99 (lower is better)", "ye", "yb", -1)
        printf "\nIssue 19 (no ratio worse by more than 10%%): %s (%s)\n", verdict,
            sure ? "every 90% interval on the same side of the line" : "an interval straddles the line: more pairs or runs decide"
    }' "$rows"
if [ -n "$breakdown" ]; then
    echo
    echo "CPU µs per request by process (BREAKDOWN=1): on, off, on - off"
    awk 'NR == FNR { req[$1, $3] += $4; next }
        { us[$1, $2, $3] += $4; names[$3] = 1; scenarios[$1] = 1 }
        END {
            split("b c d e", scenario, " ")
            for (i = 1; i <= 4; i++) {
                s = scenario[i]; if (!(s in scenarios)) continue
                printf "(%s)\n", s; ton = 0; toff = 0
                for (name in names) {
                    on = us[s, "on", name] / req[s, "on"]; off = us[s, "off", name] / req[s, "off"]; ton += on; toff += off
                    if (on >= 1 || off >= 1) printf "  %-16s %7.0f %7.0f %+7.0f\n", name, on, off, on - off
                }
                printf "  %-16s %7.0f %7.0f %+7.0f\n", "all", ton, toff, ton - toff
            }
        }' "$rows" "$work/processes.txt"
fi
echo
running="both stacks"; [ -z "$groups" ] || running="the stack measured (the other frozen)"
echo "$(nproc) cores shared by wrk, node and $running; $connections connections, $pairs pairs of ${duration} s windows per scenario," \
    "$WALLETS paying wallets, $sessions sessions for (d); started first: ${first_order%% *}; commit $(git -C "$repo" rev-parse --short HEAD)."
