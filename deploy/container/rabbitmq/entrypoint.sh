#!/bin/bash
# Writes rabbitmq.conf from the environment and the mounted /etc/rabbitmq/conf.d/*.conf, then runs the node in the
# foreground, logging to stdout ("Server startup complete" marks it ready, as Testcontainers' RabbitMQ module waits for).
#   RABBITMQ_DEFAULT_USER / RABBITMQ_DEFAULT_PASS   the first user, as the official image takes them (its password
#                                                    may also come from RABBITMQ_DEFAULT_PASS_FILE)
#   RABBITMQ_ERLANG_COOKIE_FILE                      the cluster's shared cookie (a secret), copied to ~/.erlang.cookie
set -euo pipefail
umask 077  # the configuration may hold the first user's password
conf=/etc/rabbitmq/rabbitmq.conf
{
  echo "log.console = true"
  echo "log.console.level = info"
  echo "log.file = false"
  if [ -n "${RABBITMQ_DEFAULT_USER:-}" ]; then
    pass="${RABBITMQ_DEFAULT_PASS:-}"
    [ -n "${RABBITMQ_DEFAULT_PASS_FILE:-}" ] && pass="$(tr -d '\n' < "$RABBITMQ_DEFAULT_PASS_FILE")"
    # That user may connect from other containers; without one, RabbitMQ's guest stays on loopback (its default).
    echo "loopback_users = none"
    echo "default_user = $RABBITMQ_DEFAULT_USER"
    echo "default_pass = $pass"
    echo "default_user_tags.administrator = true"
  fi
  for extra in /etc/rabbitmq/conf.d/*.conf; do
    [ -f "$extra" ] && cat "$extra"
  done
} > "$conf"
chmod 600 "$conf"
if [ -n "${RABBITMQ_ERLANG_COOKIE_FILE:-}" ]; then
  install -m 400 "$RABBITMQ_ERLANG_COOKIE_FILE" "$HOME/.erlang.cookie"
fi
exec /usr/lib/rabbitmq/bin/rabbitmq-server "$@"
