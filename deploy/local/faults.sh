#!/usr/bin/env bash
# The fault suite in full: every scenario of the fault tier (tests/IntegrationGateway.IntegrationTests/Faults) over
# 10,000 fresh events each (or N: `faults.sh 2000`), against the local services (started if they are not), in
# Release. Writes artifacts/faults/report.md (one row per scenario) and prints it; exits non-zero if any scenario lost
# an event, took effect twice, left the ledger unverifiable or was noisy. About 20 minutes for the full form on
# 2 cores. CI runs the same scenarios with a few hundred events (IG_FAULT_EVENTS unset).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/env.sh"
cd "$IG_ROOT"

events="${1:-10000}"
[[ "$events" =~ ^[0-9]+$ ]] && [ "$events" -gt 0 ] || die "usage: $0 [events per scenario, default 10000]"

"$here/up.sh"
rm -rf artifacts/faults
mkdir -p artifacts/faults
log "fault suite: $events events per scenario; progress below, one line per scenario as it ends"
status=0
IG_FAULT_EVENTS="$events" dotnet test tests/IntegrationGateway.IntegrationTests -c Release --nologo \
  --filter "Tier=Fault" --logger "console;verbosity=normal" || status=$?
if [ -f artifacts/faults/report.md ]; then
  cat artifacts/faults/report.md
else
  log "no report was written"; status=1
fi
exit "$status"
