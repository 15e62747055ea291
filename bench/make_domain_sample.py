#!/usr/bin/env python3
"""Writes a domain-balanced subset of a {"domain", "text"} JSONL corpus: the first records of each
domain (in file order) until CHARS characters of text per domain. The shared corpus files are
sorted by domain, so `--max-tokens` alone would read one domain only.

usage: make_domain_sample.py IN.jsonl OUT.jsonl CHARS [--domains a,b]
"""
import json
import sys


def main():
    src, dst, chars = sys.argv[1], sys.argv[2], int(sys.argv[3])
    wanted = None
    if len(sys.argv) > 5 and sys.argv[4] == "--domains":
        wanted = set(sys.argv[5].split(","))
    used = {}
    with open(src) as fin, open(dst, "w") as fout:
        for line in fin:
            record = json.loads(line)
            domain = record.get("domain", "")
            if wanted is not None and domain not in wanted:
                continue
            if used.get(domain, 0) >= chars:
                continue
            used[domain] = used.get(domain, 0) + len(record["text"])
            fout.write(line)
    print(dst, used, file=sys.stderr)


if __name__ == "__main__":
    main()
