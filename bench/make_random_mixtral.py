#!/usr/bin/env python3
"""Writes a Mixtral-8x7B-shaped checkpoint with random BF16 data (Hub layout, shards + index),
for the trace benchmark (bench/trace_bench.sh). Unlike make_sparse_mixtral.py every byte is
written, so reading it exercises the disk. 4 layers (the default) are 12.1 GB.

Values: random sign, exponent 2^-7 or 2^-6, random mantissa, i.e. |w| in [0.0078, 0.031)
(std ~0.018), which keeps activations of a 4096-wide model O(1) through a few layers; RMSNorm
weights are 1.0. No numpy needed: os.urandom plus a byte translation of each bf16's high byte.

usage: bench/make_random_mixtral.py OUT_DIR [--layers 4] [--shards 3]
"""
import argparse, os, struct, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_sparse_mixtral import write_checkpoint  # noqa: E402  (same names, shapes, config)

CHUNK = 64 << 20  # bytes generated and written at a time
# High byte of a little-endian bf16 = sign bit + top 7 exponent bits; 0x3C -> exponent 120|121.
HIGH = bytes((b & 0x80) | 0x3C for b in range(256))
ONE_BF16 = struct.pack("<H", 0x3F80)


def random_bf16(nbytes):
    buf = bytearray(os.urandom(nbytes))
    buf[1::2] = buf[1::2].translate(HIGH)
    return buf


def write_data(f, shape, nbytes):
    if len(shape) == 1:  # RMSNorm weights
        f.write(ONE_BF16 * (nbytes // 2))
        return
    left = nbytes
    while left:
        n = min(CHUNK, left)
        f.write(random_bf16(n))
        left -= n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--shards", type=int, default=3)
    a = ap.parse_args()
    count, total = write_checkpoint(a.out, a.layers, a.shards, write_data)
    print(f"{a.out}: {count} tensors, {total / 1e9:.1f} GB (random BF16)")


if __name__ == "__main__":
    main()
