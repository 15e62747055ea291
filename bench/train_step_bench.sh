#!/bin/bash
# Training-step throughput: switchyard's engine (`tune --experts 1:3`: that expert's three
# tensors train) vs the PyTorch eager reference bench/train_step_ref.py (the same three tensors),
# same model, windows (random ids, 128 tokens), batch (2048 tokens), threads and machine, back to
# back; the reference also with the OpenMP / OpenBLAS waiting switchyard starts its verbs with
# (compute/cpu_threads.h). Usage: bench/train_step_bench.sh BUILD_DIR [MODEL_DIR] [STEPS]
# Prints both tokens/s and their ratio (engine / reference).
set -euo pipefail
build=${1:?build dir}
model=${2:-$(dirname "$0")/../resources/examples/tiny-mixtral}
steps=${3:-12}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$(dirname "$0")/random_ids.py" "$work/ids.jsonl" 256 128
export OMP_NUM_THREADS=2
engine=$("$build/bin/switchyard" tune "$model" --data "$work/ids.jsonl" --experts 1:3 --steps "$steps" --lr 1e-4 \
    --schedule constant --batch-tokens 2048 --seq-len 128 --max-tokens 65536 -o "$work/out" --quiet |
    sed -n 's/.*, \([0-9.]*\) tok\/s.*/\1/p')
ref() { /usr/bin/python3 "$(dirname "$0")/train_step_ref.py" "$model" "$work/ids.jsonl" --layer 1 --expert 3 \
    --steps "$steps" --batch-tokens 2048 --threads 2 | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens_per_second"])'; }
# The reference with PyTorch's OpenMP default (threads spin after each parallel region) and with
# the waiting `switchyard` gives its torch verbs (compute/cpu_threads.h).
reference=$(ref)
reference_passive=$(OMP_WAIT_POLICY=PASSIVE GOMP_SPINCOUNT=10000 OPENBLAS_THREAD_TIMEOUT=4 ref)
/usr/bin/python3 -c "import sys; e, r, p = map(float, sys.argv[1:]); print(f'engine {e:.0f} tok/s  pytorch eager {r:.0f} tok/s  ratio {e / r:.2f}  (eager with passive OpenMP waiting {p:.0f} tok/s, ratio {e / p:.2f})')" "$engine" "$reference" "$reference_passive"
