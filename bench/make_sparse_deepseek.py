#!/usr/bin/env python3
"""Writes the tensor layout of DeepSeek-V3 (671B) or Kimi-K2 (1T) as sparse files: real
safetensors headers with every tensor name, shape and dtype of the published FP8 checkpoints,
data regions left as holes, so ~700 GB / ~1 TB cost no disk.

  deepseek-v3: 61 layers (3 dense), 256 routed + 1 shared expert, MTP layer 61 included,
               91,991 tensors in 163 shards (deepseek-ai/DeepSeek-V3 on the Hub)
  kimi-k2:     61 layers (1 dense), 384 routed + 1 shared expert, no MTP layer,
               139,583 tensors in 62 shards (moonshotai/Kimi-K2-Instruct)

Linear weights are F8_E4M3 with F32 `weight_scale_inv` [ceil(rows/128), ceil(cols/128)]
blocks; embeddings, norms and the router are BF16, `e_score_correction_bias` F32. Shards are cut
by bytes, as the Hub's conversion does, so the tensors per shard follow the real distribution.

usage: bench/make_sparse_deepseek.py OUT_DIR [--shape deepseek-v3|kimi-k2]
"""
import argparse, json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_sparse_mixtral import nbytes, write_shards  # noqa: E402

SHAPES = {
    "deepseek-v3": dict(V=129280, heads=128, dense=3, E=256, mtp=1, shards=163, top_k=8, n_group=8,
                        topk_group=4, scaling=2.5),
    "kimi-k2": dict(V=163840, heads=64, dense=1, E=384, mtp=0, shards=62, top_k=8, n_group=1,
                    topk_group=1, scaling=2.827),
}
H, I, MI, LAYERS, QR, KVR, NOPE, ROPE, VD, BLOCK = 7168, 18432, 2048, 61, 1536, 512, 128, 64, 128, 128


def fp8_linear(name, rows, cols):
    yield name + ".weight", [rows, cols], "F8_E4M3"
    yield name + ".weight_scale_inv", [-(-rows // BLOCK), -(-cols // BLOCK)], "F32"


def mlp(prefix, inter):
    yield from fp8_linear(prefix + "gate_proj", inter, H)
    yield from fp8_linear(prefix + "up_proj", inter, H)
    yield from fp8_linear(prefix + "down_proj", H, inter)


def layer(L, s):
    p = f"model.layers.{L}."
    yield p + "input_layernorm.weight", [H], "BF16"
    yield p + "post_attention_layernorm.weight", [H], "BF16"
    a = p + "self_attn."
    yield from fp8_linear(a + "q_a_proj", QR, H)
    yield a + "q_a_layernorm.weight", [QR], "BF16"
    yield from fp8_linear(a + "q_b_proj", s["heads"] * (NOPE + ROPE), QR)
    yield from fp8_linear(a + "kv_a_proj_with_mqa", KVR + ROPE, H)
    yield a + "kv_a_layernorm.weight", [KVR], "BF16"
    yield from fp8_linear(a + "kv_b_proj", s["heads"] * (NOPE + VD), KVR)
    yield from fp8_linear(a + "o_proj", H, s["heads"] * VD)
    if L < s["dense"]:
        yield from mlp(p + "mlp.", I)
        return
    yield p + "mlp.gate.weight", [s["E"], H], "BF16"
    yield p + "mlp.gate.e_score_correction_bias", [s["E"]], "F32"
    for e in range(s["E"]):
        yield from mlp(p + f"mlp.experts.{e}.", MI)
    yield from mlp(p + "mlp.shared_experts.", MI)


def tensors(s):
    yield "model.embed_tokens.weight", [s["V"], H], "BF16"
    for L in range(LAYERS + s["mtp"]):
        yield from layer(L, s)
        if L >= LAYERS:  # multi-token-prediction layer: its own embedding, projection and head
            p = f"model.layers.{L}."
            yield p + "enorm.weight", [H], "BF16"
            yield p + "hnorm.weight", [H], "BF16"
            yield p + "eh_proj.weight", [H, 2 * H], "BF16"
            yield p + "embed_tokens.weight", [s["V"], H], "BF16"
            yield p + "shared_head.norm.weight", [H], "BF16"
            yield p + "shared_head.head.weight", [s["V"], H], "BF16"
    yield "model.norm.weight", [H], "BF16"
    yield "lm_head.weight", [s["V"], H], "BF16"


def split_by_bytes(entries, shards):
    sizes = [nbytes(shape, dtype) for _, shape, dtype in entries]
    total, chunks, done = sum(sizes), [[] for _ in range(shards)], 0
    for entry, size in zip(entries, sizes):
        chunks[min(shards - 1, done * shards // total)].append(entry)
        done += size
    return [c for c in chunks if c]


def config(s):
    # Kimi-K2's own config says "model_type": "kimi_k2" with DeepseekV3ForCausalLM; the
    # architecture is DeepSeek-V3's, which is what the header-parsing benchmark needs.
    return {"architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3", "vocab_size": s["V"],
            "hidden_size": H, "intermediate_size": I, "moe_intermediate_size": MI, "num_hidden_layers": LAYERS,
            "first_k_dense_replace": s["dense"], "moe_layer_freq": 1, "num_attention_heads": s["heads"],
            "num_key_value_heads": s["heads"], "q_lora_rank": QR, "kv_lora_rank": KVR, "qk_nope_head_dim": NOPE,
            "qk_rope_head_dim": ROPE, "v_head_dim": VD, "n_routed_experts": s["E"], "n_shared_experts": 1,
            "num_experts_per_tok": s["top_k"], "n_group": s["n_group"], "topk_group": s["topk_group"],
            "norm_topk_prob": True, "routed_scaling_factor": s["scaling"], "scoring_func": "sigmoid",
            "topk_method": "noaux_tc", "rope_theta": 10000.0, "rms_norm_eps": 1e-6,
            "rope_scaling": {"type": "yarn", "factor": 40, "original_max_position_embeddings": 4096,
                             "beta_fast": 32, "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 1.0},
            "max_position_embeddings": 163840, "tie_word_embeddings": False, "hidden_act": "silu",
            "attention_bias": False, "num_nextn_predict_layers": s["mtp"], "torch_dtype": "bfloat16",
            "quantization_config": {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8",
                                    "weight_block_size": [BLOCK, BLOCK]}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--shape", choices=sorted(SHAPES), default="deepseek-v3")
    a = ap.parse_args()
    s = SHAPES[a.shape]
    count, total = write_shards(a.out, split_by_bytes(list(tensors(s)), s["shards"]))
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config(s), f, indent=2)
    print(f"{a.out}: {a.shape}, {count} tensors in {s['shards']} shards, {total / 1e9:.1f} GB (sparse)")


if __name__ == "__main__":
    main()
