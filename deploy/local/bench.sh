#!/usr/bin/env bash
# Runs the BenchmarkDotNet benchmarks in Release and prints their summary tables. Figures, not pass/fail:
# compare them with the targets in the README. Extra arguments go to BenchmarkDotNet (e.g. --filter '*Policy*').
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/../.."
# The ledger benchmark writes through the real path: PostgreSQL must run (into the tests' database).
"$here/up.sh"
# shellcheck source=env.sh
source "$here/env.sh"
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(--filter '*')
dotnet run -c Release --project tests/IntegrationGateway.Benchmarks -- "${args[@]}" --artifacts artifacts/benchmarks
