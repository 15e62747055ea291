#!/usr/bin/env python3
"""Synthetic routing trace for the analysis scale benchmark.

Writes a trace that follows docs/hdf5-schema.md exactly (format_version 1, the layout
`switchyard trace --batch-tokens 65536` writes: token-chunked, shuffle + deflate 4, one layer per
routing chunk, HDF5 "latest" format), for a Mixtral-8x7B-shaped model by default: 32 MoE layers,
8 experts, top-2. Routing has planted inter-layer affinity (the first choice at layer l+1 follows
a fixed successor of the first choice at l with probability --affinity), Zipf-distributed token
ids, documents of ~2048 tokens in four domains, so every analysis does real work.

Usage: make_trace.py OUT.h5 --tokens 10000000 [--layers 32] [--experts 8] [--top-k 2] [--seed 1]
Needs python3-h5py and python3-numpy (Debian packages).
"""
import argparse
import time

import h5py
import numpy as np

BLOCK = 1 << 20          # tokens generated and written per step (a multiple of every chunk)
CHUNK = 8192             # schema: power of two <= 65536 rows, <= 256 KiB, <= batch / 8 (65536 / 8)
DOMAINS = ["c", "english", "json", "python"]


def fixed(width):
    return h5py.string_dtype("utf-8", width)


def create_meta(f, args, command):
    meta = f.create_group("meta")
    strings = {"tool_version": "switchyard bench/make_trace.py", "command_line": command,
               "model_path": "/synthetic/mixtral-8x7b-shaped", "model_fingerprint": "0" * 64,
               "model_type": "mixtral", "dtype": "bf16", "device": "cuda:0", "bos": "auto",
               "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "data": "/synthetic/corpus.jsonl"}
    for name, value in strings.items():
        raw = value.encode()
        meta.attrs.create(name, raw, dtype=h5py.string_dtype("utf-8", len(raw) + 1))
    ints = {"format_version": 1, "num_layers": args.layers, "top_k": args.top_k, "bos_id": 1, "seq_len": 4096,
            "batch_tokens": 65536, "max_tokens": args.tokens, "data_bytes": 4 * args.tokens, "router_logits": 0}
    for name, value in ints.items():
        meta.attrs.create(name, np.int64(value))
    meta.create_dataset("moe_layers", data=np.arange(args.layers, dtype=np.int32))
    meta.create_dataset("num_experts", data=np.full(args.layers, args.experts, dtype=np.int32))
    vocab = ["tok%d" % v for v in range(args.vocab)]
    meta.create_dataset("token_strings", data=np.array([v.encode() for v in vocab], dtype=fixed(16)),
                        chunks=(min(args.vocab, 16384),), compression="gzip", compression_opts=4)


def extendible(f, name, shape, dtype, grow_axis, chunk):
    maxshape = list(shape)
    maxshape[grow_axis] = None
    return f.create_dataset(name, shape=shape, maxshape=tuple(maxshape), dtype=dtype, chunks=chunk,
                            shuffle=True, compression="gzip", compression_opts=4)


def routing_block(rng, successor, n, args):
    """[Lm, n, k] ids and weights with planted first-choice chains."""
    ids = np.empty((args.layers, n, args.top_k), dtype=np.int16)
    first = rng.integers(0, args.experts, n)
    for layer in range(args.layers):
        if layer:
            follow = rng.random(n) < args.affinity
            first = np.where(follow, successor[layer - 1][first], rng.integers(0, args.experts, n))
        ids[layer, :, 0] = first
        # Other choices: distinct offsets 1..E-1 from the first choice (no repeats within a token).
        if args.top_k == 2:   # the common case without the (slow) argsort
            offsets = rng.integers(1, args.experts, (n, 1))
        else:
            offsets = np.argsort(rng.random((n, args.experts - 1)), axis=1)[:, : args.top_k - 1] + 1
        ids[layer, :, 1:] = (first[:, None] + offsets) % args.experts
    top = rng.uniform(0.5, 0.95, (args.layers, n, 1)).astype(np.float32)
    rest = np.repeat((1 - top) / max(args.top_k - 1, 1), args.top_k - 1, axis=2)
    return ids, np.concatenate([top, rest], axis=2).astype(np.float32)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--tokens", type=int, default=10_000_000)
    p.add_argument("--layers", type=int, default=32)
    p.add_argument("--experts", type=int, default=8)
    p.add_argument("--top-k", type=int, default=2)
    p.add_argument("--vocab", type=int, default=32000)
    p.add_argument("--doc-tokens", type=int, default=2048)
    p.add_argument("--affinity", type=float, default=0.6)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    rng = np.random.default_rng(args.seed)
    n, docs = args.tokens, (args.tokens + args.doc_tokens - 1) // args.doc_tokens
    successor = [rng.permutation(args.experts) for _ in range(args.layers - 1)]
    start = time.time()
    with h5py.File(args.out, "w", libver="latest") as f:
        create_meta(f, args, "make_trace.py " + " ".join("%s=%s" % kv for kv in vars(args).items()))
        names = np.array([DOMAINS[d % len(DOMAINS)] for d in range(docs)], dtype=fixed(64))
        extendible(f, "docs/domain", (docs,), fixed(64), 0, (4096,))[:] = names
        sources = np.array(["corpus.jsonl:%d" % (d + 1) for d in range(docs)], dtype=fixed(256))
        extendible(f, "docs/source", (docs,), fixed(256), 0, (4096,))[:] = sources
        tok_ids = extendible(f, "tokens/ids", (n,), np.int32, 0, (CHUNK,))
        tok_doc = extendible(f, "tokens/doc", (n,), np.int32, 0, (CHUNK,))
        tok_pos = extendible(f, "tokens/pos", (n,), np.int32, 0, (CHUNK,))
        nll = extendible(f, "eval/nll", (n,), np.float32, 0, (CHUNK,))
        k = args.top_k
        topk_ids = extendible(f, "routing/topk_ids", (args.layers, n, k), np.int16, 1, (1, CHUNK, k))
        topk_weights = extendible(f, "routing/topk_weights", (args.layers, n, k), np.float32, 1, (1, CHUNK, k))
        for begin in range(0, n, BLOCK):
            end = min(n, begin + BLOCK)
            t = np.arange(begin, end)
            tok_ids[begin:end] = np.minimum(rng.zipf(1.2, end - begin), args.vocab) - 1
            tok_doc[begin:end] = t // args.doc_tokens
            tok_pos[begin:end] = t % args.doc_tokens
            nll[begin:end] = rng.exponential(2.0, end - begin).astype(np.float32)
            ids, weights = routing_block(rng, successor, end - begin, args)
            topk_ids[:, begin:end, :] = ids
            topk_weights[:, begin:end, :] = weights
            print("\r%d / %d tokens, %.0f s" % (end, n, time.time() - start), end="", flush=True)
    print()


if __name__ == "__main__":
    main()
