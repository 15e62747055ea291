#!/usr/bin/env bash
# Cost of `switchyard score` against `switchyard trace` of the same tokens, measured in the same
# run (goal: score <= 1.5x trace). Both run the same forward pass; score additionally asks the
# MoE block for each routed expert's output norm and accumulates per-expert statistics, trace
# writes the routing to HDF5. `--outputs N` (HC-SMoE's mean outputs: every expert on N tokens) is
# timed separately: it costs E expert passes per sampled token by definition.
#
# usage: bench/score_bench.sh [BUILD_DIR] [TOKENS] [MODEL_DIR] [RUNS]
#   defaults: build 32768 resources/examples/tiny-mixtral 3 (best of RUNS for each command)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}; tokens=${2:-32768}; model=${3:-$root/resources/examples/tiny-mixtral}; runs=${4:-3}
bin="$build/bin/switchyard-torch"
data="$root/resources/examples/corpus-sample.jsonl"
work=$(mktemp -d /tmp/sy-score-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

best() {  # prints the best wall time (s) of $runs runs of the command
  local best=""
  for _ in $(seq "$runs"); do
    local start end t
    start=$(date +%s.%N); "$@" > /dev/null; end=$(date +%s.%N)
    t=$(python3 -c "print(f'{$end - $start:.2f}')")
    best=$(python3 -c "print(min(float('$t'), float('${best:-1e9}')))")
  done
  echo "$best"
}

echo "load: $(uptime | sed 's/.*load average/load average/'); builds running: $(pgrep -c ninja || true)" >&2
common=(--data "$data" --max-tokens "$tokens" -q)
t_trace=$(best "$bin" trace "$model" "${common[@]}" --force -o "$work/t.h5")
t_score=$(best "$bin" score "$model" "${common[@]}" --force -o "$work/s.h5")
t_outputs=$(best "$bin" score "$model" "${common[@]}" --outputs 2048 --force -o "$work/o.h5")
python3 - "$tokens" "$t_trace" "$t_score" "$t_outputs" <<'PY'
import sys
tokens, trace, score, outputs = int(sys.argv[1]), *map(float, sys.argv[2:])
print(f"| command | tokens | wall (best) | tok/s | vs trace |")
print(f"|---|---|---|---|---|")
for name, t in [("trace", trace), ("score", score), ("score --outputs 2048", outputs)]:
    print(f"| {name} | {tokens} | {t:.2f} s | {tokens / t:,.0f} | {t / trace:.2f}x |")
PY
