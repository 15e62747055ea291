#!/usr/bin/env bash
# Routing analysis at scale: `switchyard stats` and `switchyard affinity` over
# synthetic Mixtral-8x7B-shaped traces (32 MoE layers, 8 experts, top-2) of about 1, 4 and 8 GB,
# each against the time to merely read every dataset of the same file (bench/read_trace.py, the
# same 65536-token blocks, one layer at a time) in the same run and page-cache state: the file is
# read once untimed first, so every timed pass finds it in the page cache and the comparison is
# about decompression + analysis, not the disk. Wall time and peak RSS from /usr/bin/time -v.
#
# Usage: bench/analysis_scale.sh [BUILD_DIR] [WORK_DIR] [TOKENS...]
#   default tokens 4400000 17600000 35200000 (about 1, 4 and 8 GB at ~230 bytes/token);
#   traces are made by bench/make_trace.py in WORK_DIR (default /tmp/sy-scale) and deleted at the
#   end unless KEEP=1. Needs python3-h5py, python3-numpy and GNU time (packaging/install-deps.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../build}"
work="${2:-/tmp/sy-scale}"
shift $(( $# > 2 ? 2 : $# )) || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(4400000 17600000 35200000)
python=python3
$python -c 'import h5py' 2>/dev/null || python=/usr/bin/python3
sy="$build/bin/switchyard"
mkdir -p "$work"

# Runs "$@" under GNU time; prints "<wall seconds> <peak RSS KiB>".
measure() {
    local log="$work/time.log"
    /usr/bin/time -v "$@" >/dev/null 2>"$log"
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$log")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    echo "$wall $rss"
}

printf "%-10s %8s %9s %9s %9s %9s %9s %10s %10s\n" tokens GB read_s stats_s affin_s stats% affin% stats_MiB affin_MiB
for tokens in "${sizes[@]}"; do
    trace="$work/trace-$tokens.h5"
    [ -f "$trace" ] || $python "$here/make_trace.py" "$trace" --tokens "$tokens" >/dev/null
    gb=$(awk -v b="$(stat -L -c %s "$trace")" 'BEGIN {printf "%.2f", b / 1e9}')
    $python "$here/read_trace.py" "$trace" >/dev/null   # warm the page cache
    read -r read_s _ < <(measure $python "$here/read_trace.py" "$trace")
    read -r stats_s stats_kb < <(measure "$sy" stats "$trace" -q)
    read -r aff_s aff_kb < <(measure "$sy" affinity "$trace" -q)
    awk -v t="$tokens" -v gb="$gb" -v r="$read_s" -v s="$stats_s" -v a="$aff_s" -v sk="$stats_kb" -v ak="$aff_kb" \
        'BEGIN {printf "%-10d %8s %9.1f %9.1f %9.1f %8.0f%% %8.0f%% %10.0f %10.0f\n", t, gb, r, s, a, 100*r/s, 100*r/a, sk/1024, ak/1024}'
    [ "${KEEP:-0}" = 1 ] || rm -f "$trace"
done
echo "stats% / affin% = read time / analysis time: the analysis' throughput as a share of read speed (goal >= 50%)"
