#!/usr/bin/env bash
# The broker cluster under a fault, end to end: N events (--count, 3000 by default) published through the demo verb and
# drained by the replicas while the RabbitMQ node that holds most of their connections stops mid-drain (docker stop:
# RabbitMQ shuts down; --kill: SIGKILL) and, some seconds later (--down SECONDS, 15), starts again. Then it holds the
# run to: every event settled, every delivery recorded by the simulator exactly once in effect, nothing quarantined
# or parked (the demo's own checks), the ledger verified; and it reports how long the replicas took to consume again
# from the nodes left. Exits non-zero when any of it fails. Starts the stack first (up.sh) unless it runs already.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../local/env.sh"
source "$here/../container/engine.sh"
source "$here/compose.sh"

count=3000 down=15 signal=stop
while [ $# -gt 0 ]; do
  case "$1" in
    --count) count="$2"; shift 2 ;;
    --down) down="$2"; shift 2 ;;
    --kill) signal=kill; shift ;;
    *) die "usage: $0 [--count N] [--down SECONDS] [--kill]" ;;
  esac
done

replicas="$(running_replicas)"
if [ "$replicas" -eq 0 ]; then
  "$here/up.sh" --count 15 >/dev/null
  replicas="$(running_replicas)"
fi
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
sql() { docker exec -u postgres "$(container_of postgres)" psql -d integration_gateway -qtAc "$1"; }
# Consumers on the intake queue, as a node that stays up counts them.
consumers() {
  timeout 10 docker exec "$(container_of "$1")" rabbitmqctl -q list_queues -p "$IG_RABBITMQ_VHOST" name consumers 2>/dev/null \
    | awk '$1 == "integration-gateway.intake" { print $2 }'
}

# The node most of the replicas' connections are on: stopping it makes them reconnect.
ips="$(node_addresses)"
target="$(docker exec "$(container_of rabbitmq-1)" rabbitmqctl -q list_connections name 2>/dev/null | awk -v ips="$ips" '
  BEGIN { n = split(ips, pairs, " "); for (i = 1; i <= n; i++) { split(pairs[i], kv, "="); name[kv[1]] = kv[2] } }
  { split($0, ends, " -> "); split(ends[2], node, ":"); if (node[1] in name) seen[name[node[1]]]++ }
  END { for (n in seen) if (seen[n] > best) { best = seen[n]; pick = n } print pick }')"
[ -n "$target" ] || target=rabbitmq-1
witness=rabbitmq-1; [ "$target" = rabbitmq-1 ] && witness=rabbitmq-2
settled_before="$(sql "SELECT count(*) FROM intake_event WHERE settled_at IS NOT NULL")"
log "$replicas replica(s); $count events; node to stop: $target (most replicas' connections), watched from $witness"

# The agency answers after 1.5 s for now, so the replicas drain slower than the demo publishes: when the last event is
# published, a backlog waits in the queue, and the node stops with it there. Back to 0 once the node is back.
simulator="http://127.0.0.1:${IG_COMPOSE_SIMULATOR_PORT:-5081}"
curl -fsS -X PUT "$simulator/control/latency/1500" >/dev/null || die "the simulator does not answer on $simulator"
demo_log="$IG_ROOT/.local/log/compose-fault-demo.log"
demo=""
# Whatever ends the script: the agency answers at once again, the demo stops, the node runs.
cleanup() {
  curl -fsS -X PUT "$simulator/control/latency/0" >/dev/null 2>&1 || true
  [ -n "$demo" ] && kill "$demo" 2>/dev/null || true
  docker start "$(container_of "$target")" >/dev/null 2>&1 || true
}
trap cleanup EXIT
started="$(now)"
compose run --rm --no-deps -T gateway demo --running-gateways --simulator http://simulator:8080 --exit-after-summary \
  --count "$count" --timeout 900 >"$demo_log" 2>&1 &
demo=$!
# After the last publish (the demo says so: a publisher must ride out a node's loss on its own), mid-drain: a fifth
# of the events settled.
for _ in $(seq 1 1200); do
  grep -q '^Published' "$demo_log" 2>/dev/null && break
  kill -0 "$demo" 2>/dev/null || break
  sleep 0.1
done
for _ in $(seq 1 1200); do
  [ $(( $(sql "SELECT count(*) FROM intake_event WHERE settled_at IS NOT NULL") - settled_before )) -ge $((count / 5)) ] && break
  kill -0 "$demo" 2>/dev/null || break
  sleep 0.2
done
at_stop="$(( $(sql "SELECT count(*) FROM intake_event WHERE settled_at IS NOT NULL") - settled_before ))"
waiting="$(timeout 10 docker exec "$(container_of "$witness")" rabbitmqctl -q list_queues -p "$IG_RABBITMQ_VHOST" name messages 2>/dev/null | awk '$1 == "integration-gateway.intake" { print $2 }')"
docker "$signal" "$(container_of "$target")" >/dev/null
docker wait "$(container_of "$target")" >/dev/null  # docker kill returns before the node is gone
stopped="$(now)"
log "$target stopped ($signal) at $(since "$started") s, with $at_stop messages settled and ${waiting:-?} waiting in the intake queue"
# The consumers the stopped node held go first (the others see it down), then come back on the nodes left.
for _ in $(seq 1 50); do
  [ "$(consumers "$witness" || echo 0)" -lt "$replicas" ] && break
  sleep 0.1
done
recovered=""
for _ in $(seq 1 600); do
  c="$(consumers "$witness" || true)"
  if [ "${c:-0}" -ge "$replicas" ]; then recovered="$(since "$stopped")"; break; fi
  sleep 0.1
done
[ -n "$recovered" ] && log "every replica consuming again from the remaining nodes $recovered s after the stop" \
  || log "the replicas were not all consuming again within 60 s"
sleep "$down"
docker start "$(container_of "$target")" >/dev/null
wait_healthy "$target"
wait_for_cluster 3
log "$target back in the cluster at $(since "$started") s"
curl -fsS -X PUT "$simulator/control/latency/0" >/dev/null
status=0
wait "$demo" || status=$?
grep -a -v '^Creating\|^info:\|^      ' "$demo_log" | sed -n '/^Summary/,$p'
compose run --rm --no-deps -T gateway ledger verify 2>>"$IG_COMPOSE_LOG" || status=1
[ -n "$recovered" ] || status=1
printf '\nbroker node %s stopped (%s) with %s messages settled and %s waiting; replicas consuming again after %s s; node down %s s; demo exit %s\n' \
  "$target" "$signal" "$at_stop" "${waiting:-?}" "${recovered:-never}" "$down" "$status"
exit "$status"
