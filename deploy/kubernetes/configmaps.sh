#!/usr/bin/env bash
# Prints the ConfigMaps of the agreements and the controller registry, made from their files, as YAML on stdout:
#   bash deploy/kubernetes/configmaps.sh | kubectl apply -f -
#   kubectl -n integration-gateway rollout restart deployment/integration-gateway   # the gateway reads them at start
# Every *.yaml and *.yml file of each folder (the files the gateway loads) becomes one key, its content unchanged;
# README.md stays out. Needs bash and coreutils, grep, awk (no kubectl). validate.sh checks the output against the files.
# Usage: configmaps.sh [AGREEMENTS_DIR [CONTROLLERS_DIR]]   (default deploy/config/agreements, deploy/config/controllers)
set -euo pipefail
shopt -s inherit_errexit  # a failing command inside $(...) stops it too
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
agreements="${1:-$here/../config/agreements}"
controllers="${2:-$here/../config/controllers}"
namespace=integration-gateway

die() { echo "configmaps.sh: $*" >&2; exit 1; }

# One ConfigMap: NAME DIR DESCRIPTION
configmap() {
  local name="$1" dir="$2" what="$3" file key chomp size ending count=0 total=0
  [[ -d "$dir" ]] || die "no folder $dir"
  printf -- '---\n# %s, from %s (made by deploy/kubernetes/configmaps.sh: do not edit, run it again).\n' "$what" "$(basename "$dir")"
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\n' "$name" "$namespace"
  printf '  labels:\n    app.kubernetes.io/name: integration-gateway\n    app.kubernetes.io/part-of: integration-gateway\ndata:\n'
  shopt -s nullglob
  local files=("$dir"/*.yaml "$dir"/*.yml)
  shopt -u nullglob
  ((${#files[@]} > 0)) || die "no *.yaml or *.yml file in $dir"
  while IFS= read -r file; do
    key="$(basename "$file")"
    [[ "$key" =~ ^[-._a-zA-Z0-9]+$ ]] || die "$file: a ConfigMap key may hold only letters, digits, '-', '_' and '.'"
    if LC_ALL=C grep -q $'[\x01-\x08\x0b\x0c\x0e-\x1f\x7f\r]' "$file"; then
      die "$file has control characters or CR line ends, which a YAML block scalar cannot carry unchanged"
    fi
    # A literal block scalar keeps every line as it is. The indentation indicator (2: content at 4 spaces) lets a
    # first line start with spaces; the chomping indicator keeps the file's own ending: none (-), one line break
    # (clip) or more (+).
    chomp="" size=0
    size=$(wc -c <"$file")
    if ((size == 0)); then
      printf '  %s: ""\n' "$key"
      continue
    fi
    # (An assignment from a failed pipeline stops the script: set -e with pipefail.)
    ending="$(tail -c 2 -- "$file" | od -An -tx1 | tr -d ' \n')"
    if [[ "$ending" == *0a0a ]]; then chomp="+"
    elif [[ "$ending" != *0a ]]; then chomp="-"
    fi
    printf '  %s: |2%s\n' "$key" "$chomp"
    awk '{ if (length($0) == 0) print ""; else print "    " $0 }' "$file"
    count=$((count + 1)) total=$((total + size))
  done < <(printf '%s\n' "${files[@]}" | LC_ALL=C sort)
  # The API server refuses a ConfigMap over 1 MiB.
  ((total < 1000000)) || die "$dir: $total bytes, too many for one ConfigMap (at most 1 MiB)"
}

# Both are made before anything is printed, so a failure never leaves half a stream for `kubectl apply -f -`.
# (The trailing x keeps the command substitution from dropping the last file's final line breaks.)
first="$(configmap integration-gateway-agreements "$agreements" "The data-sharing agreements (Agreements:Directory)"; printf x)"
second="$(configmap integration-gateway-controllers "$controllers" "The controller registry (Controllers:Directory)"; printf x)"
printf '%s%s' "${first%x}" "${second%x}"
