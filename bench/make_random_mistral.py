#!/usr/bin/env python3
"""Writes a dense Mistral-7B-shaped checkpoint with random BF16 data (Hub layout, one shard per
layer block + index), the source for the upcycle benchmark (bench/upcycle_bench.sh). Same value
distribution as make_random_mixtral.py; 1 layer is 0.96 GB, each further layer 0.44 GB.

usage: bench/make_random_mistral.py OUT_DIR [--layers 2] [--shards 2]
"""
import argparse, json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_random_mixtral import write_data  # noqa: E402
from make_sparse_mixtral import H, HD, I, NKV, V, write_shard  # noqa: E402


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
        yield p + "mlp.gate_proj.weight", [I, H]
        yield p + "mlp.up_proj.weight", [I, H]
        yield p + "mlp.down_proj.weight", [H, I]
    yield "model.norm.weight", [H]
    yield "lm_head.weight", [V, H]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--shards", type=int, default=2)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    all_t = list(tensors(a.layers))
    per = -(-len(all_t) // a.shards)
    weight_map, total = {}, 0
    for s in range(a.shards):
        name = f"model-{s + 1:05d}-of-{a.shards:05d}.safetensors"
        chunk = all_t[s * per:(s + 1) * per]
        total += write_shard(os.path.join(a.out, name), chunk, write_data)
        weight_map.update({t: name for t, _ in chunk})
    with open(os.path.join(a.out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2, sort_keys=True)
    config = {"architectures": ["MistralForCausalLM"], "model_type": "mistral", "hidden_size": H,
              "intermediate_size": I, "num_hidden_layers": a.layers, "num_attention_heads": 32,
              "num_key_value_heads": NKV, "vocab_size": V, "rms_norm_eps": 1e-5, "rope_theta": 1e6,
              "max_position_embeddings": 32768, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
              "sliding_window": None}
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    print(f"{a.out}: {len(all_t)} tensors, {total / 1e9:.2f} GB (random BF16)")


if __name__ == "__main__":
    main()
