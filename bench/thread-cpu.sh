#!/usr/bin/env bash
# CPU of the server process by thread name (from /proc/<pid>/task/*/stat, user + system), from 3 s after it starts
# until it exits: run it, then start a load driver (`job`, `cluster 1 N sqlite`) in another shell.
# Usage: bench/thread-cpu.sh [process pattern, default RunbookPilot.Host.dll]
set -euo pipefail
pattern=${1:-RunbookPilot.Host.dll}
pid=""
while [ -z "$pid" ]; do pid=$(pgrep -f "$pattern" | head -1 || true); sleep 0.2; done
sleep 3
snapshot() {
  for t in /proc/"$pid"/task/*; do
    echo "$(basename "$t")|$(cat "$t/comm" 2>/dev/null)|$(cut -d')' -f2 "$t/stat" 2>/dev/null | awk '{print $12 + $13}')"
  done | grep -E '\|[0-9]+$' || true
}
first=$(snapshot)
last=$first
while kill -0 "$pid" 2>/dev/null; do
  now=$(snapshot) && [ -n "$now" ] && last=$now
  sleep 0.5
done
python3 - "$first" "$last" <<'EOF'
import collections, sys
def parse(text):
    return {f[0]: (f[1], int(f[2])) for f in (line.split("|") for line in text.splitlines()) if len(f) == 3 and f[2]}
first, last = parse(sys.argv[1]), parse(sys.argv[2])
by_name = collections.Counter()
for tid, (name, ticks) in last.items():
    by_name[name] += ticks - first.get(tid, (name, 0))[1]
total = sum(by_name.values())
print(f"CPU of the process: {total / 100:.2f} s")
for name, ticks in by_name.most_common(10):
    print(f"{100 * ticks / max(total, 1):6.1f} %  {name}")
EOF
