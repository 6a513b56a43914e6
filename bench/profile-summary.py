#!/usr/bin/env python3
"""Sums a dotnet-trace profile (dotnet-sampled-thread-time, converted with `dotnet-trace convert --format speedscope`)
by the frames under each CPU_TIME sample: the inclusive CPU share of the areas bench/README.md reports, the top frames
by self CPU, and the callers of expression compilation. Usage: bench/profile-summary.py trace.speedscope.json"""
import collections, json, re, sys

data = json.load(open(sys.argv[1]))
frames = [f["name"] for f in data["shared"]["frames"]]
self_cpu, incl, compile_callers, total = collections.Counter(), collections.Counter(), collections.Counter(), 0.0
for profile in data["profiles"]:
    stack, last = [], None
    for ev in profile["events"]:
        t = ev["at"]
        if stack and last is not None and frames[stack[-1]] == "CPU_TIME":
            dt, names = t - last, [frames[f] for f in stack[:-1]]
            total += dt
            if names:
                self_cpu[names[-1]] += dt
            for n in set(names):
                incl[n] += dt
            at = [i for i, n in enumerate(names) if re.search(r"LambdaCompiler|DynamicMethod|ILGenerator", n)]
            if at:
                # the innermost RunbookPilot frame of the stack, else the innermost Akka or linq2db one
                caller = next((n for n in reversed(names) if "RunbookPilot" in n), None) or \
                    next((n for n in reversed(names) if re.search(r"Akka|linq2db", n)), "?")
                compile_callers[re.sub(r"\(.*", "", caller)[:140]] += dt
        if ev["type"] == "O":
            stack.append(ev["frame"])
        elif stack:
            stack.pop()
        last = t

areas = {
    "finalizer thread (GC.RunFinalizers)": r"GC\.RunFinalizers", "read-model projection": r"ReadModelProjection",
    "linq2db": r"linq2db!", "Microsoft.Data.Sqlite": r"Microsoft\.Data\.Sqlite!", "enrichment": r"EnrichmentActor",
    "journal (Akka.Persistence.Sql)": r"Akka\.Persistence\.Sql!", "HTTP client": r"System\.Net\.Http!", "step runners": r"StepRunner",
    "Kestrel": r"Microsoft\.AspNetCore\.Server\.Kestrel", "webhook": r"RunbookPilot\.Host!.*Webhook", "auth middleware": r"RunbookPilot\.Host!.*Auth",
    "System.Text.Json": r"System\.Text\.Json!", "audit hashing": r"AuditChain", "logging": r"Serilog|Microsoft\.Extensions\.Logging",
}
print(f"CPU in the trace: {total:.0f} ms")
for name, rx in areas.items():
    share = max([v for k, v in incl.items() if re.search(rx, k)] or [0])
    print(f"{100 * share / total:6.1f} %  {name}")
print(f"expression compilation: {sum(compile_callers.values()):.0f} ms, by innermost RunbookPilot (else Akka/linq2db) frame:")
for k, v in compile_callers.most_common(8):
    print(f"  {v:8.0f} ms  {k}")
print("top self CPU:")
for k, v in self_cpu.most_common(15):
    print(f"{100 * v / total:6.2f} %  {re.sub(r'[(].*', '', k)[:120]}")
