#!/usr/bin/env bash
# Times `switchyard inspect` on a sparse Mixtral-8x7B-shaped checkpoint (93 GB of headers + holes)
# against the bare process start (`switchyard --version`) measured in the same run.
# usage: bench/inspect_speed.sh [BUILD_DIR] [RUNS]
set -euo pipefail
build=${1:-build}; runs=${2:-20}
bin="$build/bin/switchyard"
model=$(mktemp -d /tmp/sy-sparse-mixtral.XXXXXX)
trap 'rm -rf "$model"' EXIT
python3 "$(dirname "$0")/make_sparse_mixtral.py" "$model" >&2
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true   # cold start where allowed

time_ms() {  # median wall time of "$@" over $runs runs, in ms
  for _ in $(seq "$runs"); do
    s=$(date +%s%N); "$@" > /dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000 ))
  done | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'
}
"$bin" inspect "$model" --json > /dev/null   # checks it works at all
base=$(time_ms "$bin" --version)
insp=$(time_ms "$bin" inspect "$model" --json)
echo "process start (switchyard --version): ${base} ms (median of $runs)"
echo "inspect 93 GB Mixtral-8x7B layout:    ${insp} ms (median of $runs)"
awk -v a="$insp" -v b="$base" 'BEGIN {printf "ratio inspect / process start: %.2f\n", a / b}'
