#!/usr/bin/python3
"""Eager PyTorch reference for bench/load_bench.sh: loads a Mixtral / Qwen3-MoE checkpoint
(Hub layout, safetensors) and runs the same forward `switchyard trace` does, written the way
transformers' eager modules are (MixtralSparseMoeBlock / Qwen3MoeSparseMoeBlock: softmax
router, top-k, a Python loop over the experts that received tokens, index_add_; eager
attention with repeat_kv and an additive causal mask; rotate_half RoPE), plus the lm_head and
the next-token NLL that trace stores.

Load: each tensor is read from its shard into a buffer (as safetensors' get_tensor copies it out
of the file) and converted to the compute dtype with `.to()`, as from_pretrained(torch_dtype=...)
does. Needs Debian's python3-torch (run with /usr/bin/python3); no transformers.

usage: torch_reference.py MODEL_DIR --ids IDS.jsonl --max-tokens N [--batch-tokens 1024]
       [--seq-len 512] [--dtype f32|bf16]
Prints one JSON line per event to stdout: {"event": "loaded"|"batch", "t": seconds since start,
"tokens": tokens done, ...}, then {"event": "done", ...}.
"""
import argparse, json, math, os, struct, sys, time

T0 = time.monotonic()
import torch  # noqa: E402  (timed: importing torch is part of the reference's start-up)
import torch.nn.functional as F  # noqa: E402


def emit(event, **fields):
    print(json.dumps({"event": event, "t": time.monotonic() - T0, **fields}), flush=True)


def load_checkpoint(model_dir, dtype):
    files = sorted(f for f in os.listdir(model_dir) if f.endswith(".safetensors"))
    weights, source_bytes = {}, 0
    for name in files:
        with open(os.path.join(model_dir, name), "rb", buffering=0) as f:
            (header_len,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(header_len))
            base = 8 + header_len
            for tensor, meta in header.items():
                if tensor == "__metadata__":
                    continue
                assert meta["dtype"] == "BF16", f"{name}: {tensor}: expected BF16, found {meta['dtype']}"
                begin, end = meta["data_offsets"]
                buf = bytearray(end - begin)
                f.seek(base + begin)
                f.readinto(buf)
                t = torch.frombuffer(buf, dtype=torch.bfloat16).reshape(meta["shape"])
                weights[tensor] = t.to(dtype) if dtype != torch.bfloat16 else t
                source_bytes += end - begin
    return weights, source_bytes


class Model:
    def __init__(self, model_dir, dtype):
        with open(os.path.join(model_dir, "config.json")) as f:
            c = json.load(f)
        self.c = c
        self.qwen = c["model_type"] == "qwen3_moe"
        self.E = c.get("num_experts") or c["num_local_experts"]
        self.k = c["num_experts_per_tok"]
        self.heads, self.kv = c["num_attention_heads"], c["num_key_value_heads"]
        self.head_dim = c.get("head_dim") or c["hidden_size"] // self.heads
        self.eps = c["rms_norm_eps"]
        self.normalize = c.get("norm_topk_prob", True) if self.qwen else True  # Mixtral: softmax over top-k
        self.w, self.source_bytes = load_checkpoint(model_dir, dtype)
        self.dtype = dtype
        inv = 1.0 / (c.get("rope_theta", 10000.0) ** (torch.arange(0, self.head_dim, 2, dtype=torch.float32) / self.head_dim))
        self.inv_freq = inv

    def rms(self, x, w):
        x32 = x.float()
        x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return w * x32.to(x.dtype)

    def rope(self, L):
        t = torch.arange(L, dtype=torch.float32)
        freqs = torch.outer(t, self.inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(self.dtype), emb.sin().to(self.dtype)

    @staticmethod
    def rotate_half(x):
        h = x.shape[-1] // 2
        return torch.cat((-x[..., h:], x[..., :h]), dim=-1)

    def attention(self, p, x, cos, sin):
        B, L, _ = x.shape
        w = self.w
        q = F.linear(x, w[p + "q_proj.weight"]).view(B, L, self.heads, self.head_dim)
        k = F.linear(x, w[p + "k_proj.weight"]).view(B, L, self.kv, self.head_dim)
        v = F.linear(x, w[p + "v_proj.weight"]).view(B, L, self.kv, self.head_dim)
        if self.qwen:
            q, k = self.rms(q, w[p + "q_norm.weight"]), self.rms(k, w[p + "k_norm.weight"])
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        q = q * cos + self.rotate_half(q) * sin
        k = k * cos + self.rotate_half(k) * sin
        rep = self.heads // self.kv
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.head_dim)
        mask = torch.full((L, L), float("-inf"), dtype=scores.dtype).triu(1)
        probs = F.softmax(scores + mask, dim=-1, dtype=torch.float32).to(q.dtype)
        out = torch.matmul(probs, v).transpose(1, 2).reshape(B, L, -1)
        return F.linear(out, w[p + "o_proj.weight"])

    def moe(self, p, x):
        w = self.w
        B, L, H = x.shape
        x = x.view(-1, H)
        logits = F.linear(x, w[p + "gate.weight"])
        routing = F.softmax(logits, dim=1, dtype=torch.float)
        routing, selected = torch.topk(routing, self.k, dim=-1)
        if self.normalize:
            routing /= routing.sum(dim=-1, keepdim=True)
        routing = routing.to(x.dtype)
        final = torch.zeros_like(x)
        expert_mask = F.one_hot(selected, num_classes=self.E).permute(2, 1, 0)
        hit = torch.greater(expert_mask.sum(dim=(-1, -2)), 0).nonzero()
        names = ("gate_proj", "up_proj", "down_proj") if self.qwen else ("w1", "w3", "w2")
        for e in hit.flatten().tolist():
            idx, top_x = torch.where(expert_mask[e])
            cur = x[top_x]
            q = f"{p}experts.{e}."
            g, u, d = (w[q + n + ".weight"] for n in names)
            y = F.linear(F.silu(F.linear(cur, g)) * F.linear(cur, u), d) * routing[top_x, idx, None]
            final.index_add_(0, top_x, y.to(x.dtype))
        return final.view(B, L, H)

    def forward_nll(self, ids):
        """ids [B, L] -> next-token NLL [B, L-1] (f32)."""
        w, c = self.w, self.c
        B, L = ids.shape
        cos, sin = self.rope(L)
        h = F.embedding(ids, w["model.embed_tokens.weight"])
        for layer in range(c["num_hidden_layers"]):
            p = f"model.layers.{layer}."
            h = h + self.attention(p + "self_attn.", self.rms(h, w[p + "input_layernorm.weight"]), cos, sin)
            h = h + self.moe(p + ("mlp." if self.qwen else "block_sparse_moe."),
                             self.rms(h, w[p + "post_attention_layernorm.weight"]))
        h = self.rms(h, w["model.norm.weight"])
        logits = F.linear(h, w["lm_head.weight"]).float()
        return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="none")


def batches(path, max_tokens, batch_tokens, seq_len):
    """Windows of seq_len from input_ids records, grouped into batches of batch_tokens."""
    windows, total = [], 0
    with open(path) as f:
        for line in f:
            ids = json.loads(line)["input_ids"]
            for s in range(0, len(ids), seq_len):
                w = ids[s:s + seq_len][: max_tokens - total]
                if not w:
                    break
                windows.append(w)
                total += len(w)
                if sum(map(len, windows)) >= batch_tokens or total >= max_tokens:
                    yield windows
                    windows = []
            if total >= max_tokens:
                break
    if windows:
        yield windows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--ids", required=True)
    ap.add_argument("--max-tokens", type=int, required=True)
    ap.add_argument("--batch-tokens", type=int, default=1024)
    ap.add_argument("--seq-len", type=int, default=512)
    ap.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    a = ap.parse_args()
    dtype = torch.float32 if a.dtype == "f32" else torch.bfloat16
    emit("imported")
    with torch.no_grad():
        model = Model(a.model, dtype)
        emit("loaded", source_bytes=model.source_bytes)
        done, nll_sum, nll_count = 0, 0.0, 0
        for windows in batches(a.ids, a.max_tokens, a.batch_tokens, a.seq_len):
            lengths = {len(w) for w in windows}
            for length in sorted(lengths):  # one forward per window length
                ids = torch.tensor([w for w in windows if len(w) == length], dtype=torch.long)
                nll = model.forward_nll(ids)
                nll_sum += float(nll.sum())
                nll_count += nll.numel()
            done += sum(map(len, windows))
            emit("batch", tokens=done)
        emit("done", tokens=done, mean_nll=nll_sum / max(nll_count, 1), threads=torch.get_num_threads())


if __name__ == "__main__":
    sys.exit(main())
