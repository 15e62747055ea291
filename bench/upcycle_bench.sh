#!/usr/bin/env bash
# Upcycle memory and speed: a dense Mistral-7B-shaped checkpoint of 1 and 2 layers (random BF16,
# bench/make_random_mistral.py) upcycled to 8 experts, top-2. Baseline in the same run:
# `switchyard export` of the upcycled checkpoint, i.e. writing the same bytes through the same
# writer from a plain copy. Reports output bytes, wall time, write throughput and peak RSS
# (/usr/bin/time -v) of both; the claims checked are that upcycling's peak memory does not grow
# with the model (a few tensors) and that it writes at the speed of a copy.
#
# usage: bench/upcycle_bench.sh [BUILD_DIR] [WORK_DIR] [LAYERS...]   (defaults: build, /tmp/sy-upcycle-bench, 1 2)
set -euo pipefail
BUILD=${1:-build}
WORK=${2:-/tmp/sy-upcycle-bench}
shift $(( $# > 2 ? 2 : $# )) || true
LAYERS=${*:-1 2}
HERE=$(cd "$(dirname "$0")" && pwd)
SY="$BUILD/bin/switchyard"
mkdir -p "$WORK"

# On a disk both verbs are I/O-bound (writing gigabytes), so each run starts after `sync` and its
# time includes the `sync` that puts its output on disk: otherwise whichever run finds the page
# cache's dirty limit unreached looks several times faster. `sync` is machine-wide (other jobs'
# writes count too); a WORK_DIR on tmpfs (/dev/shm) measures the CPU side without it.
FLUSH=sync
[ "$(stat -f -c %T "$WORK")" = tmpfs ] && FLUSH=true
measure() {   # label, command...: prints label, wall seconds, peak RSS MiB
    local label=$1; shift
    local log="$WORK/time.log"
    $FLUSH
    /usr/bin/time -v sh -c '"$@" && '"$FLUSH" sh "$@" 2>"$log" >/dev/null
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s}' "$log")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$log")
    echo "$label $wall $rss"
}

printf "%-7s %-8s %9s %9s %8s %10s %9s\n" layers verb in_GB out_GB wall_s out_MB/s peak_MiB
for L in $LAYERS; do
    dense="$WORK/dense-$L"
    [ -f "$dense/config.json" ] || /usr/bin/python3 "$HERE/make_random_mistral.py" "$dense" --layers "$L" >/dev/null
    in_gb=$(du -sb "$dense" | awk '{printf "%.2f", $1 / 1e9}')
    moe="$WORK/upcycle-$L"
    rm -rf "$moe" "$WORK/export-$L"
    read -r _ wall rss < <(measure upcycle "$SY" upcycle "$dense" -o "$moe" --experts 8 --top-k 2 -q)
    out_gb=$(du -sb "$moe" | awk '{printf "%.2f", $1 / 1e9}')
    rate=$(awk -v b="$out_gb" -v s="$wall" 'BEGIN {printf "%.0f", b * 1000 / s}')
    printf "%-7s %-8s %9s %9s %8s %10s %9s\n" "$L" upcycle "$in_gb" "$out_gb" "$wall" "$rate" "$rss"
    read -r _ wall rss < <(measure export "$SY" export "$moe" -o "$WORK/export-$L" -q)
    rate=$(awk -v b="$out_gb" -v s="$wall" 'BEGIN {printf "%.0f", b * 1000 / s}')
    printf "%-7s %-8s %9s %9s %8s %10s %9s\n" "$L" "export" "$out_gb" "$out_gb" "$wall" "$rate" "$rss"
    rm -rf "$moe" "$WORK/export-$L"
done
