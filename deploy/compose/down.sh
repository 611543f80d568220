#!/usr/bin/env bash
# Removes everything up.sh made: the containers, their network and volumes, and the secrets in .local/compose. The
# images stay for the next up.sh (--images removes them too); the Docker engine keeps running (deploy/container/engine.sh stop).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../local/env.sh"
source "$here/../container/engine.sh"
source "$here/compose.sh"
[ -d "$IG_COMPOSE_SECRETS" ] || mkdir -p "$IG_COMPOSE_SECRETS"  # compose reads the env file's name even to remove
touch "$IG_COMPOSE_SECRETS/gateway.env"
compose down --volumes --remove-orphans --timeout 60
rm -rf "$IG_COMPOSE_SECRETS"
if [ "${1:-}" = --images ]; then
  docker image rm integration-gateway:dev integration-gateway-simulator:dev integration-gateway/rabbitmq:3 integration-gateway/postgres:15 >/dev/null || true
fi
left="$(docker ps -aq --filter "label=com.docker.compose.project=$IG_COMPOSE_PROJECT" | wc -l) container(s), $(docker volume ls -q --filter "label=com.docker.compose.project=$IG_COMPOSE_PROJECT" | wc -l) volume(s), $(docker network ls -q --filter "label=com.docker.compose.project=$IG_COMPOSE_PROJECT" | wc -l) network(s)"
log "removed; left of project $IG_COMPOSE_PROJECT: $left"
