#!/usr/bin/env bash
# The test command (README "Run the tests"). Installs what the tests need, builds with warnings as errors,
# runs every test project, and reports line coverage of the playbook loader and validator.
# Works on a fresh Debian machine with only the .NET 10 SDK; run as root or with sudo available.
set -euo pipefail
# Tests never leave the loopback interface: no real model endpoint, whatever this shell has configured.
unset OPENROUTER_API_KEY RBPILOT_LLM_BASE_URL RBPILOT_LLM_API_KEY RBPILOT_LLM_MODEL || true
cd "$(dirname "$0")"

# System packages the tests need: python3 (coverage report), Debian's Chromium (the dashboard's end-to-end tests, driven
# by Playwright; its own browser download is never used) and PostgreSQL (the engine over PostgreSQL, as a cluster runs).
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
need=()
command -v python3 >/dev/null 2>&1 || need+=(python3)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

# A local PostgreSQL on 127.0.0.1 for the tests (each test creates and drops a database of its own).
pgver=$(ls /usr/lib/postgresql | sort -V | tail -1)
pg_lsclusters -h | grep -q . || $SUDO pg_createcluster "$pgver" main >/dev/null
pgcluster=$(pg_lsclusters -h | awk 'NR==1 {print $1" "$2}')
pg_lsclusters -h | awk 'NR==1 {print $4}' | grep -q online || $SUDO pg_ctlcluster $pgcluster start
$SUDO runuser -u postgres -- psql -qc "ALTER USER postgres PASSWORD 'rbp-test'"
export RBPILOT_TEST_POSTGRES="Host=127.0.0.1;Port=$(pg_lsclusters -h | awk 'NR==1 {print $3}');Username=postgres;Password=rbp-test;Database=postgres"

dotnet restore RunbookPilot.sln --nologo -v quiet
dotnet build RunbookPilot.sln --no-restore --nologo -v quiet -c Debug

rm -rf artifacts/test-results && mkdir -p artifacts
# One test assembly at a time: each starts real servers, engines and Chromium, and on 2 cores five of them at once
# starve each other's timers (the engine's restart test then waited past its budget).
status=0
dotnet test RunbookPilot.sln --no-build --nologo -c Debug \
  --collect:"XPlat Code Coverage" --results-directory artifacts/test-results \
  --logger "console;verbosity=minimal" \
  -- RunConfiguration.MaxCpuCount=1 2>&1 | tee artifacts/test-output.txt || status=$?

python3 scripts/coverage.py artifacts/test-results || status=$?

passed=$(grep -Eo 'Passed: +[0-9]+' artifacts/test-output.txt | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' artifacts/test-output.txt | awk '{s+=$2} END {print s+0}')
echo "tests: ${passed} passed, ${failed} failed"
exit $status
