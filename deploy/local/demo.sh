#!/usr/bin/env bash
# The README's demo command. Brings up RabbitMQ and PostgreSQL, builds, starts the agency simulator and the
# gateway, publishes sample AbsenceReported events through the real broker and prints a summary per
# recipient. Then keeps running with the ops URL printed until Ctrl-C; with --exit-after-summary it stops
# after the summary (exit 0 when every event was settled and every delivery recorded by the simulator).
# Other options go to the gateway's demo verb: --count N, --seed S, --timeout SECONDS.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/env.sh"
cd "$IG_ROOT"

"$here/up.sh"
log "building"
dotnet build IntegrationGateway.sln --nologo -v q -clp:ErrorsOnly

simulator_url="http://127.0.0.1:$IG_SIMULATOR_PORT"
if curl -fsS "$simulator_url/health" >/dev/null 2>&1; then
  die "something already answers on $simulator_url (an earlier demo?). Stop it, or set IG_SIMULATOR_PORT."
fi
mkdir -p "$IG_ROOT/.local/log"
log "starting the agency simulator on $simulator_url (log: .local/log/simulator.log)"
dotnet run --no-build --project tests/AgencySimulator -- --urls "$simulator_url" >"$IG_ROOT/.local/log/simulator.log" 2>&1 &
simulator_pid=$!
trap 'kill "$simulator_pid" 2>/dev/null || true; wait "$simulator_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 150); do
  curl -fsS "$simulator_url/health" >/dev/null 2>&1 && break
  kill -0 "$simulator_pid" 2>/dev/null || die "the simulator exited; see .local/log/simulator.log"
  sleep 0.2
done
curl -fsS "$simulator_url/health" >/dev/null 2>&1 || die "the simulator did not answer on $simulator_url within 30 s; see .local/log/simulator.log"

export Urls="http://127.0.0.1:$IG_GATEWAY_PORT"
# The demo publishes made-up people: the gateway runs it in the Development environment only.
export DOTNET_ENVIRONMENT=Development
log "starting the gateway on $Urls (RabbitMQ vhost $IG_RABBITMQ_VHOST)"
dotnet run --no-build --project src/Gateway -- demo --simulator "$simulator_url" "$@"
