#!/usr/bin/env bash
# The security suite: every Tier=Security test, against the running services (started if they are not): forged proxy
# headers, CSRF, open redirects on sign-in, sign-in without a second factor (local and through an OpenID Connect
# provider), guessed and replayed codes, a redirecting recipient, oversized answers and messages, plain AMQP to a
# remote-looking host, certificates from another CA, a local user reaching PostgreSQL or the broker's store, a
# production start with development settings, made-up events outside Development, a tampered audit. Each attempt
# prints "attack: ..."; those of the tests that passed count as refused. Ends with "N attacks refused, M accepted": M
# counts the tests that failed (an attack that got through, or could not be tried); exits non-zero unless M is 0.
# The log, TRX and the list of refused attacks go to artifacts/security/.
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

# The attacks of the tests that passed, from the TRX (a failed test's lines are not counted as refused).
python3 - "$out/security.trx" >"$out/refused.txt" <<'PY' || true
import re, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for result in ET.parse(sys.argv[1]).getroot().iterfind(".//t:UnitTestResult", ns):
    if result.get("outcome") == "Passed":
        out = result.find("t:Output/t:StdOut", ns)
        for line in (out.text or "").splitlines() if out is not None else []:
            if re.match(r"\s*attack: ", line):
                print(line.strip())
PY
sort "$out/refused.txt" | uniq -c | sed -E 's/^ *([0-9]+) /  \1 × /'
counters="$(grep -o '<Counters [^>]*>' "$out/security.trx" 2>/dev/null || true)"
attr() { printf '%s' "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
total="$(attr total)"; failed="$(( $(attr failed) + $(attr error) + $(attr timeout) + $(attr aborted) ))"
[ -n "$total" ] && [ "$total" -gt 0 ] || { log "no security test ran; see $out/security.log"; echo "0 attacks refused, 1 accepted"; exit 1; }
refused="$(wc -l < "$out/refused.txt")"
log "$total security tests, $failed failed; log: $out/security.log"
echo "$refused attacks refused, $failed accepted"
[ "$failed" -eq 0 ]
