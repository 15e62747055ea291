"""Runs docs/python.md's code blocks and docs/examples/switchyard_pandas.py on a fresh trace and
stats file made by the built `switchyard`, and checks what the tables hold against the raw h5py
arrays: one row per token and per (token, layer, rank), the documented position and loss rules,
gate weights in selection order, and stats counts equal to counts from the routing table.

    pandas_example_test.py SWITCHYARD MODEL_DIR DATA_FILE REPO_ROOT
"""
import contextlib
import io
import os
import re
import subprocess
import sys
import tempfile

import h5py
import numpy as np


def run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def doc_blocks(path):
    with open(path, encoding="utf-8") as f:
        return re.findall(r"```python\n(.*?)```", f.read(), flags=re.S)


def main(switchyard, model, data, repo):
    sys.path.insert(0, os.path.join(repo, "docs", "examples"))
    import switchyard_pandas as sp

    with tempfile.TemporaryDirectory() as tmp:
        trace_path, stats_path = os.path.join(tmp, "trace.h5"), os.path.join(tmp, "stats.h5")
        run(switchyard, "trace", model, "--data", data, "--seq-len", "64", "--batch-tokens", "128",
            "--max-tokens", "300", "-q", "-o", trace_path)
        run(switchyard, "stats", trace_path, "-q", "-o", stats_path)
        scores_path, pruned = os.path.join(tmp, "scores.h5"), os.path.join(tmp, "pruned")
        run(switchyard, "score", model, "--data", data, "--max-tokens", "512", "-q", "-o", scores_path)
        run(switchyard, "prune", model, "--method", "reap", "--ratio", "0.25", "--scores", scores_path, "-q", "-o", pruned)

        # The page's own code, in order, in one namespace (as a notebook would run it).
        blocks = doc_blocks(os.path.join(repo, "docs", "python.md"))
        assert len(blocks) >= 3, blocks
        page = {}
        with contextlib.redirect_stdout(io.StringIO()) as shown:
            for block in blocks:
                code = (block.replace('"trace.h5"', repr(trace_path)).replace('"stats.h5"', repr(stats_path))
                        .replace('"run.h5"', repr(os.path.join(tmp, "run.h5"))).replace('"switchyard"', repr(switchyard))
                        .replace('"model"', repr(model)).replace('"data.jsonl"', repr(data))
                        .replace('"scores.h5"', repr(scores_path)).replace('"pruned"', repr(pruned)))
                exec(compile(code, "docs/python.md", "exec"), page)
        assert "tokens; MoE layers" in shown.getvalue(), shown.getvalue()
        assert abs(page["by_domain"].sum(axis=1) - 1).max() < 1e-9
        assert page["perplexity"].gt(1).all()
        updates = page["updates"]
        assert updates[0]["done"] == 0 and updates[-1]["done"] == 2048 and updates[-1]["total"] == 2048, updates
        assert all(u["stage"] == "trace" and u["unit"] == "tokens" for u in updates), updates
        assert "trace: 2048 of 2048 tokens at" in shown.getvalue(), shown.getvalue()

        with sp.open_trace(trace_path) as f:
            meta = sp.trace_meta(f)
            tokens = sp.trace_tokens(f)
            routing = sp.trace_routing(f)
            one_layer = sp.trace_routing(f, layers=[meta["moe_layers"][-1]])
            raw_ids = f["routing/topk_ids"][:]
            raw_weights = f["routing/topk_weights"][:]
            raw_token_ids = f["tokens/ids"][:]
            vocab = [sp.text(s) for s in f["meta/token_strings"][:]]
            doc_count = f["docs/domain"].shape[0]
        with contextlib.redirect_stdout(io.StringIO()) as printed:   # the module as a script
            sp.main(trace_path)
        assert printed.getvalue().startswith("mixtral: 300 tokens, top-2"), printed.getvalue()
        loads = sp.stats_loads(stats_path)
        scores = sp.expert_scores(scores_path)
        with h5py.File(scores_path) as f:
            raw_reap = f["scores/layer_2/reap"][:]
            score_tokens = int(f.attrs["tokens"])
        record = sp.edit_record(pruned)
        experts = sp.expert_map(record)
        changed = sp.changed_tensors(record)
        lowest = page["lowest"]

    n, k, layers = 300, meta["top_k"], meta["moe_layers"]
    assert meta["model_type"] == "mixtral" and k == 2 and layers == [0, 1, 2, 3], meta
    assert meta["format_version"] == 1 and meta["tool_version"].startswith("switchyard "), meta

    # Tokens: one row each, in file order, positions restart at each document.
    assert len(tokens) == n and (tokens["id"].to_numpy() == raw_token_ids).all()
    assert list(tokens["token"]) == [vocab[i] for i in raw_token_ids]
    assert tokens["doc"].between(0, doc_count - 1).all() and tokens["domain"].str.len().gt(0).all()
    new_doc = tokens["doc"].ne(tokens["doc"].shift())
    assert (tokens.loc[new_doc, "pos"] == 0).all()
    assert (tokens["pos"].diff()[~new_doc] == 1).all()
    # The loss is NaN exactly on each window's last token.
    window_end = tokens["doc"].ne(tokens["doc"].shift(-1)) | (tokens["pos"].shift(-1) % meta["seq_len"] == 0)
    assert (tokens["nll"].isna() == window_end).all()

    # Routing: one row per (token, layer, rank), equal to the raw arrays.
    assert len(routing) == n * k * len(layers)
    for i, layer in enumerate(layers):
        rows = routing[routing["layer"] == layer].sort_values(["token", "rank"])
        assert (rows["expert"].to_numpy().reshape(n, k) == raw_ids[i]).all()
        assert np.allclose(rows["weight"].to_numpy().reshape(n, k), raw_weights[i])
    weights = routing.pivot_table(index=["token", "layer"], columns="rank", values="weight")
    assert np.allclose(weights.sum(axis=1), 1, atol=1e-4), "Mixtral renormalises its top-2"
    assert (weights[0] >= weights[1] - 1e-6).all(), "selection order"
    assert set(one_layer["layer"]) == {layers[-1]} and len(one_layer) == n * k
    first = sp.first_choices(routing)
    assert first.shape == (n, len(layers)) and (first[0].to_numpy() == raw_ids[0][:, 0]).all()

    # stats -o counts each expert's tokens: the same as counting the routing table.
    counted = routing.groupby(["layer", "expert"]).size()
    merged = loads.set_index(["layer", "expert"])["count"]
    assert (merged == counted.reindex(merged.index, fill_value=0)).all()
    assert (loads.groupby("layer")["count"].sum() == n * k).all()
    assert np.allclose(loads.groupby("layer")["fraction"].sum(), 1)

    # Scores: one row per (layer, expert), equal to the raw arrays; counts sum to k * tokens.
    assert len(scores) == 8 * len(layers)
    assert np.allclose(scores[scores["layer"] == 2]["reap"].to_numpy(), raw_reap, equal_nan=True)
    assert (scores.groupby("layer")["count"].sum() == k * score_tokens).all()
    # The page's "lowest REAP" rows are exactly the experts the REAP prune removed.
    removed = {(layer, e) for layer in layers for e in range(8)} - {
        (int(r.layer), int(r.source_expert)) for r in experts.itertuples()}
    assert removed == {(int(r.layer), int(r.expert)) for r in lowest.itertuples()}, (removed, lowest)
    assert record["expert_count"] == {"before": 8, "after": 6}
    assert (experts.groupby("layer")["expert"].nunique() == 6).all()
    assert changed["name"].str.contains("gate.weight").any() and changed["output_sha256"].str.len().eq(64).all()

    print(f"ok: {n} tokens, {len(routing)} routing rows, {len(blocks)} doc blocks")


if __name__ == "__main__":
    main(*sys.argv[1:5])
