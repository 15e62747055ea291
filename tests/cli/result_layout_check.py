#!/usr/bin/env python3
"""Checks an analysis result file (stats/affinity/place/compare -o OUT.h5) against
docs/hdf5-schema.md "Analysis result files" with h5py only (run by analysis_result_file_test).

Usage: result_layout_check.py OUT.h5 stats|affinity|place|compare
Exit 0 when the layout matches; prints the first mismatch and exits 1 otherwise.
"""
import sys

import h5py
import numpy as np


def expect(condition, message):
    if not condition:
        print("layout mismatch: " + message)
        sys.exit(1)


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def check_root(f, kind):
    for name in ["kind", "tool_version", "command_line", "created", "inputs"]:
        expect(name in f.attrs, "root attribute %s missing" % name)
    expect(text(f.attrs["kind"]) == kind, "kind is %s, not %s" % (text(f.attrs["kind"]), kind))
    expect(int(f.attrs["format_version"]) == 1, "format_version")


def check_stats(f):
    s = f["stats"]
    tokens, k = int(s.attrs["tokens"]), int(s.attrs["top_k"])
    layers = s["moe_layers"][:]
    names = [text(n) for n in s["domain_names"][:]]
    expect(len(names) == s["domain_tokens"].shape[0], "domain_names / domain_tokens lengths")
    for layer in layers:
        g = s["layer_%d" % layer]
        e = int(g.attrs["experts"])
        expect(g["counts"].shape == (e,) and int(g["counts"][:].sum()) == k * tokens, "layer %d counts" % layer)
        expect(abs(g["fractions"][:].sum() - 1) < 1e-9, "layer %d fractions sum" % layer)
        expect(int(g["first_choice_counts"][:].sum()) == tokens, "layer %d first_choice_counts" % layer)
        expect(g["gate_mass"].shape == (e,) and abs(g["gate_mass"][:].sum() - tokens) < 1e-3 * tokens,
               "layer %d gate_mass sums to the tokens (renormalised top-k)" % layer)
        expect(g["domain_counts"].shape == (len(names), e), "layer %d domain_counts shape" % layer)
        expect(np.allclose(g["domain_frequency"][:].sum(axis=1), k), "layer %d domain_frequency rows" % layer)
        expect(g["repetition_by_domain"].shape == (len(names), 3), "layer %d repetition_by_domain" % layer)
        for name in ["gini", "cv", "max_vio", "load_entropy_bits", "baseline_any_shared"]:
            expect(isinstance(g.attrs[name], (float, np.floating)), "layer %d attribute %s" % (layer, name))
        if int(s.attrs["router_logits"]):
            expect(abs(g["mean_router_probs"][:].sum() - 1) < 1e-9, "layer %d mean_router_probs" % layer)
            expect(float(g.attrs["lbl_global"]) > 0, "layer %d lbl_global" % layer)
        if int(g.attrs["top_tokens"]):
            ids, strings = g["top_token_ids"][:], g["top_token_strings"][:]
            expect(ids.shape == (e, int(s.attrs["top_n"])) and strings.shape == ids.shape, "top_token shapes")
            expect(all(text(strings[i, j]) != "" for i, j in zip(*np.nonzero(ids >= 0))), "top_token_strings")


def check_affinity(f):
    a = f["affinity"]
    hops, layers = int(a.attrs["hops"]), a["moe_layers"][:]
    expect(len(a["pairs"]) == len(layers) - hops, "pair count")
    for i in range(len(layers) - hops):
        g = a["pairs"]["%d_%d" % (layers[i], layers[i + hops])]
        counts, cond = g["counts"][:], g["conditional"][:]
        expect(counts.shape == cond.shape and counts.ndim == 2, "pair shapes")
        rows = cond.sum(axis=1)
        expect(np.all((np.abs(rows - 1) < 1e-9) | (counts.sum(axis=1) == 0)), "conditional rows sum to 1")
        expect(0 <= float(g.attrs["mutual_information"]) <= float(g.attrs["entropy_to"]) + 1e-9, "MI <= H(to)")
        expect(("markov_prediction" in g) == (hops > 1), "markov_prediction only for hops > 1")


def check_place(f):
    p = f["place"]
    gpus = int(p.attrs["gpus"])
    placement = p["placement"][:]
    for row in placement if "replicas" not in p else []:   # eplb: primaries need not be balanced
        expect(np.all(np.bincount(row, minlength=gpus) == len(row) // gpus), "equal experts per GPU")
    for name in ["evaluation", "baseline_evaluation"]:
        ev = p[name]
        expect(ev["dispatch"].shape == (gpus, gpus), name + " dispatch shape")
        expect(ev["gpu_load"].shape == (placement.shape[0], gpus), name + " gpu_load shape")
        expect(0 <= float(ev.attrs["cross_gpu_fraction"]) <= 1, name + " cross_gpu_fraction")


def check_compare(f):
    c = f["compare"]
    for layer in c["moe_layers"][:]:
        g = c["layer_%d" % layer]
        expect(g["counts_a"][:].sum() == g["counts_b"][:].sum(), "equal slot totals")
        expect(abs(g["load_drift"][:].sum()) < 1e-9, "drift sums to 0")
    m = c["most_changed"]
    n = m["token"].shape[0]
    for name in ["id", "text", "doc", "pos", "changed", "first_choice_changes"]:
        expect(m[name].shape == (n,), "most_changed/%s length" % name)
    loss = c["nll"]
    rows = loss["domain"].shape[0]
    for name in ["tokens", "mean_nll_a", "mean_nll_b"]:
        expect(loss[name].shape == (rows,), "nll/%s length" % name)
    if rows:
        expect(text(loss["domain"][rows - 1]) == "all", "nll rows end with all")
        expect(int(loss["tokens"][:-1].sum()) == int(loss["tokens"][-1]), "nll domain tokens sum to all")


def main():
    path, kind = sys.argv[1], sys.argv[2]
    with h5py.File(path, "r") as f:
        check_root(f, kind)
        {"stats": check_stats, "affinity": check_affinity, "place": check_place, "compare": check_compare}[kind](f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
