#!/usr/bin/env bash
# The reference deployment, run for real on this machine (see deploy/README.md):
#
#   bash deploy/run.sh up          # docker + images + the stack of deploy/compose.yaml; waits until every container is healthy
#   bash deploy/run.sh smoke       # the official clients of tests/Interop against the gate on http://localhost:8402, then data-test
#   bash deploy/run.sh data-test   # a session survives a restart of the Postgres container with its balance
#   bash deploy/run.sh down        # removes the containers (volumes kept; --volumes drops them) and stops the dockerd `up` started
#   bash deploy/run.sh status      # the containers and their health
set -euo pipefail

deploy="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$deploy")"
state="$deploy/.state"
# shellcheck source=../AppHost/prerequisites.sh
source "$root/AppHost/prerequisites.sh"

# Loopback ports (host networking): compose.yaml's defaults (deploy/deployment.json), the gate's the documented one.
export PAYMENTGATE_PORT="${PAYMENTGATE_PORT:-8402}" SESSIONAPI_PORT="${SESSIONAPI_PORT:-15101}" VAULTAPI_PORT="${VAULTAPI_PORT:-15102}" \
    MCPSERVER_PORT="${MCPSERVER_PORT:-15103}" REDIS_PORT="${REDIS_PORT:-16379}" POSTGRES_PORT="${POSTGRES_PORT:-15432}"
export IMAGE_PREFIX="${IMAGE_PREFIX:-sessions}" IMAGE_TAG="${IMAGE_TAG:-latest}"
services=(PaymentGate SessionApi VaultApi McpServer)
gate="http://localhost:$PAYMENTGATE_PORT"

log() { echo "==> $*" >&2; }
fail() { echo "error: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# --- Docker ---------------------------------------------------------------------------------------------------------

compose=()
# Installs and starts what `up` needs; the other commands only use a daemon that answers (require_docker).
ensure_docker() {
    command -v dockerd >/dev/null 2>&1 || prereq_apt_install docker.io
    command -v docker >/dev/null 2>&1 || fail "the docker CLI is still missing after installing docker.io"
    if ! docker info >/dev/null 2>&1; then
        [ "$(id -u)" -eq 0 ] || fail "no Docker daemon answers and starting one needs root"
        mkdir -p "$state"
        log "starting dockerd (no bridge, no iptables: containers use the host network)"
        setsid dockerd --bridge=none --iptables=false --ip-masq=false >"$state/dockerd.log" 2>&1 < /dev/null &
        echo $! > "$state/dockerd.pid"
        for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
        docker info >/dev/null 2>&1 || { tail -20 "$state/dockerd.log" >&2; fail "dockerd did not start"; }
    fi
    require_docker
}

require_docker() {
    docker info >/dev/null 2>&1 || fail "no Docker daemon answers: the stack is not up (bash deploy/run.sh up)"
    if docker compose version >/dev/null 2>&1; then
        compose=(docker compose)
    else
        command -v docker-compose >/dev/null 2>&1 || prereq_apt_install docker-compose
        compose=(docker-compose)
    fi
    compose+=(-p sessions -f "$deploy/compose.yaml" --env-file "$state/compose.env")
}

# Official images when they are here or can be pulled; otherwise the local ones of deploy/images/build-local-bases.sh.
# BASE_IMAGES=official|local forces the choice.
choose_base_images() {
    local choice="${BASE_IMAGES:-auto}"
    if [ "$choice" = auto ]; then
        choice=local
        if docker image inspect mcr.microsoft.com/dotnet/aspnet:10.0 >/dev/null 2>&1 \
            || timeout 20 docker pull -q mcr.microsoft.com/dotnet/aspnet:10.0 >/dev/null 2>&1; then
            choice=official
        fi
    fi
    if [ "$choice" = local ]; then
        command -v debootstrap >/dev/null 2>&1 || prereq_apt_install debootstrap
        bash "$deploy/images/build-local-bases.sh" >/dev/null
        RUNTIME_IMAGE=sessions-local/dotnet-aspnet:10.0 REDIS_IMAGE=sessions-local/redis:7 POSTGRES_IMAGE=sessions-local/postgres:15
    else
        # Empty: compose.yaml's defaults, the images the AppHost's model names (redis, postgres from docker.io).
        RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0 REDIS_IMAGE="" POSTGRES_IMAGE=""
    fi
    log "base images: $choice ($RUNTIME_IMAGE, ${REDIS_IMAGE:-redis of the model}, ${POSTGRES_IMAGE:-postgres of the model})"
}

# --- Images ---------------------------------------------------------------------------------------------------------

# `dotnet publish` on the host (the restore uses the host's NuGet feed and cache), then the Dockerfile's `prebuilt` target.
build_images() {
    local service image started
    for service in "${services[@]}"; do
        image="$IMAGE_PREFIX/${service,,}:$IMAGE_TAG"
        started="$(now)"
        rm -rf "$deploy/.publish/$service"
        dotnet publish "$root/$service/$service.csproj" -c Release -o "$deploy/.publish/$service" -p:UseAppHost=false \
            -nologo -v q -clp:NoSummary >&2
        docker build -q -f "$deploy/images/Dockerfile" --target prebuilt --build-arg "SERVICE=$service" \
            --build-arg "RUNTIME_IMAGE=$RUNTIME_IMAGE" --label sessions.deploy=service -t "$image" "$root" 2>&1 >/dev/null | grep -v -i -e deprecated -e buildx -e '^ *$' >&2 || true
        docker image inspect "$image" >/dev/null 2>&1 || fail "image $image was not built"
        log "$image built in $(since "$started") s ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"
    done
    # The images these tags pointed at before this build.
    docker image prune -f --filter label=sessions.deploy=service >/dev/null
}

# --- Secrets and environment ----------------------------------------------------------------------------------------

secret() { openssl rand -hex 24; }

# Every parameter compose.yaml requires (${NAME:?...}: the AppHost's parameters, generated passwords and keys) is generated
# once into deploy/.state/parameters.env (the data volumes were initialised with these passwords) and handed to compose
# with the ports and images in deploy/.state/compose.env (mode 600). Nothing secret is in compose.yaml or an image.
write_environment() {
    mkdir -p "$state"; chmod 700 "$state"
    local volumes
    volumes="$(data_volumes)"
    if [ -n "$volumes" ] && [ "$volumes" != "$(cat "$state/volumes" 2>/dev/null)" ]; then
        fail "data volumes exist that this clone's 'up' did not create (their passwords are not in deploy/.state/parameters.env):
       remove them with 'bash deploy/run.sh down --volumes', or run from the clone that made them"
    fi
    (umask 077; touch "$state/parameters.env")
    local name
    for name in $(grep -o '\${[A-Z0-9_]*:?' "$deploy/compose.yaml" | sed 's/^\${//; s/:?$//' | sort -u); do
        grep -q "^$name=" "$state/parameters.env" || echo "$name=$(secret)" >> "$state/parameters.env"
    done
    (umask 077; {
        cat "$state/parameters.env"
        for name in PAYMENTGATE_PORT SESSIONAPI_PORT VAULTAPI_PORT MCPSERVER_PORT REDIS_PORT POSTGRES_PORT IMAGE_PREFIX IMAGE_TAG \
            REDIS_IMAGE POSTGRES_IMAGE; do
            echo "$name=${!name}"
        done
        echo "OTEL_EXPORTER_OTLP_ENDPOINT=${OTEL_EXPORTER_OTLP_ENDPOINT:-}"
    } > "$state/compose.env")
}

# The project's volumes and when each was made: what deploy/.state/volumes records after `up`, to match them with these secrets.
data_volumes() {
    docker volume ls -q --filter label=com.docker.compose.project=sessions | sort \
        | xargs -r docker volume inspect -f '{{.Name}} {{.CreatedAt}}'
}

# A value of deploy/.state/parameters.env (e.g. POSTGRES_PASSWORD for the smoke test's SQL).
parameter() { sed -n "s/^$1=//p" "$state/parameters.env"; }

# --- Stack ----------------------------------------------------------------------------------------------------------

container_names() { docker ps -a --filter label=com.docker.compose.project=sessions --format '{{.Names}}'; }

# Healthy = every container of the project reports "healthy" (their HEALTHCHECKs) and the gate answers /health with 200.
wait_healthy() {
    local timeout="$1" deadline=$(( $(date +%s) + $1 )) name status unhealthy
    while :; do
        unhealthy=""
        for name in $(container_names); do
            status="$(docker inspect -f '{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$name")"
            case "$status" in
                running/healthy) ;;
                exited/*|dead/*) docker logs --tail 30 "$name" >&2 || true; fail "$name stopped ($status)" ;;
                *) unhealthy+=" $name:$status" ;;
            esac
        done
        if [ -z "$unhealthy" ] && [ -n "$(container_names)" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "$gate/health")" = 200 ]; then
            return 0
        fi
        [ "$(date +%s)" -lt "$deadline" ] || fail "not healthy after ${timeout}s:$unhealthy"
        sleep 1
    done
}

ports_free() {
    local port busy=""
    for port in "$PAYMENTGATE_PORT" "$SESSIONAPI_PORT" "$VAULTAPI_PORT" "$MCPSERVER_PORT" "$REDIS_PORT" "$POSTGRES_PORT"; do
        ss -Hltn "sport = :$port" | grep -q . && busy+=" $port"
    done
    [ -z "$busy" ] || fail "ports in use on this host:$busy (another stack running? set PAYMENTGATE_PORT etc. or stop it)"
}

cmd_up() {
    local started
    started="$(now)"
    ensure_docker
    if [ -n "$(container_names)" ]; then log "the stack is already up"; wait_healthy 120; return; fi
    ports_free
    choose_base_images
    write_environment
    build_images
    log "prepared (docker, base images, images) in $(since "$started") s"
    started="$(now)"
    "${compose[@]}" up -d --no-build 2>&1 | grep -v -e '^Creating' -e '^$' >&2 || true
    data_volumes > "$state/volumes"
    wait_healthy 180
    log "the stack is up and healthy in $(since "$started") s: $gate"
}

cmd_down() {
    local volumes=()
    [ "${1:-}" = --volumes ] && volumes=(--volumes)
    if docker info >/dev/null 2>&1 && [ -s "$state/compose.env" ]; then
        require_docker
        "${compose[@]}" down --remove-orphans "${volumes[@]}" 2>&1 | grep -v -e '^Removing' -e '^Stopping' -e '^$' >&2 || true
    fi
    if docker info >/dev/null 2>&1 && [ -n "$(container_names)" ]; then
        # Without compose.env (a removed .state/) compose cannot read its file: remove the project's containers directly.
        docker rm -f $(container_names) >/dev/null
        [ -z "${volumes[*]}" ] || docker volume rm $(docker volume ls -q --filter label=com.docker.compose.project=sessions) >/dev/null 2>&1 || true
    fi
    # The daemon `up` started (and its containerd) goes too: nothing keeps running after `down`.
    if [ -f "$state/dockerd.pid" ]; then
        local pid
        pid="$(cat "$state/dockerd.pid")"
        if kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then
            kill -TERM "$pid"
            for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
            kill -0 "$pid" 2>/dev/null && fail "dockerd ($pid) did not stop"
            log "dockerd stopped"
        fi
        rm -f "$state/dockerd.pid"
    fi
    log "down"
}

cmd_status() {
    require_docker
    docker ps -a --filter label=com.docker.compose.project=sessions --format 'table {{.Names}}\t{{.Status}}\t{{.Image}}'
}

case "${1:-}" in
    up) cmd_up ;;
    down) shift; cmd_down "$@" ;;
    smoke|data-test) source "$deploy/smoke.sh"; require_docker; "cmd_${1//-/_}" ;;
    status) cmd_status ;;
    *) echo "usage: $0 up|smoke|data-test|down [--volumes]|status" >&2; exit 2 ;;
esac
