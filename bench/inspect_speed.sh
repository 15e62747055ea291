#!/usr/bin/env bash
# Times `switchyard inspect` on sparse checkpoints with the real tensor layouts of Mixtral-8x7B
# (93 GB, 995 tensors in 19 shards), DeepSeek-V3 (689 GB, 91,991 tensors in 163 shards) and
# Kimi-K2 (1.03 TB, 139,583 tensors in 62 shards): headers and holes only, so they cost ~no disk.
# The bare process start (`switchyard --version`) is measured in the same run as the baseline.
# usage: bench/inspect_speed.sh [BUILD_DIR] [RUNS]
set -euo pipefail
build=${1:-build}; runs=${2:-20}
bin="$build/bin/switchyard"
here=$(dirname "$0")
work=$(mktemp -d /tmp/sy-inspect-speed.XXXXXX)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$here/make_sparse_mixtral.py" "$work/mixtral" >&2
/usr/bin/python3 "$here/make_sparse_deepseek.py" "$work/deepseek-v3" --shape deepseek-v3 >&2
/usr/bin/python3 "$here/make_sparse_deepseek.py" "$work/kimi-k2" --shape kimi-k2 >&2
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true   # cold start where allowed

time_ms() {  # median wall time of "$@" over $runs runs, in ms
  for _ in $(seq "$runs"); do
    s=$(date +%s%N); "$@" > /dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000 ))
  done | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'
}
base=$(time_ms "$bin" --version)
echo "process start (switchyard --version):        ${base} ms (median of $runs)"
for shape in mixtral deepseek-v3 kimi-k2; do
  "$bin" inspect "$work/$shape" --json > /dev/null   # checks it works at all, and warms the cache
  t=$(time_ms "$bin" inspect "$work/$shape" --json)
  printf 'inspect %-12s %6s ms (median of %s), ratio to process start %.2f\n' "$shape:" "$t" "$runs" \
    "$(awk -v a="$t" -v b="$base" 'BEGIN {print a / b}')"
done
