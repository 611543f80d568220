#!/usr/bin/env bash
# Injects one fault into the services up.sh started, for the fault tier (tests/.../Faults) and by hand:
#   fault.sh rabbitmq-stop | rabbitmq-start     the RabbitMQ node stops (every connection drops) / starts again
#   fault.sh postgres-stop | postgres-start     PostgreSQL stops (fast: sessions are cut) / starts again
#   fault.sh disk-alarm on | off                RabbitMQ's disk alarm: publishers are blocked / released
#   fault.sh queue-depth QUEUE [VHOST]          prints "ready unacknowledged" for a queue (test vhost by default)
# Each start waits until the service answers. Needs what up.sh needs (root, or the services' own user).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/env.sh"

data="$IG_STATE_DIR/postgres/data"
case "${1:-}" in
  rabbitmq-stop)
    rabbit rabbitmqctl -q stop "$IG_STATE_DIR/rabbitmq/rabbitmq.pid" >/dev/null
    log "RabbitMQ node $IG_RABBITMQ_NODENAME stopped" ;;
  rabbitmq-start)
    "$here/up.sh" rabbitmq-node >/dev/null ;;
  postgres-stop)
    as_user postgres "$(postgres_bin)/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    log "PostgreSQL stopped" ;;
  postgres-start)
    "$here/up.sh" postgres >/dev/null ;;
  disk-alarm)
    case "${2:-}" in
      # A limit above any disk: the alarm goes off at the next check (about a second) and blocks every publisher.
      on)
        rabbit rabbitmqctl -q set_disk_free_limit 100000GB >/dev/null
        # Returns once the broker reports the alarm (it checks the disk about once a second).
        for _ in $(seq 1 60); do
          alarms="$(rabbit rabbitmq-diagnostics -q alarms 2>/dev/null || true)"  # read whole: grep -q would cut the pipe
          grep -qi disk <<<"$alarms" && { log "disk alarm on"; exit 0; }
          sleep 0.5
        done
        die "the disk alarm did not go off within 30 s" ;;
      off) rabbit rabbitmqctl -q set_disk_free_limit 50MB >/dev/null; log "disk alarm cleared" ;;
      *) die "usage: $0 disk-alarm on|off" ;;
    esac ;;
  queue-depth)
    [ -n "${2:-}" ] || die "usage: $0 queue-depth QUEUE [VHOST]"
    rabbit rabbitmqctl -q list_queues -p "${3:-$IG_RABBITMQ_TEST_VHOST}" name messages_ready messages_unacknowledged \
      | awk -v q="$2" '$1 == q { print $2, $3; found = 1 } END { if (!found) exit 3 }' ;;
  *)
    sed -n '2,8p' "$0" >&2; exit 2 ;;
esac
