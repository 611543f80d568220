#!/usr/bin/env bash
# One command: builds the images (deploy/container/images.sh), starts a three-node RabbitMQ cluster, PostgreSQL, the
# agency simulator, an OpenTelemetry sink and N gateway replicas (IG_COMPOSE_REPLICAS, 3 by default), runs the demo
# through them and prints its summary, then the replicas' share of the work. Exits 0 when every event was settled,
# every delivery recorded once and nothing duplicated in effect. The stack keeps running for a look around
# (docker-compose ps, the simulator on 127.0.0.1:5081/records/summary); down.sh removes all of it.
# Options go to the demo verb: --count N, --seed S, --types T, --timeout SECONDS.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../local/env.sh"
source "$here/../local/up.sh"   # its functions: the CA and certificates, the broker's users and permissions
source "$here/../container/engine.sh"
source "$here/compose.sh"

replicas="${IG_COMPOSE_REPLICAS:-3}"
[[ "$replicas" =~ ^[1-9][0-9]?$ ]] || die "IG_COMPOSE_REPLICAS must be 1 to 99, not '$replicas'"
# PostgreSQL's connection slots: each replica's pool (40, below) and room for the one-off CLI runs and the demo.
export IG_COMPOSE_PG_MAX_CONNECTIONS=$((replicas * 40 + 100))

"$here/../container/images.sh"

# A fresh stack every time: an earlier one's containers would keep the certificates and secrets they mounted.
if [ -n "$(docker ps -aq --filter "label=com.docker.compose.project=$IG_COMPOSE_PROJECT")" ]; then
  log "removing the earlier stack of project $IG_COMPOSE_PROJECT first"
  "$here/down.sh"
fi

# The secrets each container needs, and no other: copies of the checkout's own (deploy/local/env.sh made them), owned by
# the user that container runs as. The broker and database certificates name the containers.
log "secrets and certificates in $IG_COMPOSE_SECRETS"
make_certificates
rm -rf "$IG_COMPOSE_SECRETS"
mkdir -p "$IG_COMPOSE_SECRETS"/{rabbitmq,postgres,simulator/signing,gateway/signing,gateway/broker}
chmod 700 "$IG_COMPOSE_SECRETS"
issue_certificate "$IG_COMPOSE_SECRETS/rabbitmq" rabbitmq serverAuth "DNS:rabbitmq-1,DNS:rabbitmq-2,DNS:rabbitmq-3"
issue_certificate "$IG_COMPOSE_SECRETS/postgres" postgres serverAuth "DNS:postgres"
for folder in rabbitmq postgres gateway; do cp "$IG_TLS_DIR/ca.crt" "$IG_COMPOSE_SECRETS/$folder/ca.crt"; done
local_secret compose-erlang.cookie > "$IG_COMPOSE_SECRETS/rabbitmq/erlang.cookie"
printf '%s' "$IG_POSTGRES_PASSWORD" > "$IG_COMPOSE_SECRETS/postgres/postgres.password"
for recipient in $IG_RECIPIENTS; do
  cp "$Signing__SecretsDirectory/$recipient.whsec" "$IG_COMPOSE_SECRETS/gateway/signing/"
  cp "$Signing__SecretsDirectory/$recipient.whsec" "$IG_COMPOSE_SECRETS/simulator/signing/"
done
for publisher in $IG_PUBLISHERS; do cp "$Publishers__SecretsDirectory/$publisher.password" "$IG_COMPOSE_SECRETS/gateway/broker/"; done
owner_of() { docker run --rm --entrypoint id "$1" -u; }
chown -R "$(owner_of integration-gateway/rabbitmq:3)" "$IG_COMPOSE_SECRETS/rabbitmq"
chown -R "$(owner_of integration-gateway/postgres:15)" "$IG_COMPOSE_SECRETS/postgres"
chown -R "$(owner_of integration-gateway:dev)" "$IG_COMPOSE_SECRETS/gateway" "$IG_COMPOSE_SECRETS/simulator"
chmod -R go-rwx "$IG_COMPOSE_SECRETS"/*
chmod 0400 "$IG_COMPOSE_SECRETS/rabbitmq/erlang.cookie"
# What the gateways read from the environment (compose reads the file; the containers get its values). Each replica's
# pool is bounded (Npgsql's default of 100 each would pass PostgreSQL's max_connections with 3 replicas: "too many
# clients", seen here); the server's max_connections is set from the replica count above.
(umask 077 && {
  printf 'RabbitMq__Username=%s\nRabbitMq__Password=%s\n' "$IG_RABBITMQ_USER" "$IG_RABBITMQ_PASSWORD"
  printf 'RabbitMq__VirtualHost=%s\n' "$IG_RABBITMQ_VHOST"
  printf 'ConnectionStrings__Gateway=Host=postgres;Port=5432;Database=integration_gateway;Username=gateway;Password=%s;SSL Mode=VerifyFull;Root Certificate=/run/secrets/ca.crt;Timeout=5;Command Timeout=10;Maximum Pool Size=40\n' "$IG_POSTGRES_PASSWORD"
  printf 'Ledger__Key=%s\nSealing__Key=%s\n' "$Ledger__Key" "$Sealing__Key"
  printf 'Quarantine__Republisher__Username=%s\nQuarantine__Republisher__Password=%s\n' "$IG_RABBITMQ_REPUBLISHER_USER" "$Quarantine__Republisher__Password"
  for recipient in $IG_RECIPIENTS; do printf 'Recipients__%s__BaseUrl=http://simulator:8080/recipients/%s\n' "$recipient" "$recipient"; done
} > "$IG_COMPOSE_SECRETS/gateway.env")

log "starting the RabbitMQ cluster, PostgreSQL, the simulator and the OpenTelemetry sink (project $IG_COMPOSE_PROJECT)"
compose up -d --remove-orphans rabbitmq-1 rabbitmq-2 rabbitmq-3 postgres simulator otel-sink >>"$IG_COMPOSE_LOG" 2>&1 || die "docker-compose up failed; see $IG_COMPOSE_LOG"
wait_healthy rabbitmq-1 rabbitmq-2 rabbitmq-3 postgres
wait_for_cluster 3
# The users, the vhost and the permissions once, on one node: the cluster shares them.
rabbit() { local program="$1"; shift; docker exec -i "$(container_of rabbitmq-1)" "$program" "$@"; }
provision_rabbitmq "$IG_RABBITMQ_VHOST" ""
log "RabbitMQ cluster ready: $(compose_nodes), vhost $IG_RABBITMQ_VHOST, publishers: $IG_PUBLISHERS"

# The intake's topology (the quorum queue, its quarantine, the exchanges and the controllers' bindings), declared once
# before any replica starts; each replica's own declaration then finds it as it is.
compose run --rm --no-deps gateway topology declare 2>>"$IG_COMPOSE_LOG"
log "starting $replicas gateway replica(s)"
compose up -d --no-deps --scale gateway="$replicas" gateway >>"$IG_COMPOSE_LOG" 2>&1 || die "docker-compose up failed; see $IG_COMPOSE_LOG"
wait_healthy $(seq -f 'gateway_%g' 1 "$replicas")

log "the demo, through the $replicas replica(s)"
status=0
compose run --rm --no-deps gateway demo --running-gateways --simulator http://simulator:8080 --exit-after-summary "$@" || status=$?
replica_shares "$replicas"
# The ledger all replicas wrote to, one chain: verified with the key, as an auditor would.
compose run --rm --no-deps gateway ledger verify 2>>"$IG_COMPOSE_LOG" || status=$?
log "the stack keeps running: deploy/compose/down.sh removes it (containers, network, volumes, secrets)"
exit "$status"
