#!/usr/bin/env bash
# Writes the deployment files from the app model: the AppHost's Aspire manifest (--publisher manifest) + deploy/deployment.json
# → deploy/compose.yaml, deploy/<server>-init/, deploy/k8s/. Run it after changing AppHost/Program.cs or deployment.json;
# tests/Deploy.Tests fails while the committed files and the app model disagree.
set -euo pipefail
deploy="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$deploy")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A temporary state folder: publishing must not touch the state of a stack run from this clone.
dotnet run --project "$root/AppHost" -- --publisher manifest --output-path "$work/aspire-manifest.json" --state-dir "$work/state" >/dev/null
dotnet run --project "$deploy/Generator" -- "$work/aspire-manifest.json" "$deploy"
