# The stack the gate benchmark measures, started from the AppHost: the one place that knows how (sourced by
# gate-benchmark.sh; swap these functions when the AppHost changes).
#   build_stack                          Release build of the AppHost and everything it runs
#   start_stack <folder> [NAME=value...] a fresh stack (state in <folder>, free ports; NAME=value reach every service's
#                                        environment, e.g. Facilitator__Url=...); sets stack_pid, gate and upstream (URLs);
#                                        with STACK_CGROUP set, the stack runs in that control group (cgroup.sh)
#   stop_stack                           stops the started stack (SIGTERM: the AppHost stops its children), if any
# Uses $repo; EPHEMERAL=1 starts Postgres without fsync (as the tests do).
stack_pid=""

build_stack() {
    install_prerequisites
    echo "== build (Release)" >&2
    dotnet build "$repo/AppHost/AppHost.csproj" -c Release -nologo -v q -clp:NoSummary >&2
}

start_stack() {   # folder [NAME=value...]
    local folder="$1" log="$1/apphost.log"
    shift
    mkdir -p "$folder"
    echo "== starting the stack (state in $folder${*:+, $*})" >&2
    # The AppHost itself (not `dotnet run`), so SIGTERM reaches it and it stops its children; they inherit its environment.
    # Without the launch profile it needs the profile's dashboard settings (http, no dev certificate), on ports of its own.
    local dashboard_ports
    dashboard_ports=($(shuf -i 40000-49999 -n 3))
    (cd "$repo/AppHost" && { [ -z "${STACK_CGROUP:-}" ] || stack_cgroup_join "$STACK_CGROUP"; } && exec env ASPNETCORE_ENVIRONMENT=Development DOTNET_ENVIRONMENT=Development ASPIRE_ALLOW_UNSECURED_TRANSPORT=true \
        ASPNETCORE_URLS="http://localhost:${dashboard_ports[0]}" \
        ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL="http://localhost:${dashboard_ports[1]}" \
        ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL="http://localhost:${dashboard_ports[2]}" \
        "$@" dotnet "bin/Release/net10.0/AppHost.dll" --state-dir "$folder/state" --randomize-ports \
        ${EPHEMERAL:+--AppHost:EphemeralState=true}) >"$log" 2>&1 &
    stack_pid=$!
    for _ in $(seq 360); do
        grep -q "Stack is up" "$log" && break
        kill -0 "$stack_pid" 2>/dev/null || { tail -40 "$log" >&2; echo "error: the AppHost exited" >&2; exit 1; }
        sleep 0.5
    done
    grep -q "Stack is up" "$log" || { tail -40 "$log" >&2; echo "error: the stack did not come up in 180 s" >&2; exit 1; }
    # The resource table: "  <name>  Project  Running  Healthy  http://localhost:<port>  <pid>".
    gate="$(grep -E "^\s+paymentgate\s+Project\s" "$log" | tail -1 | grep -oE 'https?://[^ ]+')"
    upstream="$(grep -E "^\s+mcpserver\s+Project\s" "$log" | tail -1 | grep -oE 'https?://[^ ]+')"
    echo "== stack up: gate $gate, upstream (mcpserver) $upstream" >&2
}

stop_stack() {
    if [ -n "$stack_pid" ] && kill -0 "$stack_pid" 2>/dev/null; then
        echo "== stopping the stack" >&2
        kill -TERM "$stack_pid" 2>/dev/null || true
        wait "$stack_pid" 2>/dev/null || true
    fi
    stack_pid=""
}
