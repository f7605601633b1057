#!/bin/bash
# The image's HEALTHCHECK: GET <path> (default /health) on the service's own port, healthy on 200. The .NET runtime images
# have neither curl nor wget, so it speaks HTTP/1.0 over bash's /dev/tcp. The port is HEALTHCHECK_PORT, else the first
# port of ASPNETCORE_URLS, else ASPNETCORE_HTTP_PORTS, else 8080.
path="${1:-/health}"
port="${HEALTHCHECK_PORT:-}"
if [ -z "$port" ] && [ -n "${ASPNETCORE_URLS:-}" ]; then
    url="${ASPNETCORE_URLS%%;*}"; url="${url#*://}"; url="${url%%/*}"
    [[ "$url" == *:* ]] && port="${url##*:}"
fi
port="${port:-${ASPNETCORE_HTTP_PORTS:-8080}}"; port="${port%%[;,]*}"
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$path" >&3
read -r -t 3 _ status _ <&3 || exit 1
[ "$status" = 200 ]
