#!/usr/bin/env python3
"""Writes a Mixtral-8x7B-shaped checkpoint with random BF16 data (Hub layout, shards + index),
for the trace benchmark (bench/trace_bench.sh). Unlike make_sparse_mixtral.py every byte is
written, so reading it exercises the disk. 4 layers (the default) are 12.1 GB.

Values: random sign, exponent 2^-7 or 2^-6, random mantissa, i.e. |w| in [0.0078, 0.031)
(std ~0.018), which keeps activations of a 4096-wide model O(1) through a few layers; RMSNorm
weights are 1.0. No numpy needed: os.urandom plus a byte translation of each bf16's high byte.

usage: bench/make_random_mixtral.py OUT_DIR [--layers 4] [--shards 3]
"""
import argparse, json, os, struct, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_sparse_mixtral import tensors, H, I, E, V, NKV  # noqa: E402  (same names and shapes)

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


def write_shard(path, entries):
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in entries:
        n = 2
        for d in shape:
            n *= d
        header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name, shape in entries:
            begin, end = header[name]["data_offsets"]
            write_data(f, shape, end - begin)
        f.flush()
        os.fsync(f.fileno())  # written back, so the benchmark can evict it from the page cache
    return offset


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--shards", type=int, default=3)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    all_t = list(tensors(a.layers))
    per = -(-len(all_t) // a.shards)
    weight_map, total = {}, 0
    for s in range(a.shards):
        name = f"model-{s + 1:05d}-of-{a.shards:05d}.safetensors"
        chunk = all_t[s * per:(s + 1) * per]
        total += write_shard(os.path.join(a.out, name), chunk)
        weight_map.update({t: name for t, _ in chunk})
        print(f"  {name}: {len(chunk)} tensors", file=sys.stderr)
    with open(os.path.join(a.out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2, sort_keys=True)
    config = {"architectures": ["MixtralForCausalLM"], "model_type": "mixtral", "hidden_size": H,
              "intermediate_size": I, "num_hidden_layers": a.layers, "num_attention_heads": 32,
              "num_key_value_heads": NKV, "num_local_experts": E, "num_experts_per_tok": 2,
              "vocab_size": V, "rms_norm_eps": 1e-5, "rope_theta": 1e6, "max_position_embeddings": 32768,
              "tie_word_embeddings": False, "torch_dtype": "bfloat16", "sliding_window": None}
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    print(f"{a.out}: {len(all_t)} tensors, {total / 1e9:.1f} GB (random BF16)")


if __name__ == "__main__":
    main()
