#!/usr/bin/env bash
# Runs `switchyard stats` and `affinity` on a trace inside a cgroup-v1 memory cgroup whose limit
# (RSS + page cache) is far smaller than the file: the "trace larger than RAM" case on a machine
# with plenty of RAM. The file's cached pages are evicted first so every read is charged to the
# cgroup. Needs root and /sys/fs/cgroup/memory (cgroup v1).
# usage: bench/analysis_memory_cap.sh TRACE.h5 [BUILD_DIR] [LIMIT_MIB]
set -euo pipefail
trace=$1; build=${2:-build}; limit_mib=${3:-256}
cg=/sys/fs/cgroup/memory/switchyard-bench-$$
mkdir "$cg"; trap 'rmdir "$cg"' EXIT
echo $((limit_mib * 1048576)) > "$cg/memory.limit_in_bytes"
size=$(stat -c %s "$trace")
echo "trace $(( size / 1048576 )) MiB, cgroup memory limit ${limit_mib} MiB (RSS + page cache)"
for verb in stats affinity; do
  /usr/bin/python3 -c "import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)" "$trace"
  echo 0 > "$cg/memory.max_usage_in_bytes"
  /usr/bin/time -f "$verb: wall %e s, peak RSS %M KiB" \
    bash -c 'echo $$ > "$1/cgroup.procs"; exec "$2" "$3" "$4" -q --json > /dev/null' _ "$cg" "$build/bin/switchyard" "$verb" "$trace"
  echo "$verb: cgroup peak $(( $(cat "$cg/memory.max_usage_in_bytes") / 1048576 )) MiB, limit hits $(cat "$cg/memory.failcnt")"
done
