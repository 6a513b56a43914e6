#!/usr/bin/env bash
# Runs the docker-compose topology without Docker: the same server process on 127.0.0.1, over a fresh SQLite file, with
# the audit key and the checkpoint file outside the data folder as compose sets them, and --demo so the vendor simulators
# stand in for the vendors (compose runs without it: configure the vendors in playbooks/adapters.yaml). Then checks it end
# to end (health, an alert through the webhook, the approval it creates, the dashboard). Exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
port=${PORT:-18080}
mkdir -p "$work/data" "$work/audit"
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
