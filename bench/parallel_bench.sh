#!/usr/bin/env bash
# Several ranks on this machine's CPU (Gloo), docs/distributed.md:
#   1. trace throughput with 1 and 2 ranks (data parallel), the 1-rank run as the same-run
#      baseline; tokens/s from the wall time of the whole command (process start included). The
#      launcher gives each rank cores/2 BLAS threads, and f32 results depend on the thread count,
#      so the 2-rank trace is checked bit for bit against a 1-rank run with that thread count;
#   2. expert parallelism over 2 ranks with the contiguous, balanced and affinity placements
#      (`switchyard place` on the 1-rank trace): what `place` predicts (first-choice transitions
#      that change GPU, max/mean GPU load) against what the run measured (--traffic), and the
#      bytes each token moved between ranks (dispatch + combine).
#
# usage: bench/parallel_bench.sh [BUILD_DIR] [TOKENS] [MODEL_DIR]
#   defaults: build 65536 resources/examples/tiny-mixtral (trained, so its routing is real).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}; tokens=${2:-65536}; model=${3:-$root/resources/examples/tiny-mixtral}
bin="$build/bin/switchyard"
data="$root/resources/examples/corpus-sample.jsonl"
work=$(mktemp -d /tmp/sy-parallel-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
common=(--data "$data" --max-tokens "$tokens" --seq-len 512 --batch-tokens 2048 -q)
py() { /usr/bin/python3 -c "$@"; }

echo "load: $(uptime | sed 's/.*load average/load average/'); cores: $(nproc)"
seconds() { local s; s=$(date +%s.%N); "$@" >/dev/null; py "import time; print(round(time.time() - $s, 3))"; }
t1=$(seconds "$bin" trace "$model" "${common[@]}" -o "$work/r1.h5")
t2=$(seconds "$bin" trace "$model" "${common[@]}" -o "$work/r2.h5" --nproc 2)
OMP_NUM_THREADS=$(( $(nproc) / 2 > 0 ? $(nproc) / 2 : 1 )) "$bin" trace "$model" "${common[@]}" -o "$work/r1t.h5" >/dev/null
py "
t1, t2, n = $t1, $t2, $tokens
print(f'| ranks | wall s | tok/s | vs 1 rank |')
print(f'|---|---|---|---|')
print(f'| 1 | {t1:.2f} | {n / t1:,.0f} | 1.00x |')
print(f'| 2 | {t2:.2f} | {n / t2:,.0f} | {t1 / t2:.2f}x |')
"
py "
import h5py, numpy as np, sys
a, b = h5py.File('$work/r1t.h5'), h5py.File('$work/r2.h5')
same = all(np.array_equal(a[k][()], b[k][()], equal_nan=True) for k in ('routing/topk_ids', 'routing/topk_weights', 'eval/nll', 'tokens/ids'))
print('2-rank trace bit for bit the 1-rank trace at the same threads per process:', same)
"

echo
echo "| placement | predicted cross-GPU transitions | measured | predicted load max/mean | measured | pairs crossing ranks | bytes/token moved |"
echo "|---|---|---|---|---|---|---|"
for method in contiguous balanced affinity; do
  "$bin" place "$work/r1.h5" --gpus 2 --method "$method" --json -q -o "$work/place-$method.h5" >"$work/place-$method.json"
  "$bin" trace "$model" "${common[@]}" -o "$work/ep-$method.h5" --nproc 2 --expert-parallel \
      --placement "$work/place-$method.h5" --traffic "$work/traffic-$method.json" >/dev/null
  py "
import json
p = json.load(open('$work/place-$method.json'))['evaluation']
t = json.load(open('$work/traffic-$method.json'))
loads = [l['received_max_over_mean'] for l in t['layers']]
print(f\"| $method | {p['cross_gpu_fraction']:.4f} | {t['first_choice_cross_fraction']:.4f} | {p['max_over_mean_load']:.4f} | {sum(loads) / len(loads):.4f} | {t['cross_rank_fraction']:.4f} | {t['cross_rank_bytes_per_token']:,.0f} |\")
"
done
