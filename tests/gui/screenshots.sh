#!/usr/bin/env bash
# Screenshots of every workbench view, for a person to check what the window looks like. Runs
# the real window under Xvfb: opens the bundled model, traces the bundled corpus, routes a line
# of text in the token inspector, prunes two experts and merges two others in every layer,
# computes layer 0's expert similarity and a score file, previews the edit stack, then saves one
# PNG per view; last it tunes the experts ESFT picks on top of that stack and saves the edit stack
# dock with the training entry and its loss curve (edit-stack-training.png).
#   tests/gui/screenshots.sh [OUT_DIR] [BUILD_DIR]     (defaults: build/screenshots, build)
# Needs xvfb-run (packaging/install-deps.sh installs xvfb + xauth).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-$root/build/screenshots}"
build="${2:-$root/build}"
gui="$build/bin/switchyard-gui"
[ -x "$gui" ] || { echo "screenshots.sh: $gui not built (cmake --build $build --target switchyard-gui)" >&2; exit 1; }
command -v xvfb-run >/dev/null || { echo "screenshots.sh: xvfb-run not found (apt-get install xvfb xauth)" >&2; exit 1; }
mkdir -p "$out"
# A private settings/cache folder, so the user's window state and recent files stay untouched.
home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT
HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_CACHE_HOME="$home/.cache" \
  xvfb-run -a -s "-screen 0 1600x1000x24" \
  "$gui" "$root/resources/examples/tiny-mixtral" --data "$root/resources/examples/corpus-sample.jsonl" \
  --max-tokens 8192 --screenshots "$out"
echo "screenshots in $out"
