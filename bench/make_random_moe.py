#!/usr/bin/env python3
"""Writes a small random-BF16 MoE checkpoint in the Hub layout (safetensors shards + index +
config.json) for the load benchmark (bench/load_bench.sh). Every byte is real data, so reading
it exercises the page cache or the disk like a real checkpoint.

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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_random_mixtral import write_data  # noqa: E402
from make_sparse_mixtral import write_shards  # noqa: E402

SHAPES = {
    "qwen3": dict(H=2048, I=768, E=128, k=8, heads=32, kv=4, head_dim=128, V=32000),
    "mixtral": dict(H=1024, I=3584, E=8, k=2, heads=16, kv=8, head_dim=64, V=32000),
}


def tensors(shape, s, layers):
    H, I, E, q, kv = s["H"], s["I"], s["E"], s["heads"] * s["head_dim"], s["kv"] * s["head_dim"]
    qwen = shape == "qwen3"
    yield "model.embed_tokens.weight", [s["V"], H]
    for L in range(layers):
        p = f"model.layers.{L}."
        yield p + "input_layernorm.weight", [H]
        yield p + "post_attention_layernorm.weight", [H]
        yield p + "self_attn.q_proj.weight", [q, H]
        yield p + "self_attn.k_proj.weight", [kv, H]
        yield p + "self_attn.v_proj.weight", [kv, H]
        yield p + "self_attn.o_proj.weight", [H, q]
        if qwen:
            yield p + "self_attn.q_norm.weight", [s["head_dim"]]
            yield p + "self_attn.k_norm.weight", [s["head_dim"]]
        moe = p + ("mlp." if qwen else "block_sparse_moe.")
        yield moe + "gate.weight", [E, H]
        for e in range(E):
            x = moe + f"experts.{e}."
            if qwen:
                yield x + "gate_proj.weight", [I, H]
                yield x + "up_proj.weight", [I, H]
                yield x + "down_proj.weight", [H, I]
            else:
                yield x + "w1.weight", [I, H]
                yield x + "w2.weight", [H, I]
                yield x + "w3.weight", [I, H]
    yield "model.norm.weight", [H]
    yield "lm_head.weight", [s["V"], H]


def config(shape, s, layers):
    common = {"hidden_size": s["H"], "num_hidden_layers": layers, "num_attention_heads": s["heads"],
              "num_key_value_heads": s["kv"], "head_dim": s["head_dim"], "num_experts_per_tok": s["k"],
              "vocab_size": s["V"], "max_position_embeddings": 32768, "rope_theta": 1e6,
              "tie_word_embeddings": False, "torch_dtype": "bfloat16"}
    if shape == "qwen3":
        return {**common, "architectures": ["Qwen3MoeForCausalLM"], "model_type": "qwen3_moe",
                "num_experts": s["E"], "moe_intermediate_size": s["I"], "intermediate_size": 6144,
                "norm_topk_prob": True, "decoder_sparse_step": 1, "mlp_only_layers": [],
                "rms_norm_eps": 1e-6, "attention_bias": False, "sliding_window": None}
    return {**common, "architectures": ["MixtralForCausalLM"], "model_type": "mixtral",
            "num_local_experts": s["E"], "intermediate_size": s["I"], "rms_norm_eps": 1e-5,
            "sliding_window": None}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--shape", choices=sorted(SHAPES), required=True)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--shards", type=int, default=2)
    a = ap.parse_args()
    s = SHAPES[a.shape]
    entries = list(tensors(a.shape, s, a.layers))
    per = -(-len(entries) // a.shards)
    count, total = write_shards(a.out, [entries[i * per:(i + 1) * per] for i in range(a.shards)], write_data)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config(a.shape, s, a.layers), f, indent=2)
    print(f"{a.out}: {count} tensors, {total / 1e9:.2f} GB (random BF16, {a.shape} shape)")


if __name__ == "__main__":
    main()
