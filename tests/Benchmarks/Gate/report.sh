# The table and the goals of the gate benchmark (sourced by gate-benchmark.sh).
# result[<key>] holds wrk-report.lua's "requests seconds p50_us p99_us non2xx socket_errors" per scenario; label[<key>]
# its name. Ratios are to (b), the gate's free route.

print_table() {   # keys...
    printf '%-46s %9s %8s %8s %8s %10s %8s %8s\n' scenario "req/s" "p50 ms" "p99 ms" "non-2xx" "req/s÷(b)" "p50÷(b)" "p99÷(b)"
    local key
    for key in "$@"; do
        if [ -z "${result[$key]:-}" ]; then
            printf '%-46s %s\n' "${label[$key]}" "not measured: ${skipped[$key]:-}"
            continue
        fi
        echo "${label[$key]}|${result[$key]}|${result[b]}"
    done | awk -F'|' '$2 != "" {
        split($2, r, " "); split($3, b, " ")
        rps = r[1] / r[2]; brps = b[1] / b[2]
        printf "%-46s %9.0f %8.2f %8.2f %8d %10.3f %8.2f %8.2f\n", $1, rps, r[3] / 1000, r[4] / 1000, r[5] + r[6], rps / brps, r[3] / b[3], r[4] / b[4]
    } $2 == "" { print }'
}

# One goal of issue 16: "<name> <value> <op> <target>", PASS or MISS; "not measured" when a scenario is missing.
goal() {   # name key_numerator key_denominator field(rps|p99) op(>=|<=) target
    local name="$1" n="${result[$2]:-}" d="${result[$3]:-}"
    if [ -z "$n" ] || [ -z "$d" ]; then
        printf '  %-52s %8s           not measured\n' "$name" "-"
        return
    fi
    awk -v name="$name" -v n="$n" -v d="$d" -v field="$4" -v op="$5" -v target="$6" 'BEGIN {
        split(n, x, " "); split(d, y, " ")
        value = field == "p99" ? x[4] / y[4] : (x[1] / x[2]) / (y[1] / y[2])
        ok = op == ">=" ? value >= target : value <= target
        printf "  %-52s %8.3f %s %-5s %s\n", name, value, op, target, ok ? "PASS" : "MISS"
    }'
}

print_goals() {
    echo "Goals of issue 16 (a measuring aid, not a test):"
    goal "(d) 16 sessions ÷ (b) free, req/s"               d b rps ">=" 0.6
    goal "(e) one session ÷ (b) free, req/s"               e b rps ">=" 0.4
    goal "(d) 16 sessions p99 ÷ (b) free p99"              d b p99 "<=" 3
    goal "(e) one session p99 ÷ (b) free p99"              e b p99 "<=" 3
    goal "(c) paid x402 ÷ (f) peer paid, req/s"            c f rps ">=" 2
    goal "(h) paid x402, instant fac. ÷ (f) peer paid"     h f rps ">=" 3
    local key
    for key in a b c d e f g h; do
        [ -n "${result[$key]:-}" ] || continue
        read -r requests _ _ _ non2xx errors <<<"${result[$key]}"
        [ "$((non2xx + errors))" = 0 ] || echo "  note: ${label[$key]%% *} had $((non2xx + errors)) of $requests requests not served (non-2xx or socket errors): its req/s counts them"
    done
}
