# Load generation for the gate benchmarks (sourced by gate-benchmark.sh and receipts-benchmark.sh): wrk with the reporting
# script, and the pre-signed payments and prepaid sessions it replays. Uses $here (this folder), $peer_dir, $work (a
# folder of the run), $threads, $connections, $duration and $warmup; link_signers first.
#   install_load_prerequisites                                     wrk, node, the peer's packages (npm ci)
#   measure <url> <seconds> [headers file [header name [cycle]]]   prints "requests seconds p50_us p99_us non2xx socket_errors"
#   presign <count> <file> [NAME=value...]                          fresh payments (GATE_URL=... or PAY_URL=...; STATE=...: presign.mjs)
#   open_sessions <count> <requests> <file> GATE_URL=...           prepaid sessions' tokens, each funded for <requests>
#   warm_paid <url> <file> [NAME=value...]                          warm-up with fresh payments, then enough for a run in <file>
#   enough, exhausted                                               (see below)

install_load_prerequisites() {
    command -v wrk >/dev/null 2>&1 || prereq_apt_install wrk
    install_node_prerequisites
    if [ ! -e "$peer_dir/node_modules/.package-lock.json" ] || [ "$peer_dir/package-lock.json" -nt "$peer_dir/node_modules/.package-lock.json" ]; then
        (cd "$peer_dir" && npm ci --no-audit --no-fund --loglevel=error) >&2
    fi
}

measure() {   # url seconds [headers file [header name [cycle]]]
    local out
    out="$(HEADERS_FILE="${3:-}" HEADER_NAME="${4:-}" CYCLE="${5:-}" WRK_THREADS="$threads" \
        wrk -t"$threads" -c"$connections" -d"$2"s --timeout 10s -s "$here/wrk-report.lua" "$1" 2>&1)" || { echo "$out" >&2; return 1; }
    echo "$out" | grep '^RESULT ' | cut -d' ' -f2- || { echo "$out" >&2; return 1; }
}
# ES modules ignore NODE_PATH: the signers run from the work folder, next to a link to the peer's packages.
link_signers() {
    ln -s "$peer_dir/node_modules" "$work/node_modules"
    cp "$here/presign.mjs" "$here/open-sessions.mjs" "$work/"
}
presign() {   # count file [NAME=value...]: payments for the gate's paid route (GATE_URL=...) or a PAY_URL
    local count="$1" file="$2"
    shift 2
    (cd "$work" && env COUNT="$count" OUT="$file" CONTENT_KEY=bench "$@" node presign.mjs) >&2
}
open_sessions() {   # count requests file GATE_URL=...
    local count="$1" requests="$2" file="$3"
    shift 3
    (cd "$work" && env COUNT="$count" REQUESTS="$requests" OUT="$file" "$@" node open-sessions.mjs) >&2
}
# Enough payments for a measured run: 1.5x the warm-up rate (a run that runs out would understate req/s).
enough() {   # "requests seconds ..." of a warm-up
    awk -v w="$1" -v d="$duration" 'BEGIN { split(w, x, " "); n = int(x[1] / x[2] * d * 1.5) + 200; print (n < 1000 ? 1000 : n) }'
}
# A run that ran out of pre-signed payments: wrk stops the thread but still divides by the whole duration, so its
# req/s is the supply, not the server (its last payments may still be in flight when the thread stops: a margin).
exhausted() {   # "requests seconds ..." file
    [ "${1%% *}" -ge "$(( $(grep -c . "$2") - 2 * connections ))" ]
}
# Warm-up of a paid route with fresh payments, then enough payments for its measured run in <file>. The warm-up's own
# supply (800/s) is above what a paid route reaches on this machine, or its rate (and so the run's supply) is understated.
warm_paid() {   # url file [NAME=value...]
    local url="$1" file="$2" warm
    shift 2
    presign "$((warmup * 800))" "$work/warm.txt" "$@"
    warm="$(measure "$url" "$warmup" "$work/warm.txt")"
    read -r w_requests _ _ _ w_non2xx _ <<<"$warm"
    [ "$w_non2xx" = 0 ] || echo "warning: $w_non2xx of $w_requests warm-up payments to $url were not served" >&2
    ! exhausted "$warm" "$work/warm.txt" || echo "warning: the warm-up of $url used all its pre-signed payments" >&2
    presign "$(enough "$warm")" "$file" "$@"
}
