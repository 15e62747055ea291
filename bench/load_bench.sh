#!/usr/bin/env bash
# Load benchmark: what a short run pays before its first token, on two small random-BF16 MoE
# checkpoints in the Hub layout (bench/make_random_moe.py): two Qwen3-30B-A3B decoder layers
# (hidden 2048, 128 experts of width 768, top-8; 2.75 GB in two shards) and two Mixtral-style
# layers (hidden 1024, 8 experts of width 3584, top-2; 0.50 GB). For each, in one run:
#   - plain read of the shards: warm (page cache) and cold (evicted) GB/s, 16 MiB preads;
#   - `switchyard-torch bench-load`: every weight loaded as trace loads it, warm and cold (the
#     faster of two runs each), in source bytes per second, and as a fraction of the plain read;
#   - `switchyard trace` and `switchyard eval` (whole process, warm cache, --progress json):
#     time to the first finished batch (first token out), marginal tok/s after it, whole wall;
#   - the eager PyTorch reference (bench/torch_reference.py, Debian's python3-torch, its own
#     load included) on the same token windows and batches.
#   - the same-run GEMM rate of one batch's GEMMs (bench-matmul on the shapes trace_bench.py
#     lists: projections, experts at balanced routing, lm_head) and the forward's own rate
#     (FLOP per token x marginal tok/s) as a fraction of it, for switchyard and the reference.
# switchyard runs as users start it (`switchyard trace|eval`, which gives switchyard-torch
# passive OpenMP waiting and so one intra-op thread per physical core: compute/cpu_threads.h);
# the reference runs twice: with PyTorch's defaults, and with the same threads and waiting
# (OMP_NUM_THREADS=<physical cores> OMP_WAIT_POLICY=PASSIVE GOMP_SPINCOUNT=10000
# OPENBLAS_THREAD_TIMEOUT=4, what `switchyard` starts its torch verbs with). Load average and CPU time
# (user + sys) are printed with the wall times, because the dev VM is shared.
#
# usage: bench/load_bench.sh [BUILD_DIR] [TOKENS] [BATCH_TOKENS] [DTYPE] [SHAPES]
#   defaults: build 4096 1024 f32 "qwen3 mixtral"; TOKENS >= 2 x BATCH_TOKENS. SY_BENCH_QWEN3=DIR / SY_BENCH_MIXTRAL=DIR
#   reuse (and keep) generated checkpoints; otherwise they are written to temporary folders
#   and deleted at the end. SY_BENCH_NO_REFERENCE=1 skips the PyTorch reference;
#   SY_BENCH_BASELINE_BIN=PATH also times another switchyard-torch's load (before/after).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}; tokens=${2:-4096}; batch=${3:-1024}; dtype=${4:-f32}; shapes=${5:-qwen3 mixtral}
# The marginal rate is the later batches' (whole minus first): it needs two batches at least.
if ! [[ "$tokens" =~ ^[0-9]+$ && "$batch" =~ ^[1-9][0-9]*$ ]] || [ "$tokens" -lt $((2 * batch)) ]; then
  echo "load_bench: TOKENS and BATCH_TOKENS must be whole numbers, TOKENS at least twice BATCH_TOKENS (got $tokens and $batch): the marginal tok/s comes from the batches after the first" >&2
  exit 2
fi
bin="$build/bin/switchyard-torch"; cli="$build/bin/switchyard"
cores=$(lscpu -p=core,socket | grep -v '^#' | sort -u | wc -l)
same_threads=(env OMP_NUM_THREADS="$cores" OMP_WAIT_POLICY=PASSIVE GOMP_SPINCOUNT=10000 OPENBLAS_THREAD_TIMEOUT=4)
PY=/usr/bin/python3
lb() { "$PY" "$here/load_bench.py" "$@"; }
field() { "$PY" -c "import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print('-' if v is None else v)" "$1" "$2"; }
calc() { "$PY" -c "print($1)"; }
load() { sed 's/.*load average: //' /proc/loadavg 2>/dev/null || uptime | sed 's/.*load average: //'; }

work=$(mktemp -d /tmp/sy-load-bench.XXXXXX)
generated=()
cleanup() { rm -rf "$work"; for d in "${generated[@]}"; do rm -rf "$d"; done; }
trap cleanup EXIT

"$PY" -c "import torch" 2>/dev/null || { echo "load_bench: /usr/bin/python3 has no torch (apt-get install python3-torch)" >&2; exit 1; }
"$PY" - "$work/ids.jsonl" "$tokens" <<'EOF'
import json, random, sys
rng = random.Random(1)
with open(sys.argv[1], "w") as f:
    for _ in range(-(-int(sys.argv[2]) // 512)):
        f.write(json.dumps({"input_ids": [rng.randrange(32000) for _ in range(512)], "domain": "random"}) + "\n")
EOF

echo "load_bench: $tokens tokens in batches of $batch, $dtype, $(nproc) CPUs; load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
rows=()
for shape in $shapes; do
  var="SY_BENCH_$(echo "$shape" | tr a-z A-Z)"
  model=${!var:-}
  if [ -z "$model" ]; then
    model=$(mktemp -d "/tmp/sy-load-$shape.XXXXXX"); generated+=("$model")
    "$PY" "$here/make_random_moe.py" "$model" --shape "$shape" >&2
  fi
  shards=("$model"/*.safetensors)
  before=$(cut -d' ' -f1 /proc/loadavg)
  plain=$(lb plain-read "${shards[@]}")
  # Faster of two runs each (the VM is shared, and a run that must first reclaim page cache for
  # its fresh memory pays for it). With SY_BENCH_BASELINE_BIN, that binary's runs alternate
  # with this one's (A B A B), for a before/after in the same conditions.
  faster() { "$PY" -c "import json,sys; print(min(sys.argv[1:], key=lambda r: json.loads(r)['seconds']))" "$@"; }
  bins=("$bin"); [ -n "${SY_BENCH_BASELINE_BIN:-}" ] && bins+=("$SY_BENCH_BASELINE_BIN")
  declare -A runs=()
  for mode in warm cold; do
    for round in 1 2; do
      for i in "${!bins[@]}"; do
        if [ $mode = warm ]; then lb warm "${shards[@]}"; else lb evict "${shards[@]}"; fi
        runs[$mode$i]+="$("${bins[$i]}" bench-load "$model" --dtype "$dtype")"$'\n'
      done
    done
  done
  pick() { mapfile -t r <<< "${runs[$1]%$'\n'}"; faster "${r[@]}"; }
  warm_load=$(pick warm0); cold_load=$(pick cold0)
  if [ -n "${SY_BENCH_BASELINE_BIN:-}" ]; then base_loads=("$(pick warm1)" "$(pick cold1)"); fi
  # Process start alone (dynamic linking of LibTorch and its ~290 libraries; the reference's
  # `import torch` pays the same): faster of three `switchyard-torch --version`.
  start_s=9e9
  for _ in 1 2 3; do
    lb timed "$work/start.json" -- "$bin" --version >/dev/null
    start_s=$("$PY" -c "import json,sys; print(min(float(sys.argv[1]), json.load(open(sys.argv[2]))['wall_s']))" "$start_s" "$work/start.json")
  done
  lb warm "${shards[@]}"
  common=(--data "$work/ids.jsonl" --max-tokens "$tokens" --batch-tokens "$batch" --dtype "$dtype" --progress json)
  lb timed "$work/trace.json" -- "$cli" trace "$model" "${common[@]}" --force -o "$work/trace.h5" >/dev/null
  lb timed "$work/eval.json" -- "$cli" eval "$model" "${common[@]}" >/dev/null
  ref='{}'; ref_same='{}'
  if [ -z "${SY_BENCH_NO_REFERENCE:-}" ]; then
    reference=("$PY" "$here/torch_reference.py" "$model" --ids "$work/ids.jsonl" \
      --max-tokens "$tokens" --batch-tokens "$batch" --dtype "$dtype")
    lb timed "$work/ref.json" -- "${reference[@]}" >/dev/null
    ref=$(lb summary "$work/ref.json")
    lb timed "$work/ref_same.json" -- "${same_threads[@]}" "${reference[@]}" >/dev/null
    ref_same=$(lb summary "$work/ref_same.json")
  fi
  after=$(cut -d' ' -f1 /proc/loadavg)
  source_gb=$(printf %.2f "$(calc "$(field "$warm_load" source_bytes) / 1e9")")
  echo
  echo "## $shape ($source_gb GB BF16, $dtype compute; load average $before -> $after)"
  echo "plain read: warm $(printf %.2f "$(field "$plain" warm_gb_per_s)") GB/s, cold $(printf %.2f "$(field "$plain" cold_gb_per_s)") GB/s;" \
    "writing 2x those bytes: fresh memory $(printf %.2f "$(field "$plain" fresh_write_gb_per_s)") GB/s, again $(printf %.2f "$(field "$plain" warm_write_gb_per_s)") GB/s"
  for which in warm cold; do
    run=$([ $which = warm ] && echo "$warm_load" || echo "$cold_load")
    base=$(field "$plain" ${which}_gb_per_s)
    gbs=$(calc "$(field "$run" source_bytes) / $(field "$run" seconds) / 1e9")
    printf "bench-load %s: %.2f s wall, %.2f s CPU, %.2f GB/s of source = %.0f%% of the plain read\n" \
      "$which" "$(field "$run" seconds)" "$(field "$run" cpu_seconds)" "$gbs" "$(calc "100 * $gbs / $base")"
    if [ -n "${SY_BENCH_BASELINE_BIN:-}" ]; then
      b=$([ $which = warm ] && echo "${base_loads[0]}" || echo "${base_loads[1]}")
      printf "  baseline binary %s: %.2f s wall, %.2f s CPU (this build: %.2fx faster wall, %.2fx less CPU)\n" \
        "$which" "$(field "$b" seconds)" "$(field "$b" cpu_seconds)" \
        "$(calc "$(field "$b" seconds) / $(field "$run" seconds)")" "$(calc "$(field "$b" cpu_seconds) / $(field "$run" cpu_seconds)")"
    fi
  done
  declare -A summary=()
  for verb in trace eval; do summary[$verb]=$(lb summary "$work/$verb.json"); done
  echo
  printf "process start %.2f s; first trace batch - (start + warm load + one batch at the marginal rate) = %.2f s\n" "$start_s" \
    "$(calc "$(field "${summary[trace]}" first_s) - $start_s - $(field "$warm_load" seconds) - $batch / $(field "${summary[trace]}" marginal_tok_s)")"
  echo
  echo "| run | first batch done s | marginal tok/s | later batch s | whole s | CPU s | whole vs reference (defaults, same threads) |"
  echo "|---|---|---|---|---|---|---|"
  ref_wall=$(field "$ref" wall_s); ref_same_wall=$(field "$ref_same" wall_s)
  row() { printf "| %s | %.1f | %.0f | %.2f | %.1f | %.1f | %s |\n" "$1" "$(field "$2" first_s)" \
      "$(field "$2" marginal_tok_s)" "$(field "$2" later_batch_s)" "$(field "$2" wall_s)" "$(field "$2" cpu_s)" "$3"; }
  for verb in trace eval; do
    s=${summary[$verb]}
    ratio='-'; [ "$ref_wall" != '-' ] && ratio=$(printf "%.2fx, %.2fx" "$(calc "$ref_wall / $(field "$s" wall_s)")" \
      "$(calc "$ref_same_wall / $(field "$s" wall_s)")")
    row "switchyard $verb" "$s" "$ratio"
  done
  if [ "$ref_wall" != '-' ]; then
    row "PyTorch eager reference, defaults" "$ref" "-"
    row "PyTorch eager reference, $cores threads, passive" "$ref_same" "-"
  fi
  # The same-run GEMM rate on the batch's own shapes (bench-matmul; balanced routing gives each
  # expert tokens*k/E rows), against the forward's rate: FLOP per token x marginal tok/s.
  # shellcheck disable=SC2046
  "${same_threads[@]}" "$bin" bench-matmul $("$PY" "$here/trace_bench.py" shapes "$model" --tokens "$batch") --dtype "$dtype" --seconds 1 > "$work/mm.tsv"
  all_rate=$(field "$("$PY" "$here/trace_bench.py" matmul-rate "$work/mm.tsv" "$model" --tokens "$batch" --dtype "$dtype")" gflops)
  expert_rate=$(field "$("$PY" "$here/trace_bench.py" matmul-rate "$work/mm.tsv" "$model" --tokens "$batch" --dtype "$dtype" --only expert)" gflops)
  per_token=$(field "$("$PY" "$here/trace_bench.py" flops "$model" --tokens "$batch" --seq-len 512)" flop_per_token)
  forward() { calc "$per_token * $1 / 1e9"; }
  echo
  printf "GEMMs of one %s-token batch, same run: %.1f GFLOP/s (expert GEMMs alone %.1f); %.0f MFLOP per token\n" \
    "$batch" "$all_rate" "$expert_rate" "$(calc "$per_token / 1e6")"
  for verb in trace eval; do
    g=$(forward "$(field "${summary[$verb]}" marginal_tok_s)")
    printf "switchyard %s forward: %.1f GFLOP/s = %.0f%% of the GEMM rate\n" "$verb" "$g" "$(calc "100 * $g / $all_rate")"
  done
  if [ "$ref_wall" != '-' ]; then
    for which in ref ref_same; do
      g=$(forward "$(field "${!which}" marginal_tok_s)")
      printf "reference forward (%s): %.1f GFLOP/s = %.0f%% of the GEMM rate\n" \
        "$([ $which = ref ] && echo defaults || echo "same threads")" "$g" "$(calc "100 * $g / $all_rate")"
    done
  fi
done
echo
echo "load average at end $(cut -d' ' -f1-3 /proc/loadavg)"
