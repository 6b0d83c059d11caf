#!/usr/bin/env bash
# The peers' benchmarks in one BenchmarkDotNet run, against this source (job "now") and against an earlier commit's
# (job "before"), each job's ratios against its own baseline (Duende.IdentityModel, IMemoryCache, the bare pipeline).
#   bash bench/before-after.sh [commit] [more BenchmarkDotNet arguments]
# The commit defaults to 7c75e4d, the last before the restructuring of issue "One path for a token".
set -euo pipefail
cd "$(dirname "$0")/.."
commit="${1:-7c75e4d}"
shift || true
tree="$(mktemp -d)"
trap 'rm -rf "$tree"' EXIT
git archive "$commit" | tar -x -C "$tree"
dotnet run -c Release --project bench/TokenClient.Benchmarks -- --baseline "$tree" --filter '*Peer*' --exporters csv markdown "$@"
