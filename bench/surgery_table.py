#!/usr/bin/env python3
"""Markdown table of bench/surgery_quality.sh's results (one JSON eval result per line)."""
import json
import statistics
import sys

rows = [json.loads(line) for line in open(sys.argv[1])]
domains = ["english", "c", "python", "json"]
print("| experts | method | " + " | ".join(domains) + " | all |")
print("|---|---|" + "---|" * (len(domains) + 1))


def nll(r, d):
    return r["all"]["mean_nll"] if d == "all" else r["domains"][d]["mean_nll"]


for experts in sorted({r["experts"] for r in rows}, reverse=True):
    group = [r for r in rows if r["experts"] == experts]
    random = [r for r in group if r["name"].startswith("random")]
    for r in group:
        if r["name"].startswith("random"):
            continue
        print(f"| {experts} | {r['name']} | " + " | ".join(f"{nll(r, d):.4f}" for d in domains + ["all"]) + " |")
    if random:
        cells = []
        for d in domains + ["all"]:
            values = [nll(r, d) for r in random]
            cells.append(f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}")
        print(f"| {experts} | random (mean ± sd of {len(random)} seeds) | " + " | ".join(cells) + " |")
