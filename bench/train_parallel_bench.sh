#!/bin/bash
# Data-parallel training step throughput on this machine's CPU (Gloo, docs/distributed.md
# "Training on several ranks"): `switchyard tune --experts 1:3` with 1 rank and with
# `--nproc 2`, the same global batch (2,048 tokens in 2 micro-batches: 16 windows of 128 random
# token ids), back to back; the 1-rank run is the same-run baseline. Prints the training tok/s
# each run reports (its steps only), the wall time of the whole command (process start, LibTorch
# load and rendezvous included), their ratios, and the largest difference between the two runs'
# trained tensors (f32 output).
# Usage: bench/train_parallel_bench.sh BUILD_DIR [MODEL_DIR] [STEPS]
set -euo pipefail
build=${1:?build dir}
model=${2:-$(dirname "$0")/../resources/examples/tiny-mixtral}
steps=${3:-12}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$(dirname "$0")/random_ids.py" "$work/ids.jsonl" 256 128
echo "load: $(uptime | sed 's/.*load average/load average/'); cores: $(nproc)"
run() {   # OUT [more args]: prints "tok/s wall_s"
    local out=$1; shift
    local start; start=$(date +%s.%N)
    local rate
    rate=$("$build/bin/switchyard" tune "$model" --data "$work/ids.jsonl" --experts 1:3 --steps "$steps" --lr 1e-4 \
        --schedule constant --batch-tokens 2048 --accumulation 2 --seq-len 128 --max-tokens 65536 --out-dtype f32 \
        -o "$work/$out" --quiet "$@" | sed -n 's/.*, \([0-9.]*\) tok\/s.*/\1/p')
    echo "$rate $(/usr/bin/python3 -c "import time; print(round(time.time() - $start, 3))")"
}
read -r r1 w1 < <(run one)
read -r r2 w2 < <(run two --nproc 2)
/usr/bin/python3 - "$work/one" "$work/two" "$r1" "$w1" "$r2" "$w2" <<'PY'
import json, struct, sys, glob, numpy as np
def tensors(folder):
    out = {}
    for path in glob.glob(folder + "/*.safetensors"):
        with open(path, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n)); data = f.read()
        for name, t in header.items():
            if name != "__metadata__" and t["dtype"] == "F32":
                a, b = t["data_offsets"]; out[name] = np.frombuffer(data[a:b], dtype=np.float32)
    return out
one, two = tensors(sys.argv[1]), tensors(sys.argv[2])
worst = max(float(np.max(np.abs(one[k] - two[k]))) for k in one)
r1, w1, r2, w2 = map(float, sys.argv[3:7])
print("| ranks | training tok/s | vs 1 rank | wall s | speed vs 1 rank (wall) |")
print("|---|---|---|---|---|")
print(f"| 1 | {r1:,.0f} | 1.00x | {w1:.2f} | 1.00x |")
print(f"| 2 (`--nproc 2`) | {r2:,.0f} | {r2 / r1:.2f}x | {w2:.2f} | {w1 / w2:.2f}x |")
print(f"largest |1 rank - 2 ranks| over every tensor: {worst:.3g}")
PY
