#!/usr/bin/env bash
# Runs the docker-compose topology (profile "single") without Docker: the same server process on 127.0.0.1, over a fresh SQLite file, with
# the audit key and the checkpoint file outside the data folder as compose sets them, and --demo so the vendor simulators
# stand in for the vendors (compose runs without it: configure the vendors in playbooks/adapters.yaml). Then checks it end
# to end (health, an alert through the webhook, the approval it creates, the dashboard). Exits non-zero on failure.
#
# `scripts/run-topology.sh cluster` starts the compose "cluster" profile the same way (see below).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
port=${PORT:-18080}
mkdir -p "$work/data" "$work/audit"

# ---- cluster: three nodes over one PostgreSQL, mutual TLS between them -------------------------------------------------
# The compose "cluster" profile as processes on 127.0.0.1: PostgreSQL (the Debian package, on 127.0.0.1:5432 as
# ./test.sh starts it; RBPILOT_PG overrides the server), the certificates made by `runbookpilot cluster certs`, three
# server processes, every one listing all three as seeds. Checks: every node is healthy, an alert posted to node 2 waits for approval on
# node 3's API, node 1 approves it. Exits non-zero on failure.
cluster() {
  local pg=${RBPILOT_PG:-Host=127.0.0.1;Port=5432;Username=postgres;Password=rbp-test}
  local db="rbp_topology_$RANDOM$RANDOM"
  dotnet build src/Host -c Release --nologo -v quiet >/dev/null
  dotnet build src/Cli -c Release --nologo -v quiet >/dev/null
  PGPASSWORD=$(echo "$pg" | sed -n 's/.*Password=\([^;]*\).*/\1/p') psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db" postgres
  dotnet src/Cli/bin/Release/net10.0/runbookpilot.dll cluster certs --out "$work/certs" --nodes 3 >/dev/null
  local pass="topology-$RANDOM-$RANDOM" key="topology-audit-key-$RANDOM-$RANDOM-$RANDOM" base=${PORT:-18080} remote=${REMOTE_PORT:-14053}
  pids=()
  for n in 1 2 3; do
    RBPILOT_DB="$pg;Database=$db" RBPILOT_PLAYBOOKS="$PWD/playbooks" RBPILOT_USER=admin RBPILOT_PASS="$pass" RBPILOT_AUDIT_KEY="$key" \
    RBPILOT_AUDIT_CHECKPOINTS="$work/audit/node$n.jsonl" RBPILOT_CLUSTER_SEEDS="127.0.0.1:$remote,127.0.0.1:$((remote + 1)),127.0.0.1:$((remote + 2))" RBPILOT_CLUSTER_PORT=$((remote + n - 1)) \
    RBPILOT_TLS_CA="$work/certs/ca.crt" RBPILOT_TLS_CERT="$work/certs/node-$n.pfx" \
      dotnet src/Host/bin/Release/net10.0/RunbookPilot.Host.dll --demo --urls "http://127.0.0.1:$((base + n))" >"$work/node$n.log" 2>&1 &
    pids+=($!)
    [ $n -eq 1 ] && sleep 3 # the seed first
  done
  trap 'kill ${pids[*]} 2>/dev/null || true; PGPASSWORD=$(echo "$pg" | sed -n "s/.*Password=\([^;]*\).*/\1/p") psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" postgres >/dev/null 2>&1; rm -rf "$work"' EXIT
  for n in 1 2 3; do
    for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$((base + n))/health" >/dev/null && break; sleep 0.5; done
    curl -fs "http://127.0.0.1:$((base + n))/health" >/dev/null || { echo "node $n not healthy"; cat "$work/node$n.log"; exit 1; }
  done
  curl -fs -u "admin:$pass" -X POST "http://127.0.0.1:$((base + 2))/events" -H 'Content-Type: application/json' \
    -d '{"event":{"id":"topology-c1","category":["intrusion_detection"]},"source":{"ip":"203.0.113.7","host":{"name":"WS-1"}},"destination":{"ip":"10.0.3.12"},"threat":{"tactic":{"name":"Lateral Movement"},"technique":{"id":"T1021.001"}}}' >/dev/null
  for _ in $(seq 1 80); do
    execution=$(curl -fs -u "admin:$pass" "http://127.0.0.1:$((base + 3))/api/v1/approvals" | python3 -c 'import json,sys; a=[x for x in json.load(sys.stdin)["approvals"] if x["step_id"]=="step_3"]; print(a[0]["execution_id"] if a else "")')
    if [ -n "$execution" ]; then
      curl -fs -u "admin:$pass" -X POST "http://127.0.0.1:$((base + 1))/api/v1/executions/$execution/approve?wait=30" -H 'Content-Type: application/json' -d '{"comment":"topology"}'
      echo
      echo "cluster topology ok: 3 nodes up; an alert posted to node 2 waited for approval on node 3 and node 1 approved it"
      exit 0
    fi
    sleep 0.25
  done
  echo "cluster topology FAILED"; tail -50 "$work"/node*.log; exit 1
}

if [ "${1:-single}" = cluster ]; then cluster; fi

export RBPILOT_DB="$work/data/runbookpilot.db" RBPILOT_PLAYBOOKS="$PWD/playbooks" RBPILOT_USER=admin RBPILOT_PASS="topology-$RANDOM-$RANDOM" \
  RBPILOT_AUDIT_KEY="topology-audit-key-$RANDOM-$RANDOM-$RANDOM" RBPILOT_AUDIT_CHECKPOINTS="$work/audit/checkpoints.jsonl"
dotnet build src/Host -c Release --nologo -v quiet >/dev/null
dotnet src/Host/bin/Release/net10.0/RunbookPilot.Host.dll --demo --urls "http://127.0.0.1:$port" >"$work/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.5; done
curl -fs "http://127.0.0.1:$port/health"; echo
curl -fs -u "admin:$RBPILOT_PASS" -X POST "http://127.0.0.1:$port/events" -H 'Content-Type: application/json' \
  -d '{"event":{"id":"topology-1","category":["intrusion_detection"]},"source":{"ip":"203.0.113.7","host":{"name":"WS-1"}},"destination":{"ip":"10.0.3.12"},"threat":{"tactic":{"name":"Lateral Movement"},"technique":{"id":"T1021.001"}}}'
echo
for _ in $(seq 1 40); do
  if curl -fs -u "admin:$RBPILOT_PASS" "http://127.0.0.1:$port/api/v1/approvals" | grep -q '"step_id":"step_3"'; then
    # The dashboard is served by the same process: its page and its script.
    curl -fs -u "admin:$RBPILOT_PASS" "http://127.0.0.1:$port/" | grep -q "Approval queue"
    curl -fs -u "admin:$RBPILOT_PASS" -o /dev/null "http://127.0.0.1:$port/_framework/blazor.web.js"
    echo "topology ok: the alert is waiting for approval of step_3; the dashboard answers"
    exit 0
  fi
  sleep 0.25
done
echo "topology FAILED"; cat "$work/server.log"; exit 1
