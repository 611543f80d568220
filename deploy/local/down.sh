#!/usr/bin/env bash
# Stops exactly what up.sh started: this project's PostgreSQL cluster (by its data folder) and RabbitMQ node
# (by its node name), and epmd only if up.sh started it and no other Erlang node still uses it. Data is kept;
# remove .local/ to start from scratch.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

data="$IG_STATE_DIR/postgres/data"
if [ -s "$data/PG_VERSION" ] && as_user postgres "$(postgres_bin)/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  log "stopping PostgreSQL ($data)"
  as_user postgres "$(postgres_bin)/pg_ctl" -D "$data" -m fast -w stop >/dev/null
else
  log "PostgreSQL from $data is not running"
fi

if [ -d "$IG_STATE_DIR/rabbitmq" ] && rabbit_node_registered && rabbit rabbitmqctl status >/dev/null 2>&1; then
  log "stopping RabbitMQ node $IG_RABBITMQ_NODENAME"
  rabbit rabbitmqctl -q stop "$IG_STATE_DIR/rabbitmq/rabbitmq.pid" >/dev/null
else
  log "RabbitMQ node $IG_RABBITMQ_NODENAME is not running"
fi

marker="$IG_STATE_DIR/rabbitmq/.started-epmd"
if [ -f "$marker" ]; then
  # A stopped node takes a moment to deregister from epmd.
  for _ in $(seq 1 25); do epmd -names 2>/dev/null | grep -q '^name ' || break; sleep 0.2; done
  if command -v epmd >/dev/null && ! epmd -names 2>/dev/null | grep -q '^name '; then
    log "stopping epmd (started by up.sh, no node left)"
    epmd -kill >/dev/null 2>&1 || true
  fi
  rm -f "$marker"
fi
