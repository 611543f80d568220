#!/usr/bin/env bash
# Validates every manifest of deploy/kubernetes offline, against Kubernetes' schemas and the operators' (KEDA,
# CloudNativePG; RabbitmqCluster in part, or whole with --crd), with unknown fields refused, and against the gateway's
# configuration in deploy/config. Ends with "N manifest(s) valid" (exit 0) or names each problem (exit 1).
#   bash deploy/kubernetes/validate.sh                      # the manifests
#   bash deploy/kubernetes/validate.sh --self-test          # broken manifests of validator/self-test/ must be refused
#   bash deploy/kubernetes/validate.sh --crd FILE           # also a CRD's schema (e.g. rabbitmq.com_rabbitmqclusters.yaml)
# Its tools are npm packages pinned in validator/package-lock.json, installed into validator/node_modules (git ignores
# it) by `npm ci` when that lock file changed; after that nothing is fetched. Needs Node.js 20 or later and npm.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="$here/validator"

command -v node >/dev/null && command -v npm >/dev/null || { echo "validate.sh: needs Node.js and npm (apt-get install nodejs npm)" >&2; exit 1; }
major="$(node -p 'process.versions.node.split(".")[0]')"
((major >= 20)) || { echo "validate.sh: needs Node.js 20 or later (this is $(node --version))" >&2; exit 1; }

# Install the pinned tools unless the installed ones are those of this lock file.
lock_sum="$(sha256sum "$tools/package-lock.json" | cut -d' ' -f1)"
stamp="$tools/node_modules/.installed-from-lock"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]]; then
  started=$SECONDS
  # The schema packages declare engines ">=22"; they run on Node.js 20 (this project's machines have 20), so npm's
  # EBADENGINE warning is expected: --loglevel=error keeps it out of the output.
  if ! (cd "$tools" && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
    echo "validate.sh: npm ci failed in $tools (the npm registry must be reachable for the first run)" >&2
    exit 1
  fi
  printf '%s\n' "$lock_sum" >"$stamp"
  echo "tools: npm ci in deploy/kubernetes/validator took $((SECONDS - started)) s"
fi

exec node "$tools/validate.mjs" --root "$here" "$@"
