# Shared settings of the deploy/local scripts. Sourced, not run. Every value can be overridden from the
# environment; the gateway, the tests and the demo read the same variables.
IG_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export IG_ROOT
[ -n "${IG_STATE_DIR:-}" ] && IG_STATE_DIR_SET=1
export IG_STATE_DIR="${IG_STATE_DIR:-$IG_ROOT/.local}"

export IG_RABBITMQ_PORT="${IG_RABBITMQ_PORT:-5682}"
# The broker's TLS listener (what the gateway, the tests and the demo use); the plain one stays for the load harness.
export IG_RABBITMQ_TLS_PORT="${IG_RABBITMQ_TLS_PORT:-$((IG_RABBITMQ_PORT + 1000))}"
export IG_RABBITMQ_NODENAME="${IG_RABBITMQ_NODENAME:-integration-gateway-$IG_RABBITMQ_PORT@localhost}"
export IG_RABBITMQ_USER="${IG_RABBITMQ_USER:-gateway}"
export IG_RABBITMQ_VHOST="${IG_RABBITMQ_VHOST:-integration-gateway}"
export IG_RABBITMQ_TEST_VHOST="${IG_RABBITMQ_TEST_VHOST:-integration-gateway-test}"
# The load harness's own (deploy/local/load.sh): its queues and ledger never mix with the demo's or the tests'.
export IG_RABBITMQ_LOAD_VHOST="${IG_RABBITMQ_LOAD_VHOST:-integration-gateway-load}"

export IG_POSTGRES_PORT="${IG_POSTGRES_PORT:-5442}"
export IG_POSTGRES_DB="${IG_POSTGRES_DB:-integration_gateway}"
export IG_POSTGRES_TEST_DB="${IG_POSTGRES_TEST_DB:-integration_gateway_test}"
export IG_POSTGRES_LOAD_DB="${IG_POSTGRES_LOAD_DB:-integration_gateway_load}"
export IG_POSTGRES_USER="${IG_POSTGRES_USER:-gateway}"

export IG_SIMULATOR_PORT="${IG_SIMULATOR_PORT:-5080}"
export IG_GATEWAY_PORT="${IG_GATEWAY_PORT:-5070}"

# The local secrets: readable by whoever runs the scripts, no one else.
mkdir -p "$IG_ROOT/.local/secrets" && chmod 700 "$IG_ROOT/.local/secrets"
# A random secret kept in .local/secrets/<name>, made once per checkout; prints it.
local_secret() {
  local file="$IG_ROOT/.local/secrets/$1"
  [ -s "$file" ] || (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$file")
  tr -d '\n' < "$file"
}
# The gateway's own broker and database passwords: random per checkout (up.sh sets them on the services), so
# no password that ships in the repository opens this machine's broker or database.
IG_RABBITMQ_PASSWORD="${IG_RABBITMQ_PASSWORD:-$(local_secret rabbitmq.password)}"
IG_POSTGRES_PASSWORD="${IG_POSTGRES_PASSWORD:-$(local_secret postgres.password)}"
export IG_RABBITMQ_PASSWORD IG_POSTGRES_PASSWORD

# The local CA and the services' certificates (up.sh makes them).
export IG_TLS_DIR="$IG_ROOT/.local/tls"

# What the gateway reads (ASP.NET Core configuration from environment variables). Both services over TLS, each
# server's certificate checked against the local CA and its name.
export RabbitMq__Host=127.0.0.1
export RabbitMq__Port="$IG_RABBITMQ_TLS_PORT"
export RabbitMq__Tls__Enabled=true
export RabbitMq__Tls__CaFile="$IG_TLS_DIR/ca.crt"
export RabbitMq__VirtualHost="$IG_RABBITMQ_VHOST"
export RabbitMq__Username="$IG_RABBITMQ_USER"
export RabbitMq__Password="$IG_RABBITMQ_PASSWORD"
export ConnectionStrings__Gateway="Host=127.0.0.1;Port=$IG_POSTGRES_PORT;Database=$IG_POSTGRES_DB;Username=$IG_POSTGRES_USER;Password=$IG_POSTGRES_PASSWORD;SSL Mode=VerifyFull;Root Certificate=$IG_TLS_DIR/ca.crt;Timeout=5;Command Timeout=10"
export Agreements__Directory="$IG_ROOT/deploy/config/agreements"
export Controllers__Directory="$IG_ROOT/deploy/config/controllers"

# Each controller publishes as its own broker user (the registry's brokerUsers), with a random password per
# checkout in .local/secrets/broker/<user>.password; up.sh creates the users with write permission on the intake
# only. `events publish --as <user>` and the tests read the same files. A real deployment provisions its own.
# Block lists (`- name`) and flow lists (`[a, b]`), quotes and CRs stripped; only names the registry allows (the gateway's
# loader refuses the file otherwise) become users and file names.
IG_PUBLISHERS="$(awk '
  FNR == 1 { on = 0 }
  { sub(/\r$/, "") }
  /^brokerUsers:/ { on = 1; rest = $0; sub(/^brokerUsers:[ ]*/, "", rest); if (rest ~ /^\[/) { gsub(/[][",'"'"' ]/, " ", rest); n = split(rest, users, " "); for (i = 1; i <= n; i++) print users[i]; on = 0 }; next }
  on && /^ *- / { name = $2; gsub(/["'"'"']/, "", name); print name; next }
  on && /^[^ #-]/ { on = 0 }' "$IG_ROOT"/deploy/config/controllers/*.yaml | grep -E '^[a-z0-9]+(-[a-z0-9]+)*$' | sort -u | tr '\n' ' ')"
export IG_PUBLISHERS
export Publishers__SecretsDirectory="$IG_ROOT/.local/secrets/broker"
# The quarantine's republisher (impersonator, write on the intake only): 'quarantine republish' uses it.
export IG_RABBITMQ_REPUBLISHER_USER="${IG_RABBITMQ_REPUBLISHER_USER:-gateway-republisher}"
export IG_REPUBLISHER_PASSWORD_FILE="$IG_ROOT/.local/secrets/republisher.password"
export Quarantine__Republisher__Username="$IG_RABBITMQ_REPUBLISHER_USER"
Quarantine__Republisher__Password="$(local_secret republisher.password)"
export Quarantine__Republisher__Password
mkdir -p "$Publishers__SecretsDirectory" && chmod 700 "$Publishers__SecretsDirectory"
for publisher in $IG_PUBLISHERS; do local_secret "broker/$publisher.password" >/dev/null; done
# Every request to a recipient is signed (Standard Webhooks) with that recipient's secret. Locally: one random
# secret per recipient id, in .local/secrets/<id>.whsec; the gateway signs with it and the agency
# simulator verifies with it. A real deployment mounts each agency's secret instead.
# The recipients are those the agreements name (every recipient has one), read from the agreement files' own key.
IG_RECIPIENTS="$(awk '/^recipient:/ { print tolower($2) }' "$IG_ROOT"/deploy/config/agreements/*.yaml | sort -u | tr '\n' ' ')"
export IG_RECIPIENTS
export Signing__SecretsDirectory="$IG_ROOT/.local/secrets"
mkdir -p "$Signing__SecretsDirectory"
for recipient in $IG_RECIPIENTS; do
  if [ ! -s "$Signing__SecretsDirectory/$recipient.whsec" ]; then
    (umask 077 && printf 'whsec_%s\n' "$(head -c 32 /dev/urandom | base64)" > "$Signing__SecretsDirectory/$recipient.whsec")
  fi
done

# The ledger's key: it keys the chain and the subjects' pseudonyms. Never stored in the database; lose it and the
# ledger can no longer be verified. Random per checkout here; a real deployment keeps it in its secret store.
if [ -z "${Ledger__Key:-}" ]; then
  if [ ! -s "$IG_ROOT/.local/ledger.key" ]; then
    mkdir -p "$IG_ROOT/.local" && (umask 077 && head -c 32 /dev/urandom | base64 > "$IG_ROOT/.local/ledger.key")
  fi
  Ledger__Key="$(cat "$IG_ROOT/.local/ledger.key")"
  export Ledger__Key
fi

# The key that seals quarantined messages and parked payloads: random per checkout, kept beside the local state, never committed.
# A real deployment sets Sealing__Key from its secret store.
if [ -z "${Sealing__Key:-}" ]; then
  if [ ! -s "$IG_ROOT/.local/sealing.key" ]; then
    mkdir -p "$IG_ROOT/.local" && (umask 077 && head -c 32 /dev/urandom | base64 > "$IG_ROOT/.local/sealing.key")
  fi
  Sealing__Key="$(cat "$IG_ROOT/.local/sealing.key")"
  export Sealing__Key
fi

# Where up.sh put the state (it may have moved it out of a checkout the service users cannot reach).
[ -f "$IG_ROOT/.local/state-dir" ] && [ -z "${IG_STATE_DIR_SET:-}" ] && IG_STATE_DIR="$(cat "$IG_ROOT/.local/state-dir")"

is_root() { [ "$(id -u)" = 0 ]; }

# Runs a command as a service's own user when we are root (RabbitMQ and PostgreSQL refuse to run as root);
# otherwise as ourselves.
as_user() {
  local user="$1"; shift
  if is_root; then runuser -u "$user" -- "$@"; else "$@"; fi
}

# Runs a RabbitMQ program (rabbitmq-server, rabbitmqctl, rabbitmq-diagnostics) for this project's node.
rabbit() {
  local program="$1"; shift
  local dir="$IG_STATE_DIR/rabbitmq" home="$HOME"
  is_root && home=/var/lib/rabbitmq  # where the rabbitmq user keeps its Erlang cookie
  as_user rabbitmq env HOME="$home" \
    RABBITMQ_NODENAME="$IG_RABBITMQ_NODENAME" \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$IG_RABBITMQ_PORT" \
    RABBITMQ_DIST_PORT="$((IG_RABBITMQ_PORT + 20000))" \
    ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_MNESIA_BASE="$dir/mnesia" \
    RABBITMQ_LOG_BASE="$dir/log" \
    RABBITMQ_CONFIG_FILE="$dir/rabbitmq" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
    RABBITMQ_PID_FILE="$dir/rabbitmq.pid" \
    "/usr/lib/rabbitmq/bin/$program" "$@"
}

# The operating-system user a service runs as: its own when we are root, ourselves otherwise.
server_user() { if is_root; then printf '%s' "$1"; else id -un; fi; }

postgres_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }

# A short folder for PostgreSQL's unix socket, unique to this state folder and port.
postgres_socket_dir() { printf '/tmp/ig-pg-%s' "$(printf '%s:%s' "$IG_STATE_DIR" "$IG_POSTGRES_PORT" | sha1sum | cut -c1-10)"; }

# Whether this project's RabbitMQ node is registered with epmd. Asked without the RabbitMQ CLI, which would
# start epmd itself.
rabbit_node_registered() { epmd -names 2>/dev/null | grep -q "^name ${IG_RABBITMQ_NODENAME%@*} "; }

log() { printf '[deploy/local] %s\n' "$*" >&2; }
die() { printf '[deploy/local] ERROR: %s\n' "$*" >&2; exit 1; }
