#!/usr/bin/env bash
# Trace throughput: tokens/s and peak RSS of `switchyard trace` on the bundled
# tiny-mixtral and on a random-weight Mixtral-8x7B-shaped checkpoint with 4 layers (12.1 GB
# BF16) under --max-memory, with two baselines measured in the same run:
#   - the machine's GEMM GFLOP/s for the model's own GEMM shapes (switchyard-torch bench-matmul,
#     same LibTorch call as the forward pass), against the trace's achieved GFLOP/s
#     (FLOP formula: bench/trace_bench.py);
#   - the disk's sequential read GB/s of the checkpoint's shards with the page cache evicted
#     (posix_fadvise DONTNEED), against the trace's streamed GB/s (checkpoint bytes / wall time);
#     the shards are evicted again right before the trace.
#
# usage: bench/trace_bench.sh [BUILD_DIR] [TOKENS] [MAX_MEMORY] [DTYPE]
#   defaults: build 512 4GB bf16. SY_BENCH_MODEL=DIR reuses (and keeps) a generated checkpoint;
#   otherwise one is written to a temporary folder (~4 min) and deleted at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}; tokens=${2:-512}; bound=${3:-4GB}; dtype=${4:-bf16}
bin="$build/bin/switchyard-torch"; cli="$build/bin/switchyard"
# bench-matmul with the threads `switchyard trace` gives the forward (it starts switchyard-torch
# with passive OpenMP waiting after a short spin, hence one intra-op thread per physical core:
# compute/cpu_threads.h).
matmul() { OMP_WAIT_POLICY=PASSIVE GOMP_SPINCOUNT=10000 OPENBLAS_THREAD_TIMEOUT=4 "$bin" bench-matmul "$@"; }
py() { /usr/bin/python3 "$here/trace_bench.py" "$@"; }
json() { /usr/bin/python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
calc() { /usr/bin/python3 -c "print($1)"; }

work=$(mktemp -d /tmp/sy-trace-bench.XXXXXX)
model=${SY_BENCH_MODEL:-}
cleanup() { rm -rf "$work"; if [ -z "${SY_BENCH_MODEL:-}" ] && [ -n "$model" ]; then rm -rf "$model"; fi; }
trap cleanup EXIT
if [ -z "$model" ]; then
  model=$(mktemp -d /tmp/sy-mixtral-8x7b-4l.XXXXXX)
  /usr/bin/python3 "$here/make_random_mixtral.py" "$model" --layers 4 >&2
fi
shards=("$model"/*.safetensors)
weight_bytes=$(/usr/bin/python3 -c "import os,sys; print(sum(os.path.getsize(p) for p in sys.argv[1:]))" "${shards[@]}")

echo "load: $(uptime | sed 's/.*load average/load average/'); builds running: $(pgrep -c ninja || true)" >&2

# ---- baselines -------------------------------------------------------------------------------
disk=$(py disk-read "${shards[@]}")
disk_gbs=$(json "$disk" gb_per_s)
# shellcheck disable=SC2046
matmul $(py shapes "$model" --tokens "$tokens") --dtype "$dtype" --seconds 1 > "$work/mm-big.tsv"
big_rate=$(json "$(py matmul-rate "$work/mm-big.tsv" "$model" --tokens "$tokens" --dtype "$dtype")" gflops)
tiny="$root/resources/examples/tiny-mixtral"
tiny_tokens=8192
# shellcheck disable=SC2046
matmul $(py shapes "$tiny" --tokens "$tiny_tokens") --dtype f32 --seconds 0.5 > "$work/mm-tiny.tsv"
tiny_rate=$(json "$(py matmul-rate "$work/mm-tiny.tsv" "$tiny" --tokens "$tiny_tokens" --dtype f32)" gflops)

# ---- traces ----------------------------------------------------------------------------------
tiny_run=$(py run -- "$cli" trace "$tiny" --data "$root/resources/examples/corpus-sample.jsonl" \
  --max-tokens "$tiny_tokens" -q --force -o "$work/tiny.h5" | tail -1)
py ids "$work/ids.jsonl" --vocab 32000 --docs $(( (tokens + 511) / 512 )) --len 512
py evict "${shards[@]}"
big_run=$(py run -- "$cli" trace "$model" --data "$work/ids.jsonl" --max-tokens "$tokens" --dtype "$dtype" \
  --max-memory "$bound" -q --force -o "$work/big.h5" | tail -1)
[ "$(json "$big_run" rc)" = 0 ] && [ "$(json "$tiny_run" rc)" = 0 ] || { echo "a trace failed" >&2; exit 1; }
plan=$("$cli" trace "$model" --data "$work/ids.jsonl" --max-tokens "$tokens" --dtype "$dtype" --max-memory "$bound" --plan)

# ---- table -----------------------------------------------------------------------------------
row() {  # name dtype tokens run_json flop gemm_rate [streamed_bytes]
  local wall rss flop_s
  wall=$(json "$4" wall_s); rss=$(json "$4" max_rss_bytes)
  flop_s=$(calc "$5 / $wall / 1e9")
  printf "| %s | %s | %s | %.1f | %.0f | %.1f | %.1f | %.1f | %.0f%% |" "$1" "$2" "$3" "$wall" \
    "$(calc "$3 / $wall")" "$(calc "$rss / 1e9")" "$flop_s" "$6" "$(calc "100 * $flop_s / $6")"
  if [ -n "${7:-}" ]; then
    printf " %.2f | %.2f | %.0f%% |\n" "$(calc "$7 / $wall / 1e9")" "$disk_gbs" "$(calc "100 * $7 / $wall / 1e9 / $disk_gbs")"
  else
    printf " - | - | - |\n"
  fi
}
tiny_flop=$(json "$(py flops "$tiny" --tokens "$tiny_tokens" --seq-len 512)" flop)
big_flop=$(json "$(py flops "$model" --tokens "$tokens" --seq-len 512)" flop)
echo
echo "| model | dtype | tokens | wall s | tok/s | peak RSS GB | GFLOP/s | GEMM GFLOP/s | of GEMM | streamed GB/s | disk GB/s | of disk |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
row "tiny-mixtral (no bound)" f32 "$tiny_tokens" "$tiny_run" "$tiny_flop" "$tiny_rate"
row "Mixtral-8x7B 4 layers, --max-memory $bound" "$dtype" "$tokens" "$big_run" "$big_flop" "$big_rate" "$weight_bytes"
echo
echo "checkpoint: $(calc "$weight_bytes / 1e9") GB; FLOP/token: tiny $(calc "round($tiny_flop / $tiny_tokens / 1e6, 2)") M, Mixtral-4L $(calc "round($big_flop / $tokens / 1e9, 3)") G"
echo "GEMM timings (bench-matmul, the model's shapes at $tokens tokens):"
sed 's/^/  /' "$work/mm-big.tsv"
echo "plan:"
echo "$plan" | sed 's/^/  /'
echo "load after: $(uptime | sed 's/.*load average/load average/')"
