#!/usr/bin/env bash
# The security suite: every Tier=Security test, against the running services (started if they are not): forged proxy
# headers, CSRF, open redirects on sign-in, sign-in without a second factor (local and through an OpenID Connect
# provider), guessed and replayed codes, a redirecting recipient, oversized answers and messages, plain AMQP to a
# remote-looking host, certificates from another CA, a local user reaching PostgreSQL or the broker's store, a
# production start with development settings, made-up events outside Development, a tampered audit. Each attempt
# prints "attack: ...". Ends with "N attacks refused, M accepted": M counts the tests that failed (an attack that got
# through, or could not be tried); exits non-zero unless M is 0. The log and TRX go to artifacts/security/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/env.sh"
cd "$IG_ROOT"

IG_WITH_BROWSER=1 "$here/up.sh"
log "building"
dotnet build IntegrationGateway.sln --nologo -v q -clp:ErrorsOnly
out="$IG_ROOT/artifacts/security"
rm -rf "$out"; mkdir -p "$out"
dotnet test tests/IntegrationGateway.IntegrationTests --no-build --nologo --filter "Tier=Security" \
  --results-directory "$out" --logger "trx;LogFileName=security.trx" --logger "console;verbosity=detailed" >"$out/security.log" 2>&1 || true

grep -E '^\s*attack: ' "$out/security.log" | sed -E 's/^\s*//' | sort | uniq -c | sed -E 's/^ *([0-9]+) /  \1 × /' || true
counters="$(grep -o '<Counters [^>]*>' "$out/security.trx" 2>/dev/null || true)"
attr() { printf '%s' "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
total="$(attr total)"; failed="$(( $(attr failed) + $(attr error) + $(attr timeout) + $(attr aborted) ))"
[ -n "$total" ] && [ "$total" -gt 0 ] || { log "no security test ran; see $out/security.log"; echo "0 attacks refused, 1 accepted"; exit 1; }
refused="$(grep -cE '^\s*attack: ' "$out/security.log" || true)"
log "$total security tests, $failed failed; log: $out/security.log"
echo "$refused attacks refused, $failed accepted"
[ "$failed" -eq 0 ]
