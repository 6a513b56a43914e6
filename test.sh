#!/usr/bin/env bash
# The test command (README "Run the tests"). Installs what the tests need, builds with warnings as errors,
# runs every test project, and reports line coverage of the playbook loader and validator.
# Works on a fresh Debian machine with only the .NET 10 SDK; run as root or with sudo available.
set -euo pipefail
# Tests never leave the loopback interface: no real model endpoint, whatever this shell has configured.
unset OPENROUTER_API_KEY RBPILOT_LLM_BASE_URL RBPILOT_LLM_API_KEY RBPILOT_LLM_MODEL || true
cd "$(dirname "$0")"

# System packages the tests need: python3 (coverage report) and Debian's Chromium (the dashboard's end-to-end tests,
# driven by Playwright; its own browser download is never used).
need=()
command -v python3 >/dev/null 2>&1 || need+=(python3)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need[@]}"
fi

dotnet restore RunbookPilot.sln --nologo -v quiet
dotnet build RunbookPilot.sln --no-restore --nologo -v quiet -c Debug

rm -rf artifacts/test-results && mkdir -p artifacts
status=0
dotnet test RunbookPilot.sln --no-build --nologo -c Debug \
  --collect:"XPlat Code Coverage" --results-directory artifacts/test-results \
  --logger "console;verbosity=minimal" 2>&1 | tee artifacts/test-output.txt || status=$?

python3 scripts/coverage.py artifacts/test-results || status=$?

passed=$(grep -Eo 'Passed: +[0-9]+' artifacts/test-output.txt | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' artifacts/test-output.txt | awk '{s+=$2} END {print s+0}')
echo "tests: ${passed} passed, ${failed} failed"
exit $status
