#!/usr/bin/env python3
"""Sums a `perf record -g` profile of the server (on-CPU samples) by the frames on each sample's stack: the share of
samples in each area bench/README.md reports (a sample counts once per area, however many of its frames match) and the
top frames by self CPU. The server must run with DOTNET_PerfMapEnabled=1 and DOTNET_EnableWriteXorExecute=0 so that
perf can name JIT-compiled methods. Usage: perf script -i perf.data | python3 bench/perf-summary.py"""
import collections, re, sys

AREAS = {
    "read-model projection": r"RunbookPilot\.Engine\.ReadModel\.ReadModelProjection",
    "enrichment": r"RunbookPilot\.Engine\.Enrichment\.",
    "journal writes (Akka.Persistence.Sql)": r"BaseByteArrayJournalDao.*(WriteJournalRows|InsertMultiple|AsyncWriteMessages)",
    "recovery: highest sequence number, replay": r"Akka\.Persistence\.Sql\..*(HighestSequenceNr|ReplayMessages)",
    "journal queries of the projector": r"Akka\.Persistence\.Sql\.Query\.",
    "execution actors, step runners": r"RunbookPilot\.Engine\.Execution\.(ExecutionActor|StepRunner)",
    "adapters, HTTP client": r"RunbookPilot\.Engine\.Adapters\.",
    "webhook (request to 202)": r"RunbookPilot\.Host\.WebhookApi",
    "alert intake": r"RunbookPilot\.Engine\.Ingestion\.AlertIntakeActor",
}
# Where the sample itself was (the innermost frame's library), not what is on its stack.
LEAF = {
    "in SQLite (libe_sqlite3)": "libe_sqlite3.so",
    "in the kernel": "[kernel.kallsyms]",
    "in the runtime (libcoreclr: GC, stubs; no symbols)": "libcoreclr.so",
    "in the JIT compiler (libclrjit)": "libclrjit.so",
}

per_area, leaf, selfc, total = collections.Counter(), collections.Counter(), collections.Counter(), 0


def flush(stack, dsos):
    global total
    if not stack:
        return
    total += 1
    selfc[stack[0]] += 1
    leaf[dsos[0]] += 1
    for area, rx in AREAS.items():
        if any(re.search(rx, frame) for frame in stack):
            per_area[area] += 1


stack, dsos = [], []
for line in sys.stdin:
    if not line.strip():
        flush(stack, dsos)
        stack, dsos = [], []
        continue
    m = re.match(r"\s+[0-9a-f]+ (.*) \((.*)\)$", line.rstrip())
    if not m:
        continue
    name, dso = re.sub(r"\+0x[0-9a-f]+$", "", m.group(1)).strip(), m.group(2).split("/")[-1]
    stack.append(name if name != "[unknown]" else "? (" + dso + ")")
    dsos.append(dso)
flush(stack, dsos)

print(f"on-CPU samples: {total}")
for area in AREAS:
    print(f"{100 * per_area[area] / max(total, 1):6.1f} %  {area}")
for area, dso in LEAF.items():
    print(f"{100 * leaf[dso] / max(total, 1):6.1f} %  {area}")
print("top self CPU:")
for frame, n in selfc.most_common(15):
    print(f"{100 * n / total:6.2f} %  {frame[:140]}")
