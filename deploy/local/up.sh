#!/usr/bin/env bash
# Makes RabbitMQ and PostgreSQL available on 127.0.0.1 for the gateway, from Debian's packages, without systemd:
# installs them when missing, starts them with data and logs under .local/ (git ignores it), waits until they
# answer, and creates the gateway's database, user and virtual hosts. Idempotent: what already runs is reused.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

install_packages() {
  local missing=()
  ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
  command -v curl >/dev/null 2>&1 || missing+=(curl)  # the demo polls the simulator with it
  # The browser test drives Debian's Chromium (test.sh asks for it; the demo does not need it).
  if [ "${IG_WITH_BROWSER:-0}" = 1 ]; then command -v chromium >/dev/null 2>&1 || missing+=(chromium); fi
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! is_root; then
    die "missing packages: ${missing[*]}. Install them as root: sudo apt-get install -y ${missing[*]}"
  fi
  log "installing ${missing[*]} from Debian's packages"
  # The packages' own init scripts would start system-wide instances; we run our own, so keep them from starting.
  local policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"
    # Removed however the install ends: left behind it would keep every service on the machine from starting.
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The service users must reach the state folder. A checkout under a private home directory is not reachable
# for them; then the state goes to a folder of its own under /var/tmp, named after the checkout.
resolve_state_dir() {
  mkdir -p "$IG_STATE_DIR" "$IG_ROOT/.local"
  if is_root && ! runuser -u postgres -- test -x "$IG_STATE_DIR" 2>/dev/null; then
    local alt="/var/tmp/integration-gateway-$(printf '%s' "$IG_ROOT" | sha1sum | cut -c1-12)"
    log "$IG_STATE_DIR is not reachable by the service users; keeping state in $alt"
    mkdir -p "$alt"; chmod 755 "$alt"
    IG_STATE_DIR="$alt"
  fi
  printf '%s\n' "$IG_STATE_DIR" > "$IG_ROOT/.local/state-dir"
}

# A certificate authority of this checkout's own (.local/tls, mode 0700; its key never leaves it) and a certificate
# from it for each service's TLS listener, naming 127.0.0.1, ::1 and localhost. Made once; a certificate is made
# again when it expires within 30 days or another CA issued it. The gateway and the tests trust this CA alone for
# the broker and the database (RabbitMq:Tls:CaFile, Root Certificate=).
make_certificates() {
  local tls="$IG_TLS_DIR"
  mkdir -p "$tls" && chmod 700 "$tls"
  if [ ! -s "$tls/ca.crt" ] || ! openssl x509 -checkend 2592000 -noout -in "$tls/ca.crt" >/dev/null 2>&1; then
    log "making a local certificate authority in $tls"
    (umask 077 && openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 -days 3650 \
      -keyout "$tls/ca.key" -out "$tls/ca.crt" -subj "/O=IntegrationGateway deploy-local/CN=local CA $(printf %s "$IG_ROOT" | sha1sum | cut -c1-8)" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign") >/dev/null 2>&1 \
      || die "openssl could not make the local CA in $tls"
  fi
  issue_certificate "$tls" rabbitmq serverAuth "IP:127.0.0.1,IP:::1,DNS:localhost"
  issue_certificate "$tls" postgres serverAuth "IP:127.0.0.1,IP:::1,DNS:localhost"
  # The gateway's own, for a broker that asks for a client certificate (mutual TLS); no address in it.
  issue_certificate "$tls" gateway-client clientAuth "DNS:integration-gateway"
}

# A certificate from the checkout's CA ($IG_TLS_DIR), into folder $1 as <name>.crt and <name>.key, for the names in $4
# (subjectAltName entries); kept while it is valid for 30 more days, chains to the CA and names the same.
issue_certificate() {
  local folder="$1" name="$2" usage="$3" names="subjectAltName=$4" ca="$IG_TLS_DIR"
  mkdir -p "$folder"
  if [ -s "$folder/$name.crt" ] && openssl x509 -checkend 2592000 -noout -in "$folder/$name.crt" >/dev/null 2>&1 \
      && openssl verify -CAfile "$ca/ca.crt" "$folder/$name.crt" >/dev/null 2>&1 \
      && [ "$(openssl x509 -noout -ext subjectAltName -in "$folder/$name.crt" 2>/dev/null | tail -n1 | tr -d ' ')" = "$(printf '%s' "$4" | sed 's/IP:::1/IPAddress:0:0:0:0:0:0:0:1/; s/IP:/IPAddress:/g')" ]; then
    return 0
  fi
  (umask 077 && openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 \
      -keyout "$folder/$name.key" -out "$folder/$name.csr" -subj "/O=IntegrationGateway deploy-local/CN=$name" \
    && openssl x509 -req -sha256 -days 825 -in "$folder/$name.csr" -CA "$ca/ca.crt" -CAkey "$ca/ca.key" -CAcreateserial \
      -out "$folder/$name.crt" -extfile <(printf '%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n' "$names" "$usage")) \
    >/dev/null 2>&1 || die "openssl could not make the certificate $folder/$name.crt"
  rm -f "$folder/$name.csr"
}

# Copies a service's certificate and key into its state folder, owned by its user (the key mode 0600).
install_certificate() {
  local service="$1" folder="$2"
  mkdir -p "$folder"
  install -m 644 "$IG_TLS_DIR/ca.crt" "$folder/ca.crt"
  install -m 644 "$IG_TLS_DIR/$service.crt" "$folder/server.crt"
  install -m 600 "$IG_TLS_DIR/$service.key" "$folder/server.key"
  is_root && chown -R "$service:$service" "$folder"
  return 0
}

start_postgres() {
  local bin; bin="$(postgres_bin)"
  local dir="$IG_STATE_DIR/postgres" data="$IG_STATE_DIR/postgres/data"
  # Unix socket paths are limited to 107 bytes, so the socket lives in a short folder of its own.
  local sockets; sockets="$(postgres_socket_dir)"
  # The socket folder is in /tmp under a predictable name: one somebody else made first (or a link) is refused,
  # and ours is open to the server's own user only (mode 0700), so no other local user reaches the socket.
  [ -L "$sockets" ] && die "$sockets is a symbolic link; remove it (PostgreSQL's socket folder must be a folder of its own)"
  mkdir -p "$dir/log" "$sockets"
  is_root && chown -R postgres:postgres "$dir" "$sockets"
  local owner; owner="$(stat -c %U "$sockets")"
  [ "$owner" = "$(server_user postgres)" ] || die "$sockets belongs to $owner, not to PostgreSQL's user; remove it and run $0 again"
  chmod 700 "$dir" "$sockets"
  install_certificate postgres "$dir/tls"
  if [ ! -s "$data/PG_VERSION" ]; then
    log "initialising PostgreSQL in $data"
    as_user postgres "$bin/initdb" -D "$data" -U postgres --auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/log/initdb.log" 2>&1 \
      || die "initdb failed; see $dir/log/initdb.log"
  fi
  # Who may sign in, rewritten at every start (a cluster made by an older up.sh trusted every local user): over
  # the socket only the server's own operating-system user, as the superuser (peer); over TCP on loopback every
  # role with its password (SCRAM). No 'trust' line anywhere.
  as_user postgres tee "$data/pg_hba.conf" >/dev/null <<HBA
# Written by deploy/local/up.sh at every start; edits here are lost.
local   all   postgres                   peer map=server
host    all   all        127.0.0.1/32    scram-sha-256
host    all   all        ::1/128         scram-sha-256
HBA
  printf 'server  %s  postgres\n' "$(server_user postgres)" | as_user postgres tee "$data/pg_ident.conf" >/dev/null
  if as_user postgres "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    log "PostgreSQL already runs from $data"
    # A server started by an older up.sh runs without TLS: that takes a restart (the sign-in rules only a reload).
    if as_user postgres "$bin/psql" -h "$sockets" -p "$IG_POSTGRES_PORT" -U postgres -d postgres -qtAc 'SHOW ssl' 2>/dev/null | grep -qx on; then
      as_user postgres "$bin/pg_ctl" -D "$data" reload >/dev/null
    else
      log "restarting PostgreSQL with TLS"
      as_user postgres "$bin/pg_ctl" -D "$data" -l "$dir/log/postgres.log" -w -t 60 -m fast \
        -o "-c listen_addresses=127.0.0.1 -p $IG_POSTGRES_PORT -k '$sockets' $(postgres_tls_settings "$dir/tls")" restart >/dev/null \
        || die "PostgreSQL did not restart; see $dir/log/postgres.log"
    fi
  elif "$bin/pg_isready" -q -h 127.0.0.1 -p "$IG_POSTGRES_PORT"; then
    die "port $IG_POSTGRES_PORT already has a PostgreSQL server that is not this checkout's (another checkout's?). Stop it with that checkout's deploy/local/down.sh, or choose another port: IG_POSTGRES_PORT=5443 $0"
  else
    log "starting PostgreSQL on 127.0.0.1:$IG_POSTGRES_PORT"
    as_user postgres "$bin/pg_ctl" -D "$data" -l "$dir/log/postgres.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $IG_POSTGRES_PORT -k '$sockets' $(postgres_tls_settings "$dir/tls")" start >/dev/null \
      || die "PostgreSQL did not start; see $dir/log/postgres.log"
  fi
  local i
  for i in $(seq 1 60); do
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$IG_POSTGRES_PORT" && break
    sleep 0.5
  done
  "$bin/pg_isready" -q -h 127.0.0.1 -p "$IG_POSTGRES_PORT" || die "PostgreSQL does not answer on 127.0.0.1:$IG_POSTGRES_PORT"

  # Role and database, created once; the password is (re)set so the configured one always works.
  local psql=("$bin/psql" -h "$sockets" -p "$IG_POSTGRES_PORT" -U postgres -v ON_ERROR_STOP=1 -qtA)
  # The password is read from the environment (\getenv), not passed on the command line, where `ps` shows it.
  as_user postgres "${psql[@]}" -d postgres -v user="$IG_POSTGRES_USER" >/dev/null <<'SQL'
\getenv pass IG_POSTGRES_PASSWORD
SELECT format('CREATE ROLE %I LOGIN', :'user') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'user') \gexec
ALTER ROLE :"user" WITH LOGIN PASSWORD :'pass';
SQL
  # The demo's database, the tests' own (as the tests have their own RabbitMQ virtual host) and the load harness's.
  local db
  for db in "$IG_POSTGRES_DB" "$IG_POSTGRES_TEST_DB" "$IG_POSTGRES_LOAD_DB"; do
    as_user postgres "${psql[@]}" -d postgres -v db="$db" -v user="$IG_POSTGRES_USER" >/dev/null <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SQL
  done
  log "PostgreSQL ready: databases $IG_POSTGRES_DB, $IG_POSTGRES_TEST_DB and $IG_POSTGRES_LOAD_DB, user $IG_POSTGRES_USER, 127.0.0.1:$IG_POSTGRES_PORT (TLS)"
}

# TLS on PostgreSQL's TCP listener, with the certificate install_certificate put in place (TLS 1.2 at least).
postgres_tls_settings() { printf -- "-c ssl=on -c ssl_cert_file='%s/server.crt' -c ssl_key_file='%s/server.key' -c ssl_min_protocol_version=TLSv1.2" "$1" "$1"; }

start_rabbitmq() {
  local dir="$IG_STATE_DIR/rabbitmq"
  # Whether epmd (Erlang's port mapper) ran before us, so down.sh stops it only if we started it. Asked before
  # any RabbitMQ command: the command-line tools start epmd themselves.
  local epmd_was_running=yes
  epmd -names >/dev/null 2>&1 || epmd_was_running=no
  # The message store holds intake messages in plain JSON: the broker's folders are its user's alone (files it
  # makes under umask 027, below; what an older up.sh left readable is closed here).
  mkdir -p "$dir/mnesia" "$dir/log"
  # Quorum queues need no plugin; no management UI is started.
  [ -f "$dir/enabled_plugins" ] || echo '[].' > "$dir/enabled_plugins"
  install_certificate rabbitmq "$dir/tls"
  # Two listeners on loopback: TLS, which the gateway, the tests and the demo use, and plain, which the load harness
  # uses so that its figures stay comparable (and the gateway allows for loopback only). A client certificate is
  # checked when one is offered, not required. No message over 16 MiB (the most Intake:MaxMessageBytes allows) is
  # taken at all: the publisher is refused and keeps it, instead of the intake receiving, sealing and quarantining
  # a 100 MiB body on every redelivery (RabbitMQ's own limit is 128 MiB).
  local previous=""
  [ -f "$dir/rabbitmq.conf" ] && previous="$(cat "$dir/rabbitmq.conf")"
  cat > "$dir/rabbitmq.conf" <<CONF
max_message_size = 16777216
listeners.tcp.default = 127.0.0.1:$IG_RABBITMQ_PORT
listeners.ssl.default = 127.0.0.1:$IG_RABBITMQ_TLS_PORT
ssl_options.cacertfile = $dir/tls/ca.crt
ssl_options.certfile = $dir/tls/server.crt
ssl_options.keyfile = $dir/tls/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = false
ssl_options.versions.1 = tlsv1.3
ssl_options.versions.2 = tlsv1.2
log.file.level = warning
CONF
  is_root && chown -R rabbitmq:rabbitmq "$dir"
  chmod -R g-w,o-rwx "$dir"

  # A node started with another configuration (by an older up.sh) is stopped and started again with this one.
  if [ "$previous" != "$(cat "$dir/rabbitmq.conf")" ] && rabbit rabbitmqctl status >/dev/null 2>&1; then
    log "restarting RabbitMQ node $IG_RABBITMQ_NODENAME: its configuration changed"
    rabbit rabbitmqctl -q stop "$dir/rabbitmq.pid" >/dev/null
  fi
  if rabbit rabbitmqctl status >/dev/null 2>&1; then
    log "RabbitMQ node $IG_RABBITMQ_NODENAME already runs"
  else
    if [ "$epmd_was_running" = no ]; then touch "$dir/.started-epmd"; fi
    log "starting RabbitMQ node $IG_RABBITMQ_NODENAME on 127.0.0.1:$IG_RABBITMQ_PORT"
    setsid bash -c "umask 027; $(declare -f rabbit as_user is_root); rabbit rabbitmq-server" >"$dir/log/startup.log" 2>&1 </dev/null &
  fi
  local i
  for i in $(seq 1 120); do
    rabbit rabbitmqctl await_startup --timeout 2 >/dev/null 2>&1 && break
    sleep 1
  done
  rabbit rabbitmq-diagnostics -q check_port_connectivity >/dev/null 2>&1 \
    || die "RabbitMQ does not answer on 127.0.0.1:$IG_RABBITMQ_PORT; see $dir/log"
  [ "${1:-}" = node-only ] && return 0
  provision_rabbitmq "$IG_RABBITMQ_VHOST $IG_RABBITMQ_LOAD_VHOST" "$IG_RABBITMQ_TEST_VHOST"
  log "RabbitMQ ready: amqps://127.0.0.1:$IG_RABBITMQ_TLS_PORT (plain amqp on $IG_RABBITMQ_PORT), vhosts $IG_RABBITMQ_VHOST, $IG_RABBITMQ_TEST_VHOST and $IG_RABBITMQ_LOAD_VHOST, user $IG_RABBITMQ_USER, publishers: $IG_PUBLISHERS"
}

# The gateway's user, the quarantine's republisher and one user per controller publisher, with their permissions, on
# whatever node `rabbit` reaches: this checkout's node, or a compose cluster's through `docker exec` (deploy/compose
# redefines `rabbit`; a cluster shares its users and vhosts). $1: the vhosts the gateway serves; $2: the tests' vhost,
# where each test has its own intake exchange too, or empty for none.
provision_rabbitmq() {
  local served="$1" tests="${2:-}"
  # Listings are read whole before they are searched: grep -q closing a pipe early fails it under pipefail.
  local users vhosts
  users="$(rabbit rabbitmqctl -q list_users | awk '{print $1}')"
  # Passwords go on stdin, never on the command line, where `ps` would show them to every local user.
  if grep -qx "$IG_RABBITMQ_USER" <<<"$users"; then
    rabbit rabbitmqctl -q change_password "$IG_RABBITMQ_USER" <<<"$IG_RABBITMQ_PASSWORD" >/dev/null
  else
    rabbit rabbitmqctl -q add_user "$IG_RABBITMQ_USER" <<<"$IG_RABBITMQ_PASSWORD" >/dev/null
  fi
  rabbit rabbitmqctl -q set_user_tags "$IG_RABBITMQ_USER" >/dev/null  # no tags: it cannot set another user's user_id
  # The republisher: 'quarantine republish' sends a message under its publisher's user_id, which takes the
  # 'impersonator' tag; so that user may write to the intake exchanges and nothing else.
  if grep -qx "$IG_RABBITMQ_REPUBLISHER_USER" <<<"$users"; then
    rabbit rabbitmqctl -q change_password "$IG_RABBITMQ_REPUBLISHER_USER" <"$IG_REPUBLISHER_PASSWORD_FILE" >/dev/null
  else
    rabbit rabbitmqctl -q add_user "$IG_RABBITMQ_REPUBLISHER_USER" <"$IG_REPUBLISHER_PASSWORD_FILE" >/dev/null
  fi
  rabbit rabbitmqctl -q set_user_tags "$IG_RABBITMQ_REPUBLISHER_USER" impersonator >/dev/null
  # The well-known guest/guest account is of no use here and a risk anywhere.
  if grep -qx guest <<<"$users"; then
    rabbit rabbitmqctl -q delete_user guest >/dev/null
  fi
  local vhost
  vhosts="$(rabbit rabbitmqctl -q list_vhosts)"
  for vhost in $served $tests; do
    grep -qx "$vhost" <<<"$vhosts" || rabbit rabbitmqctl -q add_vhost "$vhost" >/dev/null
    rabbit rabbitmqctl -q set_permissions -p "$vhost" "$IG_RABBITMQ_USER" '.*' '.*' '.*' >/dev/null
  done
  for vhost in $served; do
    rabbit rabbitmqctl -q set_permissions -p "$vhost" "$IG_RABBITMQ_REPUBLISHER_USER" '^$' '^integration-gateway\.intake$' '^$' >/dev/null
  done
  if [ -n "$tests" ]; then
    rabbit rabbitmqctl -q set_permissions -p "$tests" "$IG_RABBITMQ_REPUBLISHER_USER" '^$' '^(integration-gateway\.intake|it\.intake\.[0-9a-f]{32})$' '^$' >/dev/null
  fi
  create_publishers "$users" "$served" "$tests"
}

# One broker user per controller publisher (deploy/config/controllers/*.yaml, brokerUsers). A publisher may write to
# the intake exchange, the shared contract exchanges and its own, and read nothing: it cannot consume, get, purge, bind
# or declare a queue. MassTransit declares the exchange of each type it publishes, which takes configure permission on
# it, so a publisher may (re)declare its own contract exchanges, <user>.IntegrationGateway.Contracts:<Type>, which the
# gateway binds to the intake, and no one else's: deleting them cuts off no one but itself. Set IG_PUBLISHER_CONFIGURE='^$'
# where every publisher sends raw JSON. No tags: without 'impersonator', RabbitMQ refuses a user_id but the user's own.
create_publishers() {
  local users="$1" served="$2" tests="$3" publisher vhost
  local contracts='IntegrationGateway\.Contracts:[A-Za-z]+'
  for publisher in $IG_PUBLISHERS; do
    # Broker user names are [a-z0-9-] (the registry's rule): nothing in them needs escaping in a pattern.
    local own="${publisher}\\.${contracts}"
    local configure="${IG_PUBLISHER_CONFIGURE:-^${own}\$}"
    # The password from its file, on stdin (not on the command line, where `ps` would show it).
    if grep -qx "$publisher" <<<"$users"; then
      rabbit rabbitmqctl -q change_password "$publisher" <"$Publishers__SecretsDirectory/$publisher.password" >/dev/null
    else
      rabbit rabbitmqctl -q add_user "$publisher" <"$Publishers__SecretsDirectory/$publisher.password" >/dev/null
    fi
    rabbit rabbitmqctl -q set_user_tags "$publisher" >/dev/null
    # The demo's intake (and the load harness's); in the tests' vhost also each test's own intake exchange (it.intake.<32 hex>).
    for vhost in $served; do
      rabbit rabbitmqctl -q set_permissions -p "$vhost" "$publisher" "$configure" "^(integration-gateway\.intake|${contracts}|${own})\$" '^$' >/dev/null
    done
    if [ -n "$tests" ]; then
      rabbit rabbitmqctl -q set_permissions -p "$tests" "$publisher" "$configure" "^(integration-gateway\.intake|it\.intake\.[0-9a-f]{32}|${contracts}|${own})\$" '^$' >/dev/null
    fi
  done
}

# Sourced (deploy/compose/up.sh does, for the certificates and the broker's users): the functions only.
if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  return 0
fi

# `up.sh postgres` or `up.sh rabbitmq-node` starts that one again and nothing else (deploy/local/fault.sh, after
# it stopped it: the users, vhosts and database are there already).
case "${1:-}" in
  postgres) resolve_state_dir; make_certificates; start_postgres; exit 0 ;;
  rabbitmq-node) resolve_state_dir; make_certificates; start_rabbitmq node-only; exit 0 ;;
  "") ;;
  *) die "usage: $0 [postgres|rabbitmq-node]" ;;
esac

install_packages
resolve_state_dir
make_certificates
start_postgres
start_rabbitmq
