# Sourced, not run: makes a Docker engine reachable and exports DOCKER_HOST for the scripts that build and run the
# project's containers (deploy/container/images.sh, deploy/compose/up.sh, the Testcontainers tier).
#
# An engine that already answers (DOCKER_HOST, or the default socket: Docker Desktop, a CI runner's) is used as it is.
# Otherwise, as root, it installs Debian's docker.io and starts dockerd with its own data and exec roots, on a bridge
# of the project's own (172.31.250.1/24, networks that compose makes from 172.31.0.0/17), without touching the
# machine's iptables or forwarding: published ports bind to 127.0.0.1 only, and no container traffic leaves the
# machine. The engine keeps running after the script (down.sh leaves it; `deploy/container/engine.sh stop` ends it).
ig_engine_root="${IG_DOCKER_ROOT:-/var/lib/integration-gateway-docker}"
ig_engine_socket="$ig_engine_root/docker.sock"

ig_log() { printf '[deploy/container] %s\n' "$*" >&2; }
ig_die() { printf '[deploy/container] ERROR: %s\n' "$*" >&2; exit 1; }

ig_engine_answers() { timeout 10 docker version --format '{{.Server.APIVersion}}' >/dev/null 2>&1; }

ig_install_engine() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || ig_die "missing packages: ${missing[*]}. Install them as root (apt-get install -y ${missing[*]}), or start a Docker engine and set DOCKER_HOST"
  ig_log "installing ${missing[*]} from Debian's packages"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ig_start_engine() {
  if ig_engine_answers; then
    return 0
  fi
  if [ -S "$ig_engine_socket" ]; then
    export DOCKER_HOST="unix://$ig_engine_socket"
    ig_engine_answers && return 0
  fi
  ig_install_engine
  [ "$(id -u)" = 0 ] || ig_die "no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-unset}); start one, or run as root to start the project's own"
  mkdir -p "$ig_engine_root/data" "$ig_engine_root/exec"
  ig_log "starting dockerd (data in $ig_engine_root, socket $ig_engine_socket, log $ig_engine_root/dockerd.log)"
  setsid dockerd --data-root "$ig_engine_root/data" --exec-root "$ig_engine_root/exec" --pidfile "$ig_engine_root/dockerd.pid" \
    -H "unix://$ig_engine_socket" --bip=172.31.250.1/24 --default-address-pool base=172.31.0.0/17,size=24 \
    --ip=127.0.0.1 --iptables=false --ip-forward=false --ip-masq=false \
    >"$ig_engine_root/dockerd.log" 2>&1 </dev/null &
  export DOCKER_HOST="unix://$ig_engine_socket"
  local _
  for _ in $(seq 1 60); do
    ig_engine_answers && return 0
    sleep 0.5
  done
  ig_die "dockerd did not answer within 30 s; see $ig_engine_root/dockerd.log"
}

# The engine's API version, for clients that must not ask for a newer one (Testcontainers: DOCKER_API_VERSION).
ig_engine_api_version() { docker version --format '{{.Server.APIVersion}}'; }

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-start}" in
    start) ig_start_engine; printf 'export DOCKER_HOST=%s\n' "${DOCKER_HOST:-unix:///var/run/docker.sock}" ;;
    stop)
      if [ -s "$ig_engine_root/dockerd.pid" ] && kill "$(cat "$ig_engine_root/dockerd.pid")" 2>/dev/null; then
        ig_log "dockerd stopping"
      fi ;;
    *) ig_die "usage: $0 [start|stop]" ;;
  esac
else
  ig_start_engine
  export DOCKER_API_VERSION="${DOCKER_API_VERSION:-$(ig_engine_api_version)}"
fi
