#!/usr/bin/env bash
# The load harness: a benchmark, not a test (figures, never pass or fail on them). In one run, on the local services
# (started if they are not), over the same kind of queue (durable quorum, persistent messages, prefetch 32):
#   a raw RabbitMQ.Client consumer that only acknowledges, a MassTransit 8.5.12 no-op consumer, and the gateway in
#   Release (its own process, the agency simulator as every recipient) draining AbsenceReported (2 routes),
#   DiplomaAwarded (1 route) and a mix of every event type; then each again at half the rate it reached.
# Writes artifacts/load/report.md, report.json and report.png, and prints the report. Options:
#   --events N (20000 per workload)  --warmup N (events/10)  --paced N (events/4)  --runs K (1)
#   --replicas R (also the 2-route workload with R gateway processes)  --backlog N (also a backlog of N, for peak RSS)
# Before measuring, stop anything else that uses the cores (a demo, a test run): the figures are the machine's.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/env.sh"
cd "$IG_ROOT"
# Plain AMQP and PostgreSQL on loopback, as for every figure in the README so far: the three consumers compared
# pay the same (no) TLS. IG_LOAD_TLS=1 measures over the TLS listeners instead.
if [ "${IG_LOAD_TLS:-0}" != 1 ]; then
  export RabbitMq__Port="$IG_RABBITMQ_PORT" RabbitMq__Tls__Enabled=false
  export ConnectionStrings__Gateway="${ConnectionStrings__Gateway/SSL Mode=VerifyFull/SSL Mode=Disable}"
fi

"$here/up.sh"
log "building in Release"
dotnet build IntegrationGateway.sln -c Release --nologo -v q -clp:ErrorsOnly
IG_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  dotnet tests/IntegrationGateway.Load/bin/Release/net10.0/IntegrationGateway.Load.dll "$@"
