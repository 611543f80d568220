#!/usr/bin/env bash
# Supply chain: fails (exit 1) when a package of the solution, direct or transitive, has a known vulnerability of
# high or critical severity, naming each. The knowledge comes from the package sources' vulnerability data (NuGet's
# VulnerabilityInfo resource, which nuget.org serves). A source without it can tell nothing: that is said loudly, as
# "NOT CHECKED", never passed off as "no vulnerable package". test.sh (and so CI) runs it after the build.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/../.."
log() { printf '[vulnerable-packages] %s\n' "$*" >&2; }
# Whether dotnet's JSON report names an advisory of high or critical severity.
severe() { grep -qE '"severity": *"(High|Critical)"' <<<"$1"; }
# `vulnerable-packages.sh --self-test` shows the report is read: a sample in dotnet's format must count as severe.
if [ "${1:-}" = --self-test ]; then
  sample='{"projects":[{"frameworks":[{"transitivePackages":[{"id":"Newtonsoft.Json","resolvedVersion":"12.0.1","vulnerabilities":[{"severity": "High","advisoryurl":"https://github.com/advisories/GHSA-5crp-9r3c-p9vr"}]}]}]}]}'
  severe "$sample" && ! severe '{"projects":[{"path":"x.csproj"}]}' && { log "self-test passed"; exit 0; }
  log "self-test failed"; exit 1
fi

sources="$(dotnet nuget list source --format short | awk '$1 ~ /^E/ { print $2 }')"
with_data=()
for source in $sources; do
  case "$source" in
    http://*|https://*) curl -fsS --max-time 20 "$source" 2>/dev/null | grep -q '"VulnerabilityInfo/' && with_data+=("$source") ;;
  esac
done
if [ ${#with_data[@]} -eq 0 ]; then
  log "NOT CHECKED: no package source serves vulnerability data (VulnerabilityInfo): $(echo $sources). Known-vulnerable packages cannot be found from here."
  exit 0
fi

report="$(dotnet list IntegrationGateway.sln package --vulnerable --include-transitive --format json)"
if severe "$report"; then
  log "packages with a known high or critical vulnerability (checked against ${with_data[*]}):"
  printf '%s\n' "$report" >&2
  exit 1
fi
log "no package with a known high or critical vulnerability (checked against ${with_data[*]})"
