#!/usr/bin/env python3
"""Thread time (all states: running, waiting, sleeping) under the frames matching a pattern in a dotnet-trace profile
(dotnet-sampled-thread-time, converted with `dotnet-trace convert --format speedscope`), grouped by the frame and its
callers. The sampled profiler counts a thread in managed code as CPU_TIME even while it waits, so it says where threads
are, not what uses the CPU: use perf-summary.py for that (bench/README.md, issue 17).
Usage: python3 bench/trace-frames.py trace.speedscope.json 'Thread\\.Sleep' [callers=8] [top=6]"""
import collections, json, re, sys

data = json.load(open(sys.argv[1]))
pattern, depth = re.compile(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 8
top = int(sys.argv[4]) if len(sys.argv) > 4 else 6
frames = [f["name"] for f in data["shared"]["frames"]]
by_stack, total = collections.Counter(), 0.0
for profile in data["profiles"]:
    stack, last = [], None
    for ev in profile["events"]:
        t = ev["at"]
        if stack and last is not None:
            names = [frames[f] for f in stack]
            hits = [i for i, n in enumerate(names) if pattern.search(n)]
            if hits:
                i = hits[0]
                total += t - last
                by_stack[" <- ".join(re.sub(r"\(.*", "", n)[-90:] for n in reversed(names[max(0, i - depth):i + 1]))] += t - last
        if ev["type"] == "O":
            stack.append(ev["frame"])
        elif stack:
            stack.pop()
        last = t
print(f"thread time under frames matching {sys.argv[2]!r}: {total / 1000:.1f} s")
for key, ms in by_stack.most_common(top):
    print(f"{ms / 1000:8.1f} s  {key}\n")
