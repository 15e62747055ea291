#!/usr/bin/env python3
"""Helpers for bench/trace_bench.sh. Standard library only.

  evict FILE...                    drop FILEs from the page cache (posix_fadvise DONTNEED)
  disk-read FILE...                evict, read sequentially in 16 MiB preads, evict; prints JSON
  ids OUT.jsonl --vocab V --docs D --len L     random input_ids records (seed 1)
  run -- CMD...                    runs CMD; prints JSON {wall_s, max_rss_bytes, rc}
  flops MODEL_DIR --tokens N --seq-len S       FLOP of one trace of N tokens; JSON
  shapes MODEL_DIR --tokens N      the model's GEMMs at N tokens as bench-matmul --shape args
  matmul-rate BENCH.tsv MODEL_DIR --tokens N --dtype D   GEMM-mix GFLOP/s from bench-matmul output

FLOP count (multiply-add = 2 FLOP; only the GEMMs and attention products, norms/softmax/SiLU
are O(N*H) and ignored), for N tokens in windows of length L_w, per MoE decoder layer:
  attention projections  2*N*H*(q + 2*kv + q)    q = heads*head_dim, kv = kv_heads*head_dim
  attention products     sum_w 2*heads*head_dim*L_w*(L_w+1)   (QK^T and PV, causal half)
  router                 2*N*H*E
  routed experts         2*N*k*3*H*I             (each token runs k experts: gate, up, down)
plus the lm_head once: 2*N*H*V.  total = layers*(...) + lm_head.
"""
import json, os, random, resource, subprocess, sys, time


def evict(paths):
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            os.fdatasync(fd)  # dirty pages cannot be dropped
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def read_all(paths):
    """Reads the files sequentially in 16 MiB preads; returns (bytes, seconds)."""
    buf, total = bytearray(16 << 20), 0
    start = time.monotonic()
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            while True:
                n = os.readv(fd, [buf])
                if n == 0:
                    break
                total += n
        finally:
            os.close(fd)
    return total, time.monotonic() - start


def disk_read(paths):
    evict(paths)
    total, seconds = read_all(paths)
    evict(paths)
    print(json.dumps({"bytes": total, "seconds": seconds, "gb_per_s": total / seconds / 1e9}))


def write_ids(out, vocab, docs, length):
    rng = random.Random(1)
    with open(out, "w") as f:
        for _ in range(docs):
            f.write(json.dumps({"input_ids": [rng.randrange(vocab) for _ in range(length)], "domain": "random"}) + "\n")


def run(cmd):
    start = time.monotonic()
    rc = subprocess.call(cmd)
    wall = time.monotonic() - start
    rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # Linux: KiB
    print(json.dumps({"wall_s": wall, "max_rss_bytes": rss_kib * 1024, "rc": rc}))
    return rc


def config(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        c = json.load(f)
    heads = c["num_attention_heads"]
    head_dim = c.get("head_dim") or c["hidden_size"] // heads
    return {"H": c["hidden_size"], "I": c.get("moe_intermediate_size") or c["intermediate_size"],
            "E": c.get("num_local_experts") or c["num_experts"], "k": c["num_experts_per_tok"], "V": c["vocab_size"],
            "layers": c["num_hidden_layers"], "q": heads * head_dim,
            "kv": c.get("num_key_value_heads", heads) * head_dim, "heads": heads, "head_dim": head_dim}


def flops(model_dir, tokens, seq_len):
    m = config(model_dir)
    windows = [seq_len] * (tokens // seq_len) + ([tokens % seq_len] if tokens % seq_len else [])
    per_layer = (2 * tokens * m["H"] * (2 * m["q"] + 2 * m["kv"])
                 + sum(2 * m["heads"] * m["head_dim"] * w * (w + 1) for w in windows)
                 + 2 * tokens * m["H"] * m["E"]
                 + 2 * tokens * m["k"] * 3 * m["H"] * m["I"])
    total = m["layers"] * per_layer + 2 * tokens * m["H"] * m["V"]
    return {"flop": total, "flop_per_token": total / tokens}


def gemms(model_dir, tokens):
    """(name, m, k, n, calls) of the model's GEMMs for one batch of `tokens`."""
    m = config(model_dir)
    per_expert = max(1, tokens * m["k"] // m["E"])  # balanced routing
    L, E = m["layers"], m["E"]
    return [("attn_q_o", tokens, m["H"], m["q"], 2 * L), ("attn_k_v", tokens, m["H"], m["kv"], 2 * L),
            ("expert_gate_up", per_expert, m["H"], m["I"], 2 * E * L),
            ("expert_down", per_expert, m["I"], m["H"], E * L), ("lm_head", tokens, m["H"], m["V"], 1)]


def matmul_rate(tsv, model_dir, tokens, dtype, only=None):
    """FLOP-weighted GEMM rate of one batch's GEMMs (those whose name starts with `only`)."""
    rows = {}
    with open(tsv) as f:
        next(f)
        for line in f:
            name, d, *_, seconds, _gflops = line.rstrip("\n").split("\t")
            rows[(name, d)] = float(seconds)
    flop = seconds = 0.0
    for name, mm, kk, nn, calls in gemms(model_dir, tokens):
        if only and not name.startswith(only):
            continue
        flop += 2.0 * mm * kk * nn * calls
        seconds += rows[(name, dtype)] * calls
    print(json.dumps({"gflops": flop / seconds / 1e9, "gemm_seconds": seconds}))


def opt(args, name, default=None):
    return args[args.index(name) + 1] if name in args else default


def main(argv):
    cmd, args = argv[0], argv[1:]
    if cmd == "evict":
        evict(args)
    elif cmd == "disk-read":
        disk_read(args)
    elif cmd == "ids":
        write_ids(args[0], int(opt(args, "--vocab")), int(opt(args, "--docs")), int(opt(args, "--len")))
    elif cmd == "run":
        return run(args[args.index("--") + 1:])
    elif cmd == "flops":
        print(json.dumps(flops(args[0], int(opt(args, "--tokens")), int(opt(args, "--seq-len", 512)))))
    elif cmd == "shapes":
        print(" ".join(f"--shape {n}:{mm},{kk},{nn}" for n, mm, kk, nn, _ in gemms(args[0], int(opt(args, "--tokens")))))
    elif cmd == "matmul-rate":
        matmul_rate(args[0], args[1], int(opt(args, "--tokens")), opt(args, "--dtype"), opt(args, "--only"))
    else:
        sys.exit(f"unknown command {cmd}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
