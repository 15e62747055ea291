#!/usr/bin/env python3
"""Checks a Switchyard trace against docs/hdf5-schema.md with h5py (run by trace_cli_test).

Usage: trace_layout_check.py TRACE.h5 MOE_LAYERS TOP_K NUM_EXPERTS ROUTER_LOGITS(0|1)
Exit 0 when the layout matches; prints the first mismatch and exits 1 otherwise.
"""
import sys

import h5py
import numpy as np


def fail(message):
    print("layout mismatch: " + message)
    sys.exit(1)


def expect(condition, message):
    if not condition:
        fail(message)


def main():
    path, lm, k, e, logits = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1"
    with h5py.File(path, "r", libver="latest", swmr=True) as f:
        meta = f["meta"].attrs
        for name in ["tool_version", "command_line", "model_path", "model_fingerprint", "model_type", "dtype",
                     "device", "bos", "created", "data"]:
            expect(name in meta and isinstance(meta[name], bytes), "/meta attribute %s missing or not a string" % name)
        for name in ["format_version", "num_layers", "top_k", "bos_id", "seq_len", "batch_tokens", "max_tokens",
                     "data_bytes", "router_logits"]:
            expect(name in meta and np.issubdtype(type(meta[name]), np.integer), "/meta attribute %s not an int" % name)
        expect(meta["format_version"] == 1, "format_version")
        expect(meta["top_k"] == k, "top_k")
        expect(len(meta["model_fingerprint"]) == 64, "fingerprint is SHA-256 hex")

        def dataset(name, dtype, rank):
            expect(name in f, name + " missing")
            d = f[name]
            expect(d.dtype == np.dtype(dtype), "%s dtype %s, expected %s" % (name, d.dtype, dtype))
            expect(len(d.shape) == rank, "%s rank %d" % (name, len(d.shape)))
            return d

        expect(list(dataset("meta/moe_layers", "int32", 1)[:]) == list(range(lm)), "/meta/moe_layers")
        expect(list(dataset("meta/num_experts", "int32", 1)[:]) == [e] * lm, "/meta/num_experts")
        vocab = f["meta/token_strings"]
        expect(vocab.dtype.kind == "S" and vocab.shape[0] > 0, "/meta/token_strings: fixed-length strings")
        n = dataset("tokens/ids", "int32", 1).shape[0]
        expect(n > 0, "no tokens")
        for name in ["tokens/doc", "tokens/pos"]:
            expect(dataset(name, "int32", 1).shape == (n,), name + " shape")
        expect(dataset("eval/nll", "float32", 1).shape == (n,), "/eval/nll shape")
        expect(dataset("routing/topk_ids", "int16", 3).shape == (lm, n, k), "/routing/topk_ids shape")
        expect(dataset("routing/topk_weights", "float32", 3).shape == (lm, n, k), "/routing/topk_weights shape")
        if logits:
            expect(dataset("routing/router_logits", "float16", 3).shape == (lm, n, e), "/routing/router_logits shape")
        else:
            expect("routing/router_logits" not in f, "router_logits without --router-logits")
        for name in ["docs/domain", "docs/source"]:
            expect(f[name].dtype.kind == "S", name + " must be fixed-length strings")
        docs = f["docs/domain"].shape[0]
        expect(f["docs/source"].shape == (docs,), "/docs/source shape")
        expect(int(f["tokens/doc"][:].max()) < docs, "/tokens/doc points past /docs")
        for name in ["tokens/ids", "routing/topk_ids", "docs/domain"]:
            d = f[name]
            expect(d.chunks is not None and d.compression == "gzip" and d.shuffle, name + ": chunked, shuffle+deflate")
            expect(None in d.maxshape, name + ": extendible")
        ids = f["routing/topk_ids"][:]
        expect(ids.min() >= 0 and ids.max() < e, "expert ids out of range")
        sources = [s.decode() for s in f["docs/source"][:]]
        expect(all(":" in s for s in sources), "/docs/source is file:line")
    print("ok: %d tokens, %d documents" % (n, docs))


if __name__ == "__main__":
    main()
