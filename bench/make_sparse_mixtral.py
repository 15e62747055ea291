#!/usr/bin/env python3
"""Writes a Mixtral-8x7B-shaped checkpoint (Hub layout, BF16, 19 shards + index, ~93 GB)
as sparse files: real safetensors headers, data regions are holes, so it costs ~no disk.

usage: bench/make_sparse_mixtral.py OUT_DIR [--layers 32]
"""
import argparse, json, os, struct

H, I, E, V, NKV, HD = 4096, 14336, 8, 32000, 8, 128


def tensors(layers):
    yield "model.embed_tokens.weight", [V, H]
    for L in range(layers):
        p = f"model.layers.{L}."
        yield p + "input_layernorm.weight", [H]
        yield p + "post_attention_layernorm.weight", [H]
        yield p + "self_attn.q_proj.weight", [H, H]
        yield p + "self_attn.k_proj.weight", [NKV * HD, H]
        yield p + "self_attn.v_proj.weight", [NKV * HD, H]
        yield p + "self_attn.o_proj.weight", [H, H]
        yield p + "block_sparse_moe.gate.weight", [E, H]
        for e in range(E):
            q = p + f"block_sparse_moe.experts.{e}."
            yield q + "w1.weight", [I, H]
            yield q + "w2.weight", [H, I]
            yield q + "w3.weight", [I, H]
    yield "model.norm.weight", [H]
    yield "lm_head.weight", [V, H]


DTYPE_BYTES = {"BF16": 2, "F16": 2, "F32": 4, "F8_E4M3": 1}


def nbytes(shape, dtype="BF16"):
    n = DTYPE_BYTES[dtype]
    for d in shape:
        n *= d
    return n


def write_shard(path, entries, write_data=None):
    """One safetensors shard of (name, shape[, dtype]) entries (BF16 when no dtype is given).
    write_data(f, shape, nbytes) fills each tensor; without it the data section is a hole (sparse file)."""
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape, *dtype in entries:
        dtype = dtype[0] if dtype else "BF16"
        n = nbytes(shape, dtype)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        if write_data is None:
            f.truncate(8 + len(text) + offset)  # a hole: no data blocks are written
        else:
            for name, shape, *_ in entries:
                begin, end = header[name]["data_offsets"]
                write_data(f, shape, end - begin)
            f.flush()
            os.fsync(f.fileno())  # written back, so a benchmark can evict it from the page cache
    return offset


def write_shards(out, chunks, write_data=None):
    """One shard per list of entries, named model-0000i-of-0000n.safetensors, plus
    model.safetensors.index.json; returns (tensor count, bytes)."""
    os.makedirs(out, exist_ok=True)
    weight_map, total = {}, 0
    for s, chunk in enumerate(chunks):
        name = f"model-{s + 1:05d}-of-{len(chunks):05d}.safetensors"
        total += write_shard(os.path.join(out, name), chunk, write_data)
        weight_map.update({t[0]: name for t in chunk})
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2, sort_keys=True)
    return len(weight_map), total


def write_checkpoint(out, layers, shards, write_data=None):
    """Shards + model.safetensors.index.json + config.json; returns (tensor count, bytes)."""
    all_t = list(tensors(layers))
    per = -(-len(all_t) // shards)
    count, total = write_shards(out, [all_t[s * per:(s + 1) * per] for s in range(shards)], write_data)
    config = {"architectures": ["MixtralForCausalLM"], "model_type": "mixtral", "hidden_size": H,
              "intermediate_size": I, "num_hidden_layers": layers, "num_attention_heads": 32,
              "num_key_value_heads": NKV, "num_local_experts": E, "num_experts_per_tok": 2,
              "vocab_size": V, "rms_norm_eps": 1e-5, "rope_theta": 1e6, "max_position_embeddings": 32768,
              "tie_word_embeddings": False, "torch_dtype": "bfloat16", "sliding_window": None}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    return count, total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=32)
    ap.add_argument("--shards", type=int, default=19)
    a = ap.parse_args()
    count, total = write_checkpoint(a.out, a.layers, a.shards)
    print(f"{a.out}: {count} tensors, {total / 1e9:.1f} GB (sparse)")


if __name__ == "__main__":
    main()
