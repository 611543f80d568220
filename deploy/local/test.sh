#!/usr/bin/env bash
# The README's test command. On a fresh machine with the .NET SDK it installs and starts RabbitMQ and
# PostgreSQL (deploy/local/up.sh), restores and builds the solution, and runs every test project against the
# real services. Ends with one line "N passed, N failed" over all projects; exits non-zero on any failure, and
# when no test ran at all.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/env.sh"
cd "$IG_ROOT"

# Whatever stops this script, its last line counts the tests: a set-up or build failure is a failure too.
passed=0; failed=0; total=0; broken=0; summarised=0; failures=()
trap '[ "$summarised" = 1 ] || echo "$passed passed, $((failed > 0 ? failed : 1)) failed"' EXIT

IG_WITH_BROWSER=1 "$here/up.sh"

results="$IG_ROOT/artifacts/test-results"
rm -rf "$results"; mkdir -p "$results"

log "restoring and building (warnings are errors)"
dotnet restore IntegrationGateway.sln --nologo -v q
dotnet build IntegrationGateway.sln --no-restore --nologo -v q -clp:ErrorsOnly
# Supply chain: a package with a known high or critical vulnerability fails the run (where the sources know).
"$here/vulnerable-packages.sh" --self-test && "$here/vulnerable-packages.sh" || broken=1
# The Kubernetes manifests, checked offline against their schemas (its self-test first: broken ones must be refused).
# It needs Node.js 20 and the npm registry (this machine's kind has both); its findings are printed whole when it fails.
log "validating deploy/kubernetes"
mkdir -p "$IG_ROOT/.local/log"
for mode in --self-test ""; do
  if bash "$IG_ROOT/deploy/kubernetes/validate.sh" $mode >"$IG_ROOT/.local/log/kubernetes-validate.log" 2>&1; then
    tail -n 1 "$IG_ROOT/.local/log/kubernetes-validate.log"
  else
    cat "$IG_ROOT/.local/log/kubernetes-validate.log"; log "FAILED deploy/kubernetes/validate.sh $mode"; broken=1
  fi
done

for project in tests/*/*.csproj; do
  grep -q '<IsTestProject>true</IsTestProject>' "$project" || continue
  name="$(basename "$project" .csproj)"
  log "testing $name"
  if ! dotnet test "$project" --no-build --nologo \
      --results-directory "$results" \
      --logger "trx;LogFileName=$name.trx" \
      --logger "console;verbosity=detailed"; then
    broken=1
  fi
  trx="$results/$name.trx"
  if [ ! -f "$trx" ]; then
    log "$name produced no results"; broken=1; continue
  fi
  counters="$(grep -o '<Counters [^>]*>' "$trx")"
  attr() { printf '%s' "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  p="$(attr passed)"; f="$(attr failed)"; t="$(attr total)"
  # Errors and time-outs are failures too; TRX counts them apart.
  e="$(( $(attr error) + $(attr timeout) + $(attr aborted) ))"
  passed=$((passed + p)); failed=$((failed + f + e)); total=$((total + t))
  log "$name: $p passed, $((f + e)) failed, $t total"
  # The names of what failed, kept for the end of the run, where a reader of the log's tail looks first.
  while IFS= read -r test; do failures+=("$name: $test"); done < <(
    grep -o '<UnitTestResult [^>]*outcome="\(Failed\|Error\|Timeout\|Aborted\)"[^>]*>' "$trx" |
      sed -n 's/.* testName="\([^"]*\)".*/\1/p')
done

if [ "$total" -eq 0 ]; then
  log "no test ran"; broken=1
fi
if [ $((total - passed - failed)) -gt 0 ]; then
  log "$((total - passed - failed)) test(s) neither passed nor failed (skipped?): that is not allowed here"; broken=1
fi
for test in "${failures[@]}"; do log "FAILED $test"; done
summarised=1
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$broken" -eq 0 ]
