#!/usr/bin/env bash
# Builds, from Debian's packages and the host's .NET install, local equivalents of the official base images, for a machine
# that reaches no image registry. The Dockerfiles in this folder take them as build arguments (deploy/run.sh passes them):
#
#   sessions-local/debian:bookworm      debootstrap --variant=minbase + what .NET needs (ICU, OpenSSL, CA certificates, tzdata)
#   sessions-local/dotnet-aspnet:10.0   + the shared runtimes (Microsoft.NETCore.App, Microsoft.AspNetCore.App) of the host's
#                                       dotnet, the `app` user (uid 1654) and the variables of mcr.microsoft.com/dotnet/aspnet
#   sessions-local/redis:7              + Debian's redis-server      (stands in for redis:7)
#   sessions-local/postgres:15          + Debian's postgresql-15 and an entrypoint with the official image's contract
#                                       (POSTGRES_PASSWORD, /docker-entrypoint-initdb.d) (stands in for postgres:15)
#   sessions-local/dotnet-sdk:10.0      only with --sdk: + the whole SDK install (for the Dockerfile's source-build stage)
#
# Safe to run again: an image that exists is kept (--rebuild rebuilds them all). Needs root (debootstrap) and a running dockerd.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rebuild=false; with_sdk=false
for arg in "$@"; do
    case "$arg" in
        --rebuild) rebuild=true ;;
        --sdk) with_sdk=true ;;
        *) echo "usage: $0 [--rebuild] [--sdk]" >&2; exit 2 ;;
    esac
done

prefix="${LOCAL_IMAGE_PREFIX:-sessions-local}"
debian_image="$prefix/debian:bookworm"

have_image() { ! $rebuild && docker image inspect "$1" >/dev/null 2>&1; }

# The Debian mirror apt already uses (a deb822 "URIs:" line or a one-line "deb URL" entry), else deb.debian.org.
debian_mirror() {
    local mirror
    mirror="$(grep -hs -m1 -E '^URIs: .*/debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | head -1)"
    [ -n "$mirror" ] || mirror="$(grep -hs -E '^deb .*/debian/? bookworm' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
        | awk '{print $2}' | head -1)"
    echo "${mirror:-http://deb.debian.org/debian}"
}

dotnet_root() {
    local dotnet
    dotnet="$(readlink -f "$(command -v dotnet)")" || { echo "error: dotnet is not on PATH" >&2; exit 1; }
    dirname "$dotnet"
}

build_debian() {
    have_image "$debian_image" && return
    command -v debootstrap >/dev/null 2>&1 || { echo "error: debootstrap is missing (apt-get install -y debootstrap)" >&2; exit 1; }
    local rootfs mirror
    rootfs="$(mktemp -d)"; mirror="$(debian_mirror)"
    echo "==> $debian_image: debootstrap bookworm from $mirror" >&2
    debootstrap --variant=minbase --include=ca-certificates,libicu72,libssl3,tzdata,zlib1g \
        bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || { tail -20 "$rootfs.log" >&2; exit 1; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | docker import --change 'CMD ["bash"]' - "$debian_image" >/dev/null
    rm -rf "$rootfs" "$rootfs.log"
}

# A build context holding only what the Dockerfile copies from the host's dotnet root.
build_dotnet() {
    local image="$1" dockerfile="$2" parts=("${@:3}") context root
    have_image "$image" && return
    root="$(dotnet_root)"; context="$(mktemp -d)"
    mkdir -p "$context/dotnet"
    for part in "${parts[@]}"; do cp -a "$root/$part" "$context/dotnet/"; done
    echo "==> $image: from $root (${parts[*]})" >&2
    docker build -q -f "$here/$dockerfile" --build-arg "BASE_IMAGE=$debian_image" -t "$image" "$context" >/dev/null
    rm -rf "$context"
}

build_from_debian() {
    local image="$1" dockerfile="$2"
    have_image "$image" && return
    echo "==> $image: Debian packages" >&2
    # Host network: apt reaches the Debian mirror the way the host does (no bridge on this daemon).
    docker build -q --network host -f "$here/$dockerfile" --build-arg "BASE_IMAGE=$debian_image" -t "$image" "$here" >/dev/null
}

build_debian
build_dotnet "$prefix/dotnet-aspnet:10.0" local-aspnet.Dockerfile dotnet host shared
build_from_debian "$prefix/redis:7" local-redis.Dockerfile
build_from_debian "$prefix/postgres:15" local-postgres.Dockerfile
if $with_sdk; then
    build_dotnet "$prefix/dotnet-sdk:10.0" local-sdk.Dockerfile dotnet host shared sdk packs sdk-manifests templates
fi
docker image ls "$prefix/*" --format '{{.Repository}}:{{.Tag}}  {{.Size}}'
