#!/usr/bin/env bash
# Main-thread event-loop latency of switchyard-gui while a trace runs (must stay
# under 100 ms). The window traces the bundled corpus with the bundled model while a 5 ms
# timer on the main thread records how late each tick fires; prints max / p99 / median.
#   bench/gui_latency.sh [BUILD_DIR] [MAX_TOKENS]      (defaults: build, 32768)
# Runs offscreen (no display needed); exit code 2 when the maximum reaches 100 ms.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
tokens="${2:-32768}"
home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT
HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_CACHE_HOME="$home/.cache" QT_QPA_PLATFORM=offscreen \
  "$build/bin/switchyard-gui" "$root/resources/examples/tiny-mixtral" \
  --data "$root/resources/examples/corpus-sample.jsonl" --max-tokens "$tokens" --bench-latency
