#!/usr/bin/env bash
# The whole GPU check in one run, from a fresh copy of the repo on the GPU machine (bench/gpu/
# README.md gives the `run` command line): unpack the carried Debian packages, configure and build
# the headless tree against PyTorch's LibTorch with CUDA, run the `gpu` tests, the fidelity check
# against transformers, the speed benchmark and the streaming check. Everything goes to
# $OUT/device_check.log and $OUT/summary.json (steps, seconds, status; the step JSONs embedded);
# the first step that fails ends the run with its name in the summary and a non-zero exit.
#
#   OUT=/tmp/out bench/gpu/device_check.sh            # on the GPU machine
#   OUT=/tmp/out bench/gpu/device_check.sh --local    # here: Debian's CPU LibTorch, /usr/bin/python3;
#                                                    # steps that need CUDA or transformers skip
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
mode=device
[ "${1:-}" = "--local" ] && mode=local
: "${OUT:?set OUT to the folder for the log and summary}"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
work=${SY_GPU_WORK:-/tmp/switchyard-gpu}
build=${SY_GPU_BUILD:-$work/build}
deps=$work/deps
steps=$work/steps.tsv
log=$OUT/device_check.log
mkdir -p "$work"
: > "$steps"
exec > >(tee "$log") 2>&1

if [ "$mode" = device ]; then
  py=${SY_PYTHON:-python3}      # the image's python3 holds torch and transformers
  jobs=$(nproc)
else
  py=/usr/bin/python3          # Debian's: numpy, h5py, python3-torch (house rule)
  jobs=2
fi
export PYTHONUNBUFFERED=1

summary_written=0
current_step=start
write_summary() {   # STATUS [FAILED_STEP]
  summary_written=1
  "$py" "$repo/bench/gpu/summary.py" --steps "$steps" --out "$OUT" --mode "$mode" \
    --status "$1" ${2:+--failed "$2"} --manifest "$deps/MANIFEST"
}
# Whatever ends the script, the summary exists and tee has written the whole log.
on_exit() {
  local rc=$?
  if [ "$summary_written" -eq 0 ]; then write_summary failed "$current_step" || true; fi
  exec 1>&- 2>&-
  sleep 0.5
  exit "$rc"
}
trap on_exit EXIT

# step NAME COMMAND...: runs COMMAND under set -e in a subshell (so its first failing command
# ends it), records seconds and status, and on failure writes the summary and exits. Exit 3 is
# a check that ran and found results out of bounds: recorded, and the run goes on to the next
# step, so one run answers every question; the final status says so.
out_of_bounds=0
started=$(date +%s)
# The run tool's 600 s less a margin; here builds wait for the shared build lock, so no limit.
time_limit=${SY_TIME_LIMIT_S:-$([ "$mode" = device ] && echo 540 || echo 86400)}
step() {
  local name=$1 start rc
  shift
  current_step=$name
  if [ $(( $(date +%s) - started )) -gt "$time_limit" ]; then
    printf '%s\tskipped\t0\tno time left (%s s limit)\n' "$name" "$time_limit" >> "$steps"
    echo "=== step $name SKIPPED: ${time_limit} s are spent"
    out_of_bounds=1
    return 0
  fi
  echo "=== step $name: $*"
  start=$(date +%s%N)
  set +e
  (set -e; "$@")
  rc=$?
  set -e
  local seconds
  seconds=$(printf '%.1f' "$(( ($(date +%s%N) - start) / 1000000 ))e-3")
  if [ "$rc" -eq 3 ]; then
    printf '%s\tout_of_bounds\t%s\tsee its JSON\n' "$name" "$seconds" >> "$steps"
    echo "=== step $name OUT OF BOUNDS after ${seconds}s (details above and in its JSON)"
    out_of_bounds=1
    running_summary
    return 0
  fi
  if [ "$rc" -ne 0 ]; then
    printf '%s\tfailed\t%s\texit %s\n' "$name" "$seconds" "$rc" >> "$steps"
    echo "=== step $name FAILED (exit $rc) after ${seconds}s"
    write_summary failed "$name"
    exit "$rc"
  fi
  printf '%s\tok\t%s\t\n' "$name" "$seconds" >> "$steps"
  echo "=== step $name ok (${seconds}s)"
  running_summary
}

# A run killed at the tool's limit still leaves the summary of the steps done so far.
running_summary() {
  "$py" "$repo/bench/gpu/summary.py" --steps "$steps" --out "$OUT" --mode "$mode" --status running \
    --manifest "$deps/MANIFEST" || true
}

environment() {
  uname -a
  if [ -r /etc/os-release ]; then grep -E '^(PRETTY_NAME|VERSION_ID)=' /etc/os-release; fi
  "$py" -c 'import sys, torch; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, "device", torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)'
  "$py" -c 'import transformers; print("transformers", transformers.__version__)' 2>/dev/null || echo "transformers: not installed"
  cmake --version | head -1
  command -v ninja >/dev/null && echo "ninja $(ninja --version)"
  ${CXX:-c++} --version | head -1
  if [ "$mode" = device ]; then
    # Every later step assumes the GPU: a machine whose torch sees none stops here.
    "$py" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else "torch sees no CUDA device")'
    nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv
    nvcc_path
    "$(nvcc_path)" --version | tail -2
  fi
}

nvcc_path() { command -v nvcc || echo /usr/local/cuda/bin/nvcc; }

unpack_deps() {
  "$repo/bench/gpu/deps_prefix.sh" "$deps"
}

torch_prefix() {
  if [ "$mode" = device ]; then "$py" -c 'import torch; print(torch.utils.cmake_prefix_path)'; fi
}

configure() {
  # shellcheck disable=SC1091
  source "$deps/env.sh"
  mapfile -t dep_args < "$deps/cmake-args"
  # CMAKE_POLICY_VERSION_MINIMUM: CMake 4 (pip's, on the GPU machine) refuses package files
  # that still name policy versions below 3.5 without it; CMake 3 ignores it.
  local generator=Ninja
  command -v ninja >/dev/null || generator="Unix Makefiles"
  local args=(-S "$repo" -B "$build" -G "$generator" -DCMAKE_BUILD_TYPE=Release -DSWITCHYARD_GUI=OFF
              -DSWITCHYARD_BUILD_TESTS=ON -DCMAKE_POLICY_VERSION_MINIMUM=3.5 "${dep_args[@]}")
  command -v ccache >/dev/null && args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  if [ "$mode" = device ]; then
    # Torch's CMake files take the architectures from TORCH_CUDA_ARCH_LIST; ours from CMake's.
    export TORCH_CUDA_ARCH_LIST=9.0
    args+=(-DSWITCHYARD_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 "-DCMAKE_CUDA_COMPILER=$(nvcc_path)"
           "-DCMAKE_PREFIX_PATH=$(torch_prefix)")
  else
    args+=(-DSWITCHYARD_CUDA=OFF)
  fi
  cmake "${args[@]}"
  # Every dependency the carried packages provide must come from them, not from the system.
  "$py" "$repo/bench/gpu/summary.py" --check-cache "$build/CMakeCache.txt" --deps "$deps"
}

build_targets() {
  source "$deps/env.sh"
  local lock=()
  [ "$mode" = local ] && lock=(flock /work/.build.lock)
  "${lock[@]}" cmake --build "$build" -j"$jobs" --target switchyard switchyard-torch sy_compute_tests
  ldd "$build/bin/switchyard-torch" | grep -E 'hdf5|icu|pcre2|torch_cuda|not found' || true
  ! ldd "$build/bin/switchyard-torch" | grep -q 'not found'
}

gpu_tests() {
  source "$deps/env.sh"
  ctest --test-dir "$build" -L gpu --output-on-failure -j1 | tee "$work/ctest_gpu.txt"
  # A gpu test that finds no device skips and CTest counts it as passed: on the device, none may.
  grep -q 'tests passed' "$work/ctest_gpu.txt"
  if [ "$mode" = device ] && grep -qi 'skipped' "$work/ctest_gpu.txt"; then
    echo "gpu tests were skipped on the GPU machine" >&2
    return 1
  fi
}

crosscheck() {
  source "$deps/env.sh"
  "$py" "$repo/bench/gpu/hf_crosscheck.py" --switchyard "$build/bin/switchyard" \
    --work "$work/crosscheck" --json "$OUT/crosscheck.json" ${SY_CROSSCHECK_ARGS:-}
}

speed() {
  source "$deps/env.sh"
  if [ -f "$work/prepare.log" ]; then cat "$work/prepare.log"; fi
  "$py" "$repo/bench/gpu/speed.py" --switchyard "$build/bin/switchyard" \
    --work "$work/speed" --json "$OUT/speed.json" ${SY_SPEED_ARGS:-}
}

streaming() {
  source "$deps/env.sh"
  "$py" "$repo/bench/gpu/speed.py" --streaming --switchyard "$build/bin/switchyard" \
    --work "$work/speed" --json "$OUT/streaming.json" ${SY_SPEED_ARGS:-}
}

echo "device_check: mode $mode, repo $repo, work $work, out $OUT, $(date -u +%FT%TZ)"
step environment environment
step deps unpack_deps
if [ "$mode" = device ]; then
  # The speed step's 18 GB of random checkpoints are drawn on the idle GPU while the build runs.
  mkdir -p "$work/speed"
  "$py" "$repo/bench/gpu/speed.py" --prepare --switchyard none --work "$work/speed" ${SY_SPEED_ARGS:-} \
    > "$work/prepare.log" 2>&1 &
fi
step configure configure
step build build_targets
step gpu_tests gpu_tests
step crosscheck crosscheck
step speed speed
step streaming streaming
if [ "$out_of_bounds" -eq 1 ]; then
  write_summary out_of_bounds
  echo "device_check: some results are OUT OF BOUNDS or steps were skipped for time; summary in $OUT/summary.json"
  exit 3
fi
write_summary ok
echo "device_check: all steps passed; summary in $OUT/summary.json"
