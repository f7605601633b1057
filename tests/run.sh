#!/usr/bin/env bash
# README command 2: install what is missing, build, run every test assembly against real Redis and
# PostgreSQL processes (the tests start and stop their own), and print one closing line:
#   N passed, N failed[, N skipped]
# The exit code is dotnet test's (non-zero when a test fails or a test host crashes).
# Extra arguments go to `dotnet test` (e.g. --filter "FullyQualifiedName~Redis").
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
# shellcheck source=AppHost/prerequisites.sh
source "$repo/AppHost/prerequisites.sh"
install_prerequisites || exit 1
set +e

# The interop tests (tests/Interop.Tests) run the official x402 JavaScript clients from tests/Interop. Without
# Node.js/npm they FAIL with the reason (never skipped); the rest of the run goes on.
if ( install_node_prerequisites ); then
    interop="$repo/tests/Interop"
    # npm ci wipes node_modules: only when the lock file is newer than the last install.
    if [ ! -e "$interop/node_modules/.package-lock.json" ] || [ "$interop/package-lock.json" -nt "$interop/node_modules/.package-lock.json" ]; then
        echo "== npm ci (tests/Interop)" >&2
        (cd "$interop" && npm ci --no-audit --no-fund --loglevel=error) >&2 \
            || echo "warning: npm ci failed in tests/Interop: the interop tests will fail." >&2
    fi
else
    echo "warning: Node.js >= 20 and npm are not available: the interop tests will fail (install nodejs and npm)." >&2
fi

# Everything a run creates (database folders, pid files, results) lives here and is removed at the end.
run_root="$(mktemp -d "${TMPDIR:-/tmp}/sessions-tests.XXXXXX")"
chmod 755 "$run_root"   # the postgres user must reach its data folder
export SESSIONS_TEST_ROOT="$run_root/data"
export SESSIONS_PROCESS_REGISTRY="$run_root/processes"
results="$run_root/results"
mkdir -p "$SESSIONS_TEST_ROOT" "$results"
chmod 755 "$SESSIONS_TEST_ROOT"

# Stops every server a test host started, even when the host crashed or was killed: each child has a
# pid file (pid, name, start time); the start time guards against a recycled pid.
stop_leftover_servers() {
    local file pid start now
    for file in "$SESSIONS_PROCESS_REGISTRY"/*/*.pid; do
        [ -e "$file" ] || continue
        pid="$(sed -n 1p "$file")"
        start="$(sed -n 3p "$file")"
        if [ -r "/proc/$pid/stat" ]; then
            now="$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f20)"
            if [ "$now" = "$start" ]; then
                echo "stopping leftover $(sed -n 2p "$file") (pid $pid)" >&2
                kill -9 "$pid" 2>/dev/null
            fi
        fi
    done
}
# The stacks AppHost.Tests and Interop.Tests start run under DCP (Aspire's orchestrator), which stops them when the test
# host disposes them, or reaps them on its own within ~20 s when a test host died: wait for that, then kill what is left.
# Their state folders (and so their command lines) are under $run_root.
stop_leftover_stacks() {
    local waited=0
    while pgrep -f "$run_root" >/dev/null && [ $waited -lt 30 ]; do sleep 1; waited=$((waited + 1)); done
    pgrep -af "$run_root" | while read -r pid command; do
        echo "stopping leftover ${command%% *} (pid $pid)" >&2
        kill -9 "$pid" 2>/dev/null
    done
}
cleanup() {
    stop_leftover_servers
    stop_leftover_stacks
    rm -rf "$run_root"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== build" >&2
dotnet build Sessions.sln -nologo -v q -clp:NoSummary
build_rc=$?
if [ $build_rc -ne 0 ]; then
    echo "error: the build failed; no test was run." >&2
    echo "0 passed, 0 failed"
    exit $build_rc
fi

echo "== test" >&2
# One test assembly at a time (-m:1): two of them start the whole stack, and the timing tests of the Redis
# client must not compete with them for the machine's 2 cores.
SESSIONS_TEST_RESULTS="$results" dotnet test Sessions.sln --no-build -nologo -m:1 \
    --logger "trx" --blame-hang-timeout 10m "$@"
test_rc=$?

# Sum the counters of every TRX file (one per test assembly).
passed=0; failed=0; skipped=0
for trx in "$results"/*/*.trx; do
    [ -e "$trx" ] || continue
    counters="$(grep -o '<Counters [^>]*>' "$trx" | head -1)"
    attr() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
    passed=$((passed + $(attr passed)))
    failed=$((failed + $(attr failed) + $(attr error) + $(attr timeout) + $(attr aborted)))
    skipped=$((skipped + $(attr total) - $(attr executed)))   # skipped tests are not executed
done
if [ $test_rc -ne 0 ] && [ $failed -eq 0 ]; then
    echo "error: dotnet test exited with $test_rc without a failed test (a test host crashed or no results were written)." >&2
fi
echo "$passed passed, $failed failed, $skipped skipped"
exit $test_rc
