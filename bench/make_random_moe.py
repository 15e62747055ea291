#!/usr/bin/env python3
"""Writes a small random-BF16 MoE checkpoint in the Hub layout (safetensors shards + index +
config.json) for the load benchmark (bench/load_bench.sh). Every byte is real data, so reading
it exercises the page cache or the disk like a real checkpoint. Tensor names and config.json come
from bench/gpu/random_checkpoints.py (the GPU benchmark's generator); only the shapes differ.

Shapes (the layers of the real models, fewer of them):
  qwen3   Qwen3-30B-A3B: hidden 2048, 128 experts of width 768, top-8, 32 query / 4 KV heads
          of 128, q/k norms; 2 layers = 2.42 GB of experts
  mixtral Mixtral-style: hidden 1024, 8 experts of width 3584, top-2, 16 query / 8 KV heads
          of 64; 2 layers = 0.35 GB of experts
Both use a 32000-token vocabulary (embeddings and lm_head untied).

Values as in make_random_mixtral.py: random sign, exponent 2^-7 or 2^-6, random mantissa;
RMSNorm weights 1.0.

usage: bench/make_random_moe.py OUT_DIR --shape qwen3|mixtral [--layers 2] [--shards 2]
"""
import argparse, json, os, sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "gpu"))
from make_random_mixtral import write_data  # noqa: E402
from make_sparse_mixtral import write_shards  # noqa: E402
import random_checkpoints as rc  # noqa: E402

SHAPES = {
    "qwen3": {**rc.SHAPES["qwen3"], "vocab": 32000},
    "mixtral": {"hidden": 1024, "inter": 3584, "experts": 8, "top_k": 2, "heads": 16, "kv_heads": 8,
                "head_dim": 64, "vocab": 32000},
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--shape", choices=sorted(SHAPES), required=True)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--shards", type=int, default=2)
    a = ap.parse_args()
    s = SHAPES[a.shape]
    entries = list(rc.tensors(a.shape, a.layers, s))
    per = -(-len(entries) // a.shards)
    count, total = write_shards(a.out, [entries[i * per:(i + 1) * per] for i in range(a.shards)], write_data)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(rc.config(a.shape, a.layers, s), f, indent=2)
    print(f"{a.out}: {count} tensors, {total / 1e9:.2f} GB (random BF16, {a.shape} shape)")


if __name__ == "__main__":
    main()
