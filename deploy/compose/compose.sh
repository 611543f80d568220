# Sourced by up.sh and down.sh (after deploy/local/env.sh and deploy/container/engine.sh): the compose project and
# what the scripts ask of it.
export IG_COMPOSE_PROJECT="${IG_COMPOSE_PROJECT:-integration-gateway}"
export IG_COMPOSE_SECRETS="$IG_ROOT/.local/compose"
# What docker-compose itself prints (progress lines), apart from the scripts' own.
export IG_COMPOSE_LOG="$IG_ROOT/.local/log/compose.log"
mkdir -p "$(dirname "$IG_COMPOSE_LOG")"
compose_file="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/docker-compose.yml"

log() { printf '[deploy/compose] %s\n' "$*" >&2; }
die() { printf '[deploy/compose] ERROR: %s\n' "$*" >&2; exit 1; }

compose() { docker-compose --ansi never -p "$IG_COMPOSE_PROJECT" -f "$compose_file" "$@"; }

# The container of a service, or of one replica: `gateway_2`.
container_of() {
  local service="$1" number=1
  if [[ "$1" =~ ^(.+)_([0-9]+)$ ]]; then service="${BASH_REMATCH[1]}" number="${BASH_REMATCH[2]}"; fi
  docker ps -aq --filter "label=com.docker.compose.project=$IG_COMPOSE_PROJECT" --filter "label=com.docker.compose.service=$service" \
    --filter "label=com.docker.compose.container-number=$number" | head -n1
}

# The gateway replicas running now.
running_replicas() { docker ps -q --filter "label=com.docker.compose.project=$IG_COMPOSE_PROJECT" --filter label=com.docker.compose.service=gateway | wc -l; }

# "address=rabbitmq-1 address=rabbitmq-2 ...": the broker nodes by their container addresses.
node_addresses() {
  local node
  for node in rabbitmq-1 rabbitmq-2 rabbitmq-3; do
    printf '%s=%s ' "$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$(container_of "$node")")" "$node"
  done
}

# Waits until each container's own health check passes (the images define them); fails naming the one that did not,
# with the end of its log.
wait_healthy() {
  local name id state _
  for name in "$@"; do
    for _ in $(seq 1 180); do
      id="$(container_of "$name")"
      state="$([ -n "$id" ] && docker inspect -f '{{.State.Health.Status}}' "$id" 2>/dev/null || echo missing)"
      [ "$state" = healthy ] && break
      sleep 1
    done
    if [ "$state" != healthy ]; then
      [ -n "$id" ] && docker logs --tail 30 "$id" >&2
      die "$name is not healthy after 3 minutes ($state)"
    fi
  done
  log "healthy: $*"
}

# The nodes of the cluster that are running, as rabbitmq-1 sees them.
compose_nodes() {
  timeout 15 docker exec "$(container_of rabbitmq-1)" rabbitmqctl -q cluster_status --formatter json \
    | python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin)["running_nodes"])))'
}

wait_for_cluster() {
  local want="$1" running="" _
  for _ in $(seq 1 90); do
    running="$(compose_nodes 2>/dev/null || true)"
    [ "$(wc -w <<<"$running")" -ge "$want" ] && return 0
    sleep 1
  done
  die "the RabbitMQ cluster has $(wc -w <<<"$running") of $want nodes running: ${running:-none}"
}

# Each replica's share: its connection consuming the intake queue and the bytes the broker sent it, and the queue's
# type and members; from the broker, which saw every replica.
replica_shares() {
  local replicas="$1" n id address rabbit1
  rabbit1="$(container_of rabbitmq-1)"
  local connections
  connections="$(docker exec "$rabbit1" rabbitmqctl -q list_connections send_oct name --formatter json)"
  local names
  names="$(node_addresses)"
  printf '\nReplicas (each its own process and connections; bytes the broker sent it)\n'
  for n in $(seq 1 "$replicas"); do
    id="$(container_of "gateway_$n")"
    address="$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$id")"
    python3 -c '
import json, sys
rows = [c for c in json.loads(sys.argv[1]) if c["name"].split(":")[0] == sys.argv[2]]  # "client:port -> node:port"
sent = sum(int(c["send_oct"]) for c in rows) / 1e6
names = dict(pair.split("=") for pair in sys.argv[4].split())
nodes = sorted({names.get(c["name"].split("-> ")[1].split(":")[0], "?") for c in rows})
print("  gateway_{}  {:<15} {} connection(s) to {}, {:8.3f} MB from the broker".format(sys.argv[3], sys.argv[2], len(rows), ", ".join(nodes), sent))
' "$connections" "$address" "$n" "$names"
  done
  docker exec "$rabbit1" rabbitmqctl -q list_queues -p "$IG_RABBITMQ_VHOST" name type members consumers messages --formatter json \
    | python3 -c '
import json, sys
for q in json.load(sys.stdin):
    if q["name"].startswith("integration-gateway.intake"):
        print("  queue {}: {}, {} member node(s), {} consumer(s), {} message(s) left".format(q["name"], q["type"], len(q.get("members") or []), q["consumers"], q["messages"]))'
}
