#!/usr/bin/env bash
# README command 1: install what is missing, then start the whole stack (Ctrl+C stops it).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=AppHost/prerequisites.sh
source "$repo/AppHost/prerequisites.sh"
install_prerequisites
cd "$repo"
exec dotnet run --project AppHost -- "$@"
