#!/usr/bin/env bash
# Installs what the stack and the tests need on a fresh Debian machine, or says what to install.
# Sourced by AppHost/run.sh and tests/run.sh; safe to run again (it only installs what is missing).
set -euo pipefail

prereq_fail() {
    echo "error: $*" >&2
    exit 1
}

prereq_apt_install() {
    local packages=("$@")
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq
            sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}"
            return
        fi
        prereq_fail "missing ${packages[*]}. Install with: sudo apt-get install -y ${packages[*]}"
    fi
    command -v apt-get >/dev/null 2>&1 || prereq_fail "missing ${packages[*]} and apt-get is not available: install them with your package manager."
    echo "Installing ${packages[*]} with apt-get..." >&2
    if [ -z "${PREREQ_APT_UPDATED:-}" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq || prereq_fail "apt-get update failed"
        PREREQ_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null \
        || prereq_fail "apt-get install ${packages[*]} failed"
}

prereq_has_postgres() {
    command -v initdb >/dev/null 2>&1 && return 0
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

install_prerequisites() {
    command -v dotnet >/dev/null 2>&1 || prereq_fail "the .NET SDK is missing: install .NET SDK 10.0 (https://dot.net)."
    dotnet --list-sdks | grep -q '^10\.' || prereq_fail "the .NET 10 SDK is missing (found: $(dotnet --list-sdks | tr '\n' ' ')). Install .NET SDK 10.0."

    local missing=()
    command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
    prereq_has_postgres || missing+=(postgresql)
    # setpriv (util-linux) runs postgres as the postgres user when we are root.
    command -v setpriv >/dev/null 2>&1 || missing+=(util-linux)
    if [ "${#missing[@]}" -gt 0 ]; then
        prereq_apt_install "${missing[@]}"
        # The Debian packages may start system-wide servers; the project runs its own on free ports.
        command -v pg_ctlcluster >/dev/null 2>&1 && for c in /etc/postgresql/*/main; do
            [ -d "$c" ] && pg_ctlcluster "$(basename "$(dirname "$c")")" main stop >/dev/null 2>&1 || true
        done
        pkill -x redis-server >/dev/null 2>&1 || true
    fi
    command -v redis-server >/dev/null 2>&1 || prereq_fail "redis-server is still missing after install."
    prereq_has_postgres || prereq_fail "PostgreSQL server binaries (initdb, postgres) are still missing after install."
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || prereq_fail "running as root needs the 'postgres' system user (created by: apt-get install -y postgresql)."
    fi
}

# Node.js and npm run the interop tests with the official JavaScript clients.
install_node_prerequisites() {
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        prereq_apt_install nodejs npm
    fi
    local major
    major="$(node -p 'process.versions.node.split(".")[0]')"
    [ "$major" -ge 20 ] || prereq_fail "Node.js >= 20 is needed for the interop tests (found $(node --version))."
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    install_prerequisites
    echo "Prerequisites are installed."
fi
