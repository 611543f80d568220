#!/bin/bash
# Initialises the cluster on first start from the environment, as the official image does, then runs the server in the
# foreground on every address of the container:
#   POSTGRES_USER / POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) / POSTGRES_DB   the owner role and its database
#   POSTGRES_TLS_CERT_FILE / POSTGRES_TLS_KEY_FILE                               TLS with this certificate (PEM)
# Every connection over the network needs its password (SCRAM); no trust line.
set -euo pipefail
bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
user="${POSTGRES_USER:-postgres}"
pass="${POSTGRES_PASSWORD:-}"
[ -n "${POSTGRES_PASSWORD_FILE:-}" ] && pass="$(tr -d '\n' < "$POSTGRES_PASSWORD_FILE")"
db="${POSTGRES_DB:-$user}"
[ -n "$pass" ] || { echo "postgres-entrypoint: set POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE" >&2; exit 2; }
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  "$bin/initdb" -D "$PGDATA" -U postgres --auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
  "$bin/pg_ctl" -D "$PGDATA" -o "-c listen_addresses='' -k /run/postgresql" -w start >/dev/null
  # The password from the environment (\getenv), not on psql's command line, where ps would show it.
  POSTGRES_PASSWORD="$pass" "$bin/psql" -h /run/postgresql -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA -v user="$user" -v db="$db" >/dev/null <<'SQL'
\getenv pass POSTGRES_PASSWORD
SELECT format('CREATE ROLE %I LOGIN', :'user') WHERE :'user' <> 'postgres' \gexec
ALTER ROLE :"user" WITH LOGIN PASSWORD :'pass';
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SQL
  "$bin/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
fi
# Over the network: every role with its password (SCRAM), and with a certificate configured, over TLS only.
if [ -n "${POSTGRES_TLS_CERT_FILE:-}" ]; then
  printf 'local all postgres peer\nhostssl all all all scram-sha-256\nhostnossl all all all reject\n' > "$PGDATA/pg_hba.conf"
else
  printf 'local all postgres peer\nhost all all all scram-sha-256\n' > "$PGDATA/pg_hba.conf"
fi
tls=()
if [ -n "${POSTGRES_TLS_CERT_FILE:-}" ]; then
  install -m 644 "$POSTGRES_TLS_CERT_FILE" /run/postgresql/server.crt
  install -m 600 "$POSTGRES_TLS_KEY_FILE" /run/postgresql/server.key
  tls=(-c ssl=on -c ssl_cert_file=/run/postgresql/server.crt -c ssl_key_file=/run/postgresql/server.key -c ssl_min_protocol_version=TLSv1.2)
fi
exec "$bin/postgres" -D "$PGDATA" -c listen_addresses='*' -k /run/postgresql "${tls[@]}" "$@"
