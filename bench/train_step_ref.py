#!/usr/bin/python3
"""PyTorch eager reference of one Switchyard training step (bench/train_step_bench.sh).

  train_step_ref.py MODEL_DIR IDS.jsonl --layer L --expert E --steps N --batch-tokens B --threads T

A Mixtral-family model (transformers' modeling_mixtral, written out: RMSNorm, rotate-half RoPE,
GQA causal attention, softmax top-k router renormalised, SwiGLU experts) in f32 from the
checkpoint's bf16 weights; trains expert E of layer L (w1, w2, w3; what `switchyard tune --experts
L:E` trains) with torch.optim.AdamW on next-token cross-entropy, every other weight frozen (requires_grad False),
over the same input_ids windows the engine reads. Prints JSON: tokens/s over the steps after the
first (warm-up), final loss. Needs Debian's python3-torch; standard library + torch only.
"""
import json, math, struct, sys, time

import torch


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = bytearray(data[a:b])
        if info["dtype"] == "BF16":
            t = torch.frombuffer(raw, dtype=torch.int16).to(torch.int32) << 16
            t = t.view(torch.float32)
        elif info["dtype"] == "F32":
            t = torch.frombuffer(raw, dtype=torch.float32)
        else:
            raise SystemExit(f"{name}: dtype {info['dtype']} not handled by the reference")
        out[name] = t.reshape(info["shape"]).clone()
    return out


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, cos, sin):
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


def forward(w, cfg, ids, trained):
    B, T = ids.shape
    H, nh, nkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd, eps, k = H // nh, cfg["rms_norm_eps"], cfg["num_experts_per_tok"]
    inv = 1.0 / (cfg.get("rope_theta", 10000.0) ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
    ang = torch.arange(T, dtype=torch.float32)[:, None] * inv[None, :]
    cos, sin = torch.cat([ang.cos()] * 2, -1), torch.cat([ang.sin()] * 2, -1)
    mask = torch.full((T, T), float("-inf")).triu(1)
    h = w["model.embed_tokens.weight"][ids]
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        x = rms_norm(h, w[p + "input_layernorm.weight"], eps)
        q = (x @ w[p + "self_attn.q_proj.weight"].t()).view(B, T, nh, hd).transpose(1, 2)
        kk = (x @ w[p + "self_attn.k_proj.weight"].t()).view(B, T, nkv, hd).transpose(1, 2)
        v = (x @ w[p + "self_attn.v_proj.weight"].t()).view(B, T, nkv, hd).transpose(1, 2)
        q, kk = rope(q, cos, sin), rope(kk, cos, sin)
        kk, v = kk.repeat_interleave(nh // nkv, 1), v.repeat_interleave(nh // nkv, 1)
        att = torch.softmax(q @ kk.transpose(-1, -2) / math.sqrt(hd) + mask, -1) @ v
        h = h + att.transpose(1, 2).reshape(B, T, H) @ w[p + "self_attn.o_proj.weight"].t()
        x = rms_norm(h, w[p + "post_attention_layernorm.weight"], eps).reshape(B * T, H)
        router = trained.get((l, "router"), w[p + "block_sparse_moe.gate.weight"])
        probs = torch.softmax(x @ router.t(), -1)
        top, ids_k = probs.topk(k, -1)
        top = top / top.sum(-1, keepdim=True)
        out = torch.zeros_like(x)
        for e in range(cfg["num_local_experts"]):
            rows, slot = (ids_k == e).nonzero(as_tuple=True)
            if rows.numel() == 0:
                continue
            q_ = p + f"block_sparse_moe.experts.{e}."
            w1 = trained.get((l, e, "w1"), w[q_ + "w1.weight"])
            w2 = trained.get((l, e, "w2"), w[q_ + "w2.weight"])
            w3 = trained.get((l, e, "w3"), w[q_ + "w3.weight"])
            xe = x[rows]
            y = (torch.nn.functional.silu(xe @ w1.t()) * (xe @ w3.t())) @ w2.t()
            out.index_add_(0, rows, y * top[rows, slot, None])
        h = h + out.view(B, T, H)
    h = rms_norm(h, w["model.norm.weight"], eps)
    logits = h[:, :-1] @ w["lm_head.weight"].t()
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))


def main(argv):
    model, data = argv[0], argv[1]
    opt = dict(zip(argv[2::2], argv[3::2]))
    layer, expert = int(opt["--layer"]), int(opt["--expert"])
    steps, batch_tokens = int(opt["--steps"]), int(opt["--batch-tokens"])
    torch.set_num_threads(int(opt.get("--threads", "2")))
    torch.manual_seed(0)
    cfg = json.load(open(f"{model}/config.json"))
    w = read_safetensors(f"{model}/model.safetensors")
    for t in w.values():
        t.requires_grad_(False)
    p = f"model.layers.{layer}.block_sparse_moe."
    trained = {}
    for part in ("w1", "w2", "w3"):
        trained[(layer, expert, part)] = w[p + f"experts.{expert}.{part}.weight"].clone().requires_grad_(True)
    optimizer = torch.optim.AdamW(list(trained.values()), lr=1e-4, weight_decay=0.0, foreach=False)
    windows = [json.loads(line)["input_ids"] for line in open(data)]
    per_step = max(1, batch_tokens // len(windows[0]))
    rates, loss = [], None
    for s in range(steps):
        batch = torch.tensor([windows[(s * per_step + i) % len(windows)] for i in range(per_step)])
        start = time.perf_counter()
        loss = forward(w, cfg, batch, trained)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(trained.values()), 1.0)
        optimizer.step()
        elapsed = time.perf_counter() - start
        if s > 0:
            rates.append(batch.numel() / elapsed)
    tokens = sum(1 for _ in rates) * per_step * len(windows[0])
    seconds = sum(per_step * len(windows[0]) / r for r in rates)
    print(json.dumps({"tokens_per_second": tokens / seconds, "final_loss": float(loss), "steps": steps,
                      "tokens_per_step": per_step * len(windows[0]), "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main(sys.argv[1:])
