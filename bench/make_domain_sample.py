#!/usr/bin/env python3
"""Writes a domain-balanced subset of a {"domain", "text"} JSONL corpus: the first records of each
domain (in file order) until CHARS characters of text per domain. The shared corpus files are
sorted by domain, so `--max-tokens` alone would read one domain only.

With --spread, records are taken evenly across each domain instead (every k-th record, k chosen so
that about CHARS characters are taken): the first records of a domain come from a few source files,
so training on them overfits those files (docs/upcycling.md "Continued training").

usage: make_domain_sample.py IN.jsonl OUT.jsonl CHARS [--domains a,b] [--spread]
"""
import json
import sys


def main():
    args = sys.argv[1:]
    spread = "--spread" in args
    if spread:
        args.remove("--spread")
    src, dst, chars = args[0], args[1], int(args[2])
    wanted = None
    if len(args) > 4 and args[3] == "--domains":
        wanted = set(args[4].split(","))
    with open(src) as fin:
        records = [line for line in fin if line.strip()]
    totals = {}
    for line in records:
        record = json.loads(line)
        totals[record.get("domain", "")] = totals.get(record.get("domain", ""), 0) + len(record["text"])
    seen, used = {}, {}
    with open(dst, "w") as fout:
        for line in records:
            record = json.loads(line)
            domain = record.get("domain", "")
            if wanted is not None and domain not in wanted:
                continue
            if used.get(domain, 0) >= chars:
                continue
            index = seen.get(domain, 0)
            seen[domain] = index + 1
            if spread and index % max(1, totals[domain] // chars) != 0:
                continue
            used[domain] = used.get(domain, 0) + len(record["text"])
            fout.write(line)
    print(dst, used, file=sys.stderr)


if __name__ == "__main__":
    main()
