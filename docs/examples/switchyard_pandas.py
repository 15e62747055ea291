"""Switchyard's files as pandas DataFrames, with h5py alone (no Switchyard needed).

docs/python.md walks through it; tests/python/pandas_example_test.py runs it on a fresh trace.
Layouts: docs/hdf5-schema.md. Each kind of file has a section below: a function per table.
"""
import json
import os
import sys

import h5py
import numpy as np
import pandas as pd


def text(value):
    """Fixed-length strings come back from h5py as bytes; files rewritten by other tools may hold str."""
    return value.decode("utf-8") if isinstance(value, (bytes, np.bytes_)) else str(value)


# --- Routing traces: `switchyard trace MODEL --data FILE -o TRACE.h5` ----------------------------

def open_trace(path):
    """Opens a trace; swmr=True also reads a trace that `switchyard trace` is still writing."""
    return h5py.File(path, "r", libver="latest", swmr=True)


def trace_meta(f):
    """The /meta attributes as a dict of Python values, plus the MoE layer table."""
    meta = {key: text(v) if isinstance(v, (bytes, np.bytes_, str)) else v.item() for key, v in f["meta"].attrs.items()}
    meta["moe_layers"] = f["meta/moe_layers"][:].tolist()      # model-layer index of each MoE layer
    meta["num_experts"] = f["meta/num_experts"][:].tolist()
    return meta


def trace_tokens(f):
    """One row per token: id, token string, document, position, domain, source record, loss."""
    n = f["tokens/ids"].shape[0]                                # committed tokens (see "SWMR")
    vocab = np.array([text(s) for s in f["meta/token_strings"][:]], dtype=object)
    docs = pd.DataFrame({
        "domain": [text(s) for s in f["docs/domain"][:]],
        "source": [text(s) for s in f["docs/source"][:]],
    })
    tokens = pd.DataFrame({
        "id": f["tokens/ids"][:n],
        "doc": f["tokens/doc"][:n],
        "pos": f["tokens/pos"][:n],
        "nll": f["eval/nll"][:n],                               # NaN: last token of a window
    })
    tokens["token"] = vocab[tokens["id"]]
    return tokens.join(docs, on="doc")


def trace_routing(f, layers=None):
    """Long table, one row per (token, MoE layer, rank): expert and gate weight.

    `layer` is the model-layer index; rank 0 is the expert with the highest selection score.
    `layers` picks model-layer indices (default: all MoE layers).
    """
    n = f["tokens/ids"].shape[0]
    moe_layers = f["meta/moe_layers"][:].tolist()
    frames = []
    for i, layer in enumerate(moe_layers):
        if layers is not None and layer not in layers:
            continue
        ids = f["routing/topk_ids"][i, :n, :]                  # [n, k] int16
        weights = f["routing/topk_weights"][i, :n, :]          # [n, k] float32
        k = ids.shape[1]
        frames.append(pd.DataFrame({
            "token": np.repeat(np.arange(n), k),
            "layer": layer,
            "rank": np.tile(np.arange(k), n),
            "expert": ids.reshape(-1).astype(np.int64),
            "weight": weights.reshape(-1),
        }))
    return pd.concat(frames, ignore_index=True)


def first_choices(routing):
    """Wide table: one row per token, one column per MoE layer, the rank-0 expert."""
    return routing[routing["rank"] == 0].pivot(index="token", columns="layer", values="expert")


# --- Analysis results: `switchyard stats TRACE.h5 -o STATS.h5` -----------------------------------

def stats_loads(path):
    """Expert load per MoE layer from a stats result file: one row per (layer, expert)."""
    with h5py.File(path, "r") as f:
        if text(f.attrs["kind"]) != "stats":
            raise ValueError(f"{path}: a {text(f.attrs['kind'])} result file, not stats")
        frames = []
        for layer in f["stats/moe_layers"][:].tolist():
            g = f[f"stats/layer_{layer}"]
            frames.append(pd.DataFrame({
                "layer": layer,
                "expert": np.arange(g["counts"].shape[0]),
                "count": g["counts"][:],
                "first_choice_count": g["first_choice_counts"][:],
                "fraction": g["fractions"][:],
            }))
        return pd.concat(frames, ignore_index=True)


# --- Score files: `switchyard score MODEL --data FILE -o SCORES.h5` ---------------------------

SCORE_COLUMNS = ["count", "frequency", "gate_mass", "mean_prob", "ean", "reap"]


def expert_scores(path):
    """Per-expert calibration scores: one row per (layer, expert); NaN EAN/REAP for never-routed experts."""
    with h5py.File(path, "r") as f:
        if text(f.attrs["kind"]) != "score":
            raise ValueError(f"{path}: a {text(f.attrs['kind'])} result file, not score")
        frames = []
        for layer in f["meta/moe_layers"][:].tolist():
            g = f[f"scores/layer_{layer}"]
            frame = pd.DataFrame({name: g[name][:] for name in SCORE_COLUMNS})
            frame.insert(0, "expert", np.arange(len(frame)))
            frame.insert(0, "layer", layer)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)


def domain_counts(path, layer):
    """Selections of each expert of one MoE layer per calibration domain: a domain x expert table."""
    with h5py.File(path, "r") as f:
        domains = [text(d) for d in f["meta/domains"][:]]
        return pd.DataFrame(f[f"scores/layer_{layer}/domain_count"][:], index=domains)


# --- Edit records: `switchyard-edit.json` in an edited model folder ------------------------------

def edit_record(folder):
    """The edit record of an edited model folder (docs/recipes.md) as a plain dict."""
    with open(os.path.join(folder, "switchyard-edit.json"), encoding="utf-8") as f:
        return json.load(f)


def expert_map(record):
    """Which source experts each edited expert came from: one row per (layer, new expert, source expert)."""
    rows = [(int(layer), new, old)
            for layer, experts in record["expert_map"].items()
            for new, sources in enumerate(experts)
            for old in sources]
    return pd.DataFrame(rows, columns=["layer", "expert", "source_expert"])


def changed_tensors(record):
    """Tensors the edit computed, with the SHA-256 of the input tensor of that name and of the output."""
    return pd.DataFrame(record["tensors"]["changed"], columns=["name", "input_sha256", "output_sha256"])


def main(trace_path):
    with open_trace(trace_path) as f:
        meta = trace_meta(f)
        tokens = trace_tokens(f)
        routing = trace_routing(f)
    print(f"{meta['model_type']}: {len(tokens)} tokens, top-{meta['top_k']}, MoE layers {meta['moe_layers']}")
    # Share of each domain's tokens whose first choice is each expert, first MoE layer:
    first = first_choices(routing)[meta["moe_layers"][0]]
    print(pd.crosstab(tokens["domain"], first, normalize="index").round(3))
    # Perplexity per domain (rows without a next token have NaN loss):
    print(tokens.dropna(subset=["nll"]).groupby("domain")["nll"].mean().apply(np.exp).round(3))


if __name__ == "__main__":
    main(sys.argv[1])
