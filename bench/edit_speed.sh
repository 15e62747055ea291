#!/usr/bin/env bash
# Streaming speed of an edit that only slices (prune by list) against an identity `export` of the
# same checkpoint, in the same run (goal: >= 80% of export's throughput). Both stream every
# tensor once; prune also gathers router rows and renames expert tensors. Default checkpoint: the
# random-weight Mixtral-8x7B-shaped 4-layer model of the trace benchmark (12.1 GB BF16).
# Each command runs once untimed first, so both timed runs read from the page cache (23 GiB RAM;
# dropping caches needs root), then RUNS timed runs; the best is reported.
#
# usage: bench/edit_speed.sh [BUILD_DIR] [RUNS]    SY_BENCH_MODEL=DIR reuses a generated model
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}; runs=${2:-2}
model=${SY_BENCH_MODEL:-}
work=$(mktemp -d /tmp/sy-edit-bench.XXXXXX)
cleanup() { rm -rf "$work"; if [ -z "${SY_BENCH_MODEL:-}" ] && [ -n "$model" ]; then rm -rf "$model"; fi; }
trap cleanup EXIT
if [ -z "$model" ]; then
  model=$(mktemp -d /tmp/sy-mixtral-8x7b-4l.XXXXXX)
  python3 "$here/make_random_mixtral.py" "$model" --layers 4 >&2
fi
bytes=$(python3 -c "import os,sys,glob; print(sum(os.path.getsize(p) for p in glob.glob(sys.argv[1] + '/*.safetensors')))" "$model")

timed() {  # best wall seconds of $runs runs after one warm-up; the output folder is removed each time
  local out=$1; shift
  local best=1e9
  for i in $(seq 0 "$runs"); do
    rm -rf "$out"
    local start end
    start=$(date +%s.%N); "$@" -q -o "$out" > /dev/null; end=$(date +%s.%N)
    [ "$i" = 0 ] && continue
    best=$(python3 -c "print(min($best, $end - $start))")
  done
  rm -rf "$out"
  echo "$best"
}

echo "load: $(uptime | sed 's/.*load average/load average/'); builds running: $(pgrep -c ninja || true)" >&2
t_export=$(timed "$work/export" "$build/bin/switchyard" export "$model")
t_prune=$(timed "$work/prune" "$build/bin/switchyard-torch" prune "$model" --experts 0:3,0:6,1:3,1:6,2:3,2:6,3:3,3:6)
python3 - "$bytes" "$t_export" "$t_prune" <<'PY'
import sys
size, export, prune = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print("| command | source bytes | wall (best) | GB/s of source | vs export |")
print("|---|---|---|---|---|")
for name, t in [("export (identity)", export), ("prune 8 -> 6 (slice)", prune)]:
    print(f"| {name} | {size / 1e9:.2f} GB | {t:.2f} s | {size / t / 1e9:.2f} | {export / t:.0%} |")
PY
