#!/usr/bin/env python3
"""Tables of bench/upcycle_train.sh (docs/upcycling.md): held-out NLL per domain of the upcycled
and continued-trained models against the dense model trained alike, the load-CV trajectory from
their training logs, and the Branch-Train-MiX routing and NLL tables.

usage: upcycle_train_table.py OUT_DIR
"""
import json
import os
import sys

DOMAINS = ["english", "c", "python", "json"]


def nll(out, name):
    path = os.path.join(out, "eval-%s.json" % name)
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    r = json.load(open(path))
    return {**{d: r["domains"][d]["mean_nll"] for d in DOMAINS}, "all": r["all"]["mean_nll"]}


def nll_table(out, rows):
    print("| model | " + " | ".join(DOMAINS) + " | all |")
    print("|---|" + "---:|" * (len(DOMAINS) + 1))
    for label, name in rows:
        v = nll(out, name)
        if v is None:
            continue
        print("| %s | " % label + " | ".join("%.4f" % v[d] for d in DOMAINS + ["all"]) + " |")
    print()


def load_cv(out, name, at):
    path = os.path.join(out, name, "training-log.h5")
    if not os.path.exists(path):
        return
    import h5py
    f = h5py.File(path, "r")
    if "steps/load_cv" not in f:
        return
    cv, steps, layers = f["steps/load_cv"][:], list(f["steps/step"][:]), list(f["steps/load_layers"][:])
    balance = None
    names = [n.decode() if isinstance(n, bytes) else n for n in f["steps/routing_names"][:]] if "steps/routing_names" in f else []
    if "train: load_balance" in names:
        balance = f["steps/routing_loss"][:, names.index("train: load_balance")]
    print("%s: load CV per MoE layer (and the load-balancing term E·Σf·P, 1 = balanced)" % name)
    print("| step | " + " | ".join("layer %d" % l for l in layers) + (" | E·Σf·P |" if balance is not None else " |"))
    print("|---:|" + "---:|" * (len(layers) + (balance is not None)))
    for s in at:
        if s in steps:
            i = steps.index(s)
            cells = ["%.3f" % cv[i, m] for m in range(len(layers))]
            if balance is not None:
                cells.append("%.3f" % balance[i])
            print("| %d | " % s + " | ".join(cells) + " |")
    print()


def routing(out, name, title):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        return
    stats = json.load(open(path))["domains"]
    names = stats["names"]
    print(title + ": share of each domain's valid.jsonl tokens with expert e among their top-2 "
          "(expert e = the fine-tune on domain e), per MoE layer")
    print("| layer | domain | " + " | ".join("e%d (%s)" % (e, DOMAINS[e]) for e in range(4)) + " |")
    print("|---:|---|" + "---:|" * 4)
    for layer in stats["layers"]:
        for d in DOMAINS:
            row = layer["frequency"][names.index(d)]
            print("| %d | %s | " % (layer["layer"], d) + " | ".join("%.3f" % x for x in row) + " |")
    print()


def main():
    out = sys.argv[1]
    times = os.path.join(out, "times.txt")
    print("(a) held-out NLL per domain, valid.jsonl")
    nll_table(out, [("dense tiny-llama (no training)", "base"), ("dense, continued training", "dense-ft"),
                    ("upcycled 4 experts top-2, continued training", "moe4-ft"),
                    ("upcycled 8 experts top-2, continued training", "moe8-ft")])
    for name in ["moe4-ft", "moe8-ft"]:
        load_cv(out, name, [1, 2, 5, 10, 25, 50, 100, 150, 200])
    print("(b) held-out NLL per domain, valid.jsonl")
    nll_table(out, [("dense base", "base")] + [("fine-tune on %s" % d, "ft-" + d) for d in DOMAINS] +
              [("Branch-Train-MiX at initialisation (4 experts, top-2, hidden router)", "btx"),
               ("Branch-Train-MiX after the MiX phase (100 steps, routers + experts)", "btx-mix")])
    routing(out, "btx-stats.json", "Branch-Train-MiX at initialisation")
    routing(out, "btx-mix-stats.json", "Branch-Train-MiX after the MiX phase")
    load_cv(out, "btx-mix", [1, 2, 5, 10, 25, 50, 100])
    if os.path.exists(times):
        print("wall times (s): " + ", ".join("%s %.0f" % (l.split()[0], float(l.split()[1])) for l in open(times)))


if __name__ == "__main__":
    main()
