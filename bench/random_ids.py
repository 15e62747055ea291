#!/usr/bin/python3
# Writes COUNT .jsonl records of LENGTH random token ids below VOCAB (seeded): training data whose
# windows are all full, for the training benchmarks. Usage: random_ids.py OUT [COUNT] [LENGTH] [VOCAB]
import json, random, sys

out = sys.argv[1]
given = [int(a) for a in sys.argv[2:]]
count, length, vocab = given + [256, 128, 2046][len(given):]
random.seed(1)
with open(out, "w") as f:
    for _ in range(count):
        f.write(json.dumps({"input_ids": [random.randrange(vocab) for _ in range(length)]}) + "\n")
