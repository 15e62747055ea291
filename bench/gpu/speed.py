#!/usr/bin/env python3
"""Routing-trace speed on the GPU against transformers in the same run, and streaming overlap.

Speed (default): for 4-layer random BF16 checkpoints of Qwen3-30B-A3B and Mixtral-8x7B shapes
(random_checkpoints.py) at 8k and 64k tokens per batch (windows of 4096 tokens):
  * ours: `switchyard trace --device cuda --dtype bf16` over several batches; tokens/s in the
    steady state, from its --progress json lines (tokens done, elapsed_s), first batch excluded;
  * transformers: AutoModelForCausalLM in bf16 on the GPU, forward(input_ids,
    output_router_logits=True) under no_grad on the same number of tokens (default attention and
    experts implementation, no torch.compile), tokens/s over timed repeats after a warm-up;
  * expert GEMMs: the two torch._grouped_mm calls per layer our grouped path makes (gate_up, down;
    the same ATen op), at the per-expert token counts of the trace's first batch, timed alone:
    their TFLOP/s as a share of the bf16 peak measured here by torch.matmul (8192^3). Also the
    expert FLOP/s over our whole steady-state time (a lower bound that includes everything else).
Goals (issue): ours >= 3x transformers; expert GEMMs >= 50% of peak at >= 4k tokens per layer.

Streaming (--streaming): the Mixtral-shaped checkpoint traced with --max-memory at a third of its
decoder-layer bytes, so every batch streams the layers host -> device, against the resident run:
  overlap = 1 - (t_streamed - t_resident) / t_copy, per batch, where t_copy = streamed bytes /
  pinned host->device bandwidth measured here. 1: copies fully hidden behind compute; 0: serial.

Writes a JSON (--json) and a line per measurement. Exit 0 when everything was measured (goals
are reported, not enforced), 3 when a measurement failed (recorded under "errors"; the others
still run), 1 when it broke. Without CUDA, --tiny runs the plumbing on the CPU with shrunken shapes.

usage: speed.py --switchyard BIN --work DIR [--json OUT] [--streaming] [--models qwen3,mixtral]
                [--tokens 8192,65536] [--tiny]
"""
import argparse
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import traceback

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crosscheck_lib as lib  # noqa: E402
import random_checkpoints as rc  # noqa: E402

SEQ_LEN = 4096
GOAL_SPEEDUP, GOAL_PEAK_SHARE, GOAL_MIN_TOKENS = 3.0, 0.5, 4096


def log(msg):
    print(f"speed: {msg}", flush=True)


# ---- measurements with torch -----------------------------------------------------------------

def sync(torch, device):
    if device == "cuda":
        torch.cuda.synchronize()


def time_op(torch, device, fn, min_seconds=0.5, min_repeats=3):
    """Seconds per call: warm-up, then repeats until min_seconds (CUDA synchronised)."""
    fn()
    sync(torch, device)
    repeats, start = 0, time.perf_counter()
    while repeats < min_repeats or time.perf_counter() - start < min_seconds:
        fn()
        repeats += 1
        sync(torch, device)
    return (time.perf_counter() - start) / repeats


def matmul_peak(torch, device, n=8192):
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    n = n if device == "cuda" else 1024
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    seconds = time_op(torch, device, lambda: torch.matmul(a, b), min_seconds=1.0, min_repeats=10)
    return 2 * n ** 3 / seconds / 1e12


def h2d_bandwidth(torch, nbytes=1 << 30):
    """Pinned and pageable host -> device GB/s."""
    out = {}
    dst = torch.empty(nbytes, dtype=torch.uint8, device="cuda")
    for name, pin in (("pinned", True), ("pageable", False)):
        src = torch.empty(nbytes, dtype=torch.uint8, pin_memory=pin)
        src.fill_(1)
        seconds = time_op(torch, "cuda", lambda: dst.copy_(src, non_blocking=pin), min_seconds=0.5)
        out[name + "_gb_per_s"] = nbytes / seconds / 1e9
    return out


def grouped_gemm_rate(torch, device, counts, s):
    """TFLOP/s of our grouped path's two expert GEMMs (gate_up then down) at these counts."""
    h, i, e = s["hidden"], s["inter"], s["experts"]
    rows = int(sum(counts))
    flop = 2 * rows * h * 2 * i + 2 * rows * i * h
    if device != "cuda" or not hasattr(torch, "_grouped_mm"):
        return {"tflops": None, "flop": flop, "note": "torch._grouped_mm needs CUDA (PyTorch >= 2.8)"}
    x = torch.randn(rows, h, device=device, dtype=torch.bfloat16) * 0.5
    gate_up = torch.randn(e, 2 * i, h, device=device, dtype=torch.bfloat16) * 0.02
    down = torch.randn(e, h, i, device=device, dtype=torch.bfloat16) * 0.02
    offs = torch.tensor(np.cumsum(counts), dtype=torch.int32, device=device)
    hidden = torch.randn(rows, i, device=device, dtype=torch.bfloat16)

    def both():
        torch._grouped_mm(x, gate_up.transpose(1, 2), offs=offs)
        torch._grouped_mm(hidden, down.transpose(1, 2), offs=offs)
    seconds = time_op(torch, device, both)
    return {"tflops": flop / seconds / 1e12, "flop": flop, "seconds": seconds}


# ---- ours ------------------------------------------------------------------------------------

def write_ids(path, vocab, tokens, seq_len):
    rng = random.Random(1)
    with open(path, "w") as f:
        for _ in range(tokens // seq_len):
            f.write(json.dumps({"input_ids": [rng.randrange(vocab) for _ in range(seq_len)]}) + "\n")


def run_trace(switchyard, model_dir, ids, out, batch_tokens, seq_len, device, extra=()):
    """Runs trace with --progress json; returns steady-state tokens/s and the whole run's."""
    cmd = [switchyard, "trace", model_dir, "--data", ids, "--seq-len", str(seq_len), "--batch-tokens",
           str(batch_tokens), "--device", device, "--dtype", "bf16", "--progress", "json", "--force", "-o", out,
           *extra]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout = []
    reader = threading.Thread(target=lambda: stdout.extend(proc.stdout))
    reader.start()
    points = []   # (seconds, tokens done)
    for line in proc.stderr:
        now = time.perf_counter() - start
        try:
            event = json.loads(line)
        except ValueError:
            sys.stderr.write(line)
            continue
        if isinstance(event, dict) and event.get("unit") == "tokens" and event.get("done") is not None:
            points.append((event.get("elapsed_s", now), event["done"]))   # the program's own clock
    reader.join()
    if proc.wait() != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {''.join(stdout)}")
    wall = time.perf_counter() - start
    done = points[-1][1] if points else 0
    after_first = [p for p in points if p[1] >= batch_tokens]
    result = {"wall_s": wall, "tokens": done, "whole_run_tokens_per_s": done / wall if wall else None,
              "progress_points": len(points)}
    if len(after_first) >= 2 and after_first[-1][0] > after_first[0][0]:
        (t0, d0), (t1, d1) = after_first[0], after_first[-1]
        result["tokens_per_s"] = (d1 - d0) / (t1 - t0)
        result["rate_from"] = f"progress, {d1 - d0} tokens after the first batch"
    else:
        result["tokens_per_s"] = result["whole_run_tokens_per_s"]
        result["rate_from"] = "whole run (too few progress lines after the first batch)"
    return result


def smallest_max_memory(switchyard, model_dir, ids, device):
    """The smallest workable --max-memory that `trace --plan` reports for this model."""
    done = subprocess.run([switchyard, "trace", model_dir, "--data", ids, "--plan", "--device", device,
                           "--dtype", "bf16"], check=True, capture_output=True, text=True)
    match = re.search(r"smallest workable --max-memory: [^(]*\((\d+) bytes", done.stdout)
    if not match:
        raise RuntimeError("trace --plan printed no smallest workable --max-memory:\n" + done.stdout)
    return int(match.group(1))


def first_batch_counts(trace_path, batch_tokens, experts):
    """Per-layer tokens per expert of the trace's first batch: [Lm, E]."""
    import h5py
    with h5py.File(trace_path, "r") as f:
        ids = f["routing/topk_ids"][:, :batch_tokens, :]
    return np.stack([np.bincount(layer.reshape(-1), minlength=experts) for layer in ids])


# ---- transformers ----------------------------------------------------------------------------

def hf_rate(torch, model, device, vocab, tokens, seq_len):
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(0, vocab, (tokens // seq_len, seq_len), generator=gen).to(device)

    def forward():
        with torch.no_grad():
            out = model(input_ids=ids, output_router_logits=True)
        return out
    seconds = time_op(torch, device, forward, min_seconds=2.0, min_repeats=2)
    impl = getattr(model.config, "_experts_implementation", None)
    attn = getattr(model.config, "_attn_implementation", None)
    return {"tokens_per_s": tokens / seconds, "seconds_per_forward": seconds,
            "attention": attn, "experts_implementation": impl}


# ---- runs ------------------------------------------------------------------------------------

def checkpoint_dir(a, kind):
    return os.path.join(a.work, f"{kind}{'-tiny' if a.tiny else ''}")


def expert_flop(s, tokens):
    return 2 * tokens * s["top_k"] * 3 * s["hidden"] * s["inter"]


def attempt(report, label, fn):
    """fn(), or None with the error recorded in report["errors"]: one failed measurement must
    not cost the others (the run is short and rare)."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - recorded and reported, the exit status says so
        traceback.print_exc()
        report.setdefault("errors", []).append(f"{label}: {type(e).__name__}: {e}")
        log(f"{label} FAILED: {e}")
        return None


def speed(a, torch, device):
    peak = matmul_peak(torch, device)
    log(f"{device} matmul peak {peak:.1f} TFLOP/s ({'bf16 8192^3' if device == 'cuda' else 'f32 1024^3'})")
    hf_version = lib.transformers_version() if device == "cuda" or a.tiny else None
    report = {"device": device, "matmul_peak_tflops": peak, "transformers": hf_version, "seq_len": a.seq_len,
              "models": {}}
    for kind in a.models:
        s = rc.shape(kind, a.tiny)
        model_dir = checkpoint_dir(a, kind)
        start = time.perf_counter()
        size = rc.write(kind, model_dir, layers=4, tiny=a.tiny)
        log(f"{kind}: checkpoint {size / 1e9:.1f} GB ready in {time.perf_counter() - start:.1f} s")
        model = None
        if hf_version:
            start = time.perf_counter()
            model = attempt(report, f"{kind}: transformers load",
                            lambda: lib.load_causal_lm(model_dir, torch.bfloat16, device_map=device))
            log(f"{kind}: transformers loaded in {time.perf_counter() - start:.1f} s")
        rows = {}
        for tokens in a.tokens:
            batches = max(3, (a.run_tokens // tokens))
            ids = os.path.join(a.work, f"{kind}-ids-{tokens}.jsonl")
            write_ids(ids, s["vocab"], tokens * batches, a.seq_len)
            trace = os.path.join(a.work, f"{kind}-{tokens}.h5")
            ours = attempt(report, f"{kind} {tokens}: our trace",
                           lambda: run_trace(a.switchyard, model_dir, ids, trace, tokens, a.seq_len, device))
            if ours is None:
                continue
            counts = first_batch_counts(trace, tokens, s["experts"])
            gemm = [attempt(report, f"{kind} {tokens}: grouped GEMM", lambda: grouped_gemm_rate(torch, device, layer, s))
                    or {"tflops": None} for layer in counts]
            gemm_tflops = None
            if all(g["tflops"] for g in gemm):
                gemm_tflops = sum(g["flop"] for g in gemm) / sum(g["seconds"] for g in gemm) / 1e12
            row = {"tokens_per_batch": tokens, "ours": ours, "expert_gemm_tflops": gemm_tflops,
                   "expert_gemm_share_of_peak": gemm_tflops / peak if gemm_tflops else None,
                   "expert_tflops_over_whole_trace": 4 * expert_flop(s, ours["tokens_per_s"]) / 1e12,
                   "tokens_per_expert_per_layer_mean": float(counts.mean()),
                   "tokens_per_expert_per_layer_max": int(counts.max())}
            if model is not None:
                hf = attempt(report, f"{kind} {tokens}: transformers forward",
                             lambda: hf_rate(torch, model, device, s["vocab"], tokens, a.seq_len))
                if hf is not None:
                    row["transformers"] = hf
                    row["speedup"] = ours["tokens_per_s"] / hf["tokens_per_s"]
            rows[str(tokens)] = row
            log(f"{kind} {tokens} tokens/batch: ours {ours['tokens_per_s']:.0f} tok/s"
                + (f", transformers {row['transformers']['tokens_per_s']:.0f} tok/s, {row['speedup']:.2f}x"
                   if "speedup" in row else "")
                + (f", expert GEMMs {gemm_tflops:.0f} TFLOP/s = {100 * row['expert_gemm_share_of_peak']:.0f}% of peak"
                   if gemm_tflops else ""))
        report["models"][kind] = rows
        del model
        if device == "cuda":
            torch.cuda.empty_cache()
    rows = [r for m in report["models"].values() for r in m.values()]
    report["goals"] = {
        "speedup_at_least_3x": all(r.get("speedup", 0) >= GOAL_SPEEDUP for r in rows) if hf_version else None,
        "expert_gemms_at_least_half_of_peak": all((r["expert_gemm_share_of_peak"] or 0) >= GOAL_PEAK_SHARE
                                                  for r in rows if r["tokens_per_batch"] >= GOAL_MIN_TOKENS)
        if device == "cuda" else None,
    }
    return report


def streaming(a, torch, device):
    kind = "mixtral"
    s = rc.shape(kind, a.tiny)
    model_dir = checkpoint_dir(a, kind)
    rc.write(kind, model_dir, layers=4, tiny=a.tiny)
    layers, resident = rc.layer_bytes(kind, 4, a.tiny)
    tokens = a.tokens[0]
    ids = os.path.join(a.work, f"{kind}-stream-ids.jsonl")
    write_ids(ids, s["vocab"], tokens * max(4, a.run_tokens // tokens), a.seq_len)
    budget = max(resident + layers // 3, smallest_max_memory(a.switchyard, model_dir, ids, device))
    base = run_trace(a.switchyard, model_dir, ids, os.path.join(a.work, "resident.h5"), tokens, a.seq_len, device)
    streamed = run_trace(a.switchyard, model_dir, ids, os.path.join(a.work, "streamed.h5"), tokens, a.seq_len, device,
                         extra=("--max-memory", str(budget)))
    t_resident = tokens / base["tokens_per_s"]
    t_streamed = tokens / streamed["tokens_per_s"]
    report = {"device": device, "model": kind, "tokens_per_batch": tokens, "max_memory_bytes": budget,
              "layer_bytes": layers, "resident_bytes": resident, "resident": base, "streamed": streamed,
              "seconds_per_batch_resident": t_resident, "seconds_per_batch_streamed": t_streamed}
    if device == "cuda":
        bw = h2d_bandwidth(torch)
        # Every batch streams at least the layers that do not fit beside the resident part.
        moved = layers - (budget - resident)
        t_copy = moved / (bw["pinned_gb_per_s"] * 1e9)
        report.update(bw)
        report["streamed_bytes_per_batch_at_least"] = moved
        report["seconds_copy_pinned"] = t_copy
        report["overlap"] = max(0.0, min(1.0, 1 - (t_streamed - t_resident) / t_copy))
        log(f"streaming: resident {t_resident:.3f} s/batch, streamed {t_streamed:.3f} s/batch, pinned copy of "
            f"{moved / 1e9:.1f} GB {t_copy:.3f} s -> overlap {report['overlap']:.2f}")
    else:
        log(f"streaming: resident {t_resident:.3f} s/batch, streamed {t_streamed:.3f} s/batch (no CUDA: no overlap figure)")
    return report


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--switchyard", required=True)
    ap.add_argument("--work", required=True, help="checkpoints (18 GB for both shapes), ids and traces")
    ap.add_argument("--json")
    ap.add_argument("--streaming", action="store_true")
    ap.add_argument("--models", default="qwen3,mixtral")
    ap.add_argument("--tokens", default="8192,65536", help="tokens per batch")
    ap.add_argument("--run-tokens", type=int, default=262144, help="tokens per trace run (at least 3 batches)")
    ap.add_argument("--seq-len", type=int, default=SEQ_LEN)
    ap.add_argument("--tiny", action="store_true", help="shrunken shapes, for testing the plumbing on a CPU")
    ap.add_argument("--prepare", action="store_true", help="only write the checkpoints (device_check.sh, during the build)")
    a = ap.parse_args(argv)
    a.models = a.models.split(",")
    a.tokens = [int(t) for t in a.tokens.split(",")]
    os.makedirs(a.work, exist_ok=True)
    if a.prepare:
        for kind in a.models:
            start = time.perf_counter()
            size = rc.write(kind, checkpoint_dir(a, kind), layers=4, tiny=a.tiny)
            log(f"{kind}: checkpoint {size / 1e9:.1f} GB ready in {time.perf_counter() - start:.1f} s")
        return 0
    import torch
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu" and not a.tiny:
        log("no CUDA device: skipped (--tiny runs the plumbing on the CPU)")
        report = {"status": "skipped", "message": "no CUDA device"}
    else:
        report = streaming(a, torch, device) if a.streaming else speed(a, torch, device)
        report["status"] = "ran"
    if a.json:
        with open(a.json + ".partial", "w") as f:
            json.dump(report, f, indent=2)
        os.replace(a.json + ".partial", a.json)
    return 3 if report.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
