"""Random BF16 checkpoints of published shapes for the GPU speed benchmark, in the Hub layout
(per-expert tensors, shards + index) that both our loader and transformers read:

  mixtral   Mixtral-8x7B shapes (bench/make_sparse_mixtral.py: hidden 4096, 8 experts of 14336, top-2)
  qwen3     Qwen3-30B-A3B shapes (its config.json on the Hub: hidden 2048, 128 experts of 768,
            top-8, 32 query / 4 KV heads of 128, q/k RMSNorm, vocabulary 151936)

with `layers` decoder layers. Values as bench/make_random_mixtral.py writes them (|w| in
[0.0078, 0.031), random sign; RMSNorm weights 1.0), drawn on the GPU when there is one (12 GB of
Mixtral in seconds) and with os.urandom otherwise. `tiny=True` divides every width by 8 (and the
expert count of qwen3 by 4), for testing the benchmark's plumbing on a CPU.
"""
import fcntl
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import make_random_mixtral  # noqa: E402
import make_sparse_mixtral as sparse  # noqa: E402

SHAPES = {
    "mixtral": {"hidden": 4096, "inter": 14336, "experts": 8, "top_k": 2, "heads": 32, "kv_heads": 8,
                "head_dim": 128, "vocab": 32000},
    "qwen3": {"hidden": 2048, "inter": 768, "experts": 128, "top_k": 8, "heads": 32, "kv_heads": 4,
              "head_dim": 128, "vocab": 151936},
}

# MoE block and (gate, up, down) expert tensor names in the Hub checkpoints.
EXPERT_NAMES = {"mixtral": ("block_sparse_moe", ("w1", "w3", "w2")),
                "qwen3": ("mlp", ("gate_proj", "up_proj", "down_proj"))}


def shape(kind, tiny=False):
    s = dict(SHAPES[kind])
    if tiny:
        for key in ("hidden", "inter", "head_dim", "vocab"):
            s[key] //= 8
        if kind == "qwen3":
            s["experts"] //= 4
    return s


def tensors(kind, layers, s):
    h, i, e, q, kv = s["hidden"], s["inter"], s["experts"], s["heads"] * s["head_dim"], s["kv_heads"] * s["head_dim"]
    yield "model.embed_tokens.weight", [s["vocab"], h]
    for layer in range(layers):
        p = f"model.layers.{layer}."
        yield p + "input_layernorm.weight", [h]
        yield p + "post_attention_layernorm.weight", [h]
        yield p + "self_attn.q_proj.weight", [q, h]
        yield p + "self_attn.k_proj.weight", [kv, h]
        yield p + "self_attn.v_proj.weight", [kv, h]
        yield p + "self_attn.o_proj.weight", [h, q]
        if kind == "qwen3":
            yield p + "self_attn.q_norm.weight", [s["head_dim"]]
            yield p + "self_attn.k_norm.weight", [s["head_dim"]]
        block, (gate, up, down) = EXPERT_NAMES[kind]
        yield p + f"{block}.gate.weight", [e, h]
        for x in range(e):
            b = p + f"{block}.experts.{x}."
            yield b + f"{gate}.weight", [i, h]
            yield b + f"{up}.weight", [i, h]
            yield b + f"{down}.weight", [h, i]
    yield "model.norm.weight", [h]
    yield "lm_head.weight", [s["vocab"], h]


def config(kind, layers, s):
    common = {"hidden_size": s["hidden"], "num_hidden_layers": layers, "num_attention_heads": s["heads"],
              "num_key_value_heads": s["kv_heads"], "head_dim": s["head_dim"], "vocab_size": s["vocab"],
              "num_experts_per_tok": s["top_k"], "tie_word_embeddings": False, "torch_dtype": "bfloat16",
              "hidden_act": "silu", "max_position_embeddings": 40960, "sliding_window": None}
    if kind == "mixtral":
        return {**common, "architectures": ["MixtralForCausalLM"], "model_type": "mixtral",
                "intermediate_size": s["inter"], "num_local_experts": s["experts"], "rms_norm_eps": 1e-5,
                "rope_theta": 1e6}
    return {**common, "architectures": ["Qwen3MoeForCausalLM"], "model_type": "qwen3_moe",
            "intermediate_size": 3 * s["hidden"], "moe_intermediate_size": s["inter"], "num_experts": s["experts"],
            "norm_topk_prob": True, "decoder_sparse_step": 1, "mlp_only_layers": [], "rms_norm_eps": 1e-6,
            "rope_theta": 1e6, "attention_bias": False, "use_sliding_window": False}


def _gpu_writer():
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    gen = torch.Generator(device="cuda").manual_seed(1)

    def write_data(f, shape_, nbytes):
        if len(shape_) == 1:
            f.write(make_random_mixtral.ONE_BF16 * (nbytes // 2))
            return
        left = nbytes // 2
        while left:
            n = min(left, 256 << 20)
            u = torch.rand(n, device="cuda", generator=gen)
            sign = torch.where(torch.rand(n, device="cuda", generator=gen) < 0.5, -1.0, 1.0)
            w = ((0.0078125 + 0.0234375 * u) * sign).to(torch.bfloat16)
            f.write(w.view(torch.int16).cpu().numpy().tobytes())
            left -= n
    return write_data


def write(kind, out, layers=4, tiny=False, shards=4):
    """Writes the checkpoint unless `out` already holds it; returns its bytes. A writer in another
    process (device_check.sh prepares them while it builds) is waited for, not raced."""
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _write_locked(kind, out, layers, tiny, shards)


def _write_locked(kind, out, layers, tiny, shards):
    done = os.path.join(out, ".complete")
    if os.path.exists(done):
        with open(done) as f:
            return int(f.read())
    s = shape(kind, tiny)
    entries = list(tensors(kind, layers, s))
    per = -(-len(entries) // shards)
    write_data = _gpu_writer() or make_random_mixtral.write_data
    _, total = sparse.write_shards(out, [entries[k * per:(k + 1) * per] for k in range(shards)], write_data)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config(kind, layers, s), f, indent=2)
    with open(done, "w") as f:
        f.write(str(total))
    return total


def layer_bytes(kind, layers=4, tiny=False):
    """BF16 bytes of the decoder layers (what --max-memory streams), and of the rest."""
    total = resident = 0
    for name, shp in tensors(kind, layers, shape(kind, tiny)):
        n = sparse.nbytes(shp)
        total += n
        resident += 0 if name.startswith("model.layers.") else n
    return total - resident, resident
