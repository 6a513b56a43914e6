#!/usr/bin/env python3
"""Line coverage of the playbook loader and validator from coverlet's Cobertura reports (gate: >= 95%)."""
import glob
import sys
import xml.etree.ElementTree as ET

GATE = 95.0
# The loader and validator: YAML tree, binder, model, validator, templates, library, policy/adapters config, Sigma index.
PREFIXES = ("src/Domain/Playbooks/", "src/Domain/Yaml/", "src/Domain/Library/", "src/Domain/Policy/", "src/Domain/Matching/SigmaIndex.cs")

results = sys.argv[1] if len(sys.argv) > 1 else "artifacts/test-results"
lines = {}  # (file, line) -> hit
for report in glob.glob(f"{results}/**/coverage.cobertura.xml", recursive=True):
    root = ET.parse(report).getroot()
    sources = [s.text or "" for s in root.iter("source")]
    for cls in root.iter("class"):
        name = cls.get("filename", "")
        full = name
        for s in sources:
            if not name.startswith("/"):
                full = s.rstrip("/") + "/" + name
        rel = full[full.find("src/"):] if "src/" in full else full
        if not rel.startswith(PREFIXES):
            continue
        for line in cls.iter("line"):
            key = (rel, int(line.get("number")))
            lines[key] = lines.get(key, False) or int(line.get("hits", "0")) > 0

if not lines:
    print("coverage: no Cobertura report found for the loader and validator", file=sys.stderr)
    sys.exit(1)

per_file = {}
for (f, _), hit in lines.items():
    c, t = per_file.get(f, (0, 0))
    per_file[f] = (c + hit, t + 1)
covered = sum(c for c, _ in per_file.values())
total = sum(t for _, t in per_file.values())
pct = 100.0 * covered / total
for f in sorted(per_file):
    c, t = per_file[f]
    print(f"  {100.0 * c / t:6.1f}%  {c:4d}/{t:<4d} {f}")
print(f"coverage: loader and validator line coverage {pct:.1f}% ({covered}/{total} lines), gate {GATE:.0f}%")
sys.exit(0 if pct >= GATE else 1)
