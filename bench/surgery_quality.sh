#!/usr/bin/env bash
# The quality table of docs/surgery.md: held-out NLL per domain of the trained tiny-mixtral after
# retraining-free pruning and merging to 6 and 4 experts per layer, for every method, calibrated
# on training documents and evaluated on held-out ones; plus the router-row comparison of
# collapsed merges and a calibration on one domain only.
#
# usage: bench/surgery_quality.sh [BUILD_DIR] [CORPUS_DIR] [OUT_DIR]
#   CORPUS_DIR: the four-domain corpus (train.jsonl, valid.jsonl), default ../shared/data/corpus
#   Calibration: 200,000 characters of train.jsonl per domain; evaluation: 100,000 characters of
#   valid.jsonl per domain (bench/make_domain_sample.py). ~30 min on 2 cores.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}; corpus=${2:-$root/../shared/data/corpus}; out=${3:-$(mktemp -d /tmp/sy-quality.XXXXXX)}
sy="$build/bin/switchyard-torch"
model="$root/resources/examples/tiny-mixtral"
mkdir -p "$out"
py=/usr/bin/python3
$py "$here/make_domain_sample.py" "$corpus/train.jsonl" "$out/calib.jsonl" 200000
$py "$here/make_domain_sample.py" "$corpus/valid.jsonl" "$out/eval.jsonl" 100000
$py "$here/make_domain_sample.py" "$corpus/train.jsonl" "$out/calib-python.jsonl" 200000 --domains python

"$sy" score "$model" --data "$out/calib.jsonl" --outputs 8192 -q --force -o "$out/scores.h5" > /dev/null
"$sy" score "$model" --data "$out/calib-python.jsonl" -q --force -o "$out/scores-python.h5" > /dev/null

results="$out/results.jsonl"
: > "$results"
evaluate() {  # name experts model_dir
  "$sy" eval "$3" --data "$out/eval.jsonl" -q --json |
    $py -c "import json,sys; r=json.load(sys.stdin); r['name']=sys.argv[1]; r['experts']=int(sys.argv[2]); print(json.dumps(r))" "$1" "$2" >> "$results"
}
edit() {  # name experts verb args...
  local name=$1 experts=$2; shift 2
  rm -rf "$out/m"
  "$sy" "$@" -q -o "$out/m" > /dev/null
  evaluate "$name" "$experts" "$out/m"
}

evaluate "original" 8 "$model"
for keep in 6 4; do
  for seed in 1 2 3 4 5; do edit "random (seed $seed)" $keep prune "$model" --method random --keep $keep --seed $seed; done
  for m in frequency ean reap; do edit "$m" $keep prune "$model" --method $m --keep $keep --scores "$out/scores.h5"; done
  edit "m-smoe" $keep merge "$model" --method m-smoe --keep $keep --scores "$out/scores.h5" --data "$out/calib.jsonl"
  edit "hc-smoe" $keep merge "$model" --method hc-smoe --keep $keep --scores "$out/scores.h5" --data "$out/calib.jsonl"
  edit "m-smoe, router row of the dominant member" $keep merge "$model" --method m-smoe --keep $keep --scores "$out/scores.h5" --router dominant
  edit "hc-smoe, router row of the dominant member" $keep merge "$model" --method hc-smoe --keep $keep --scores "$out/scores.h5" --router dominant
  edit "hc-smoe groups, unaligned average" $keep merge "$model" --method hc-smoe --keep $keep --scores "$out/scores.h5" --data "$out/calib.jsonl" --no-align
  edit "reap, calibrated on python only" $keep prune "$model" --method reap --keep $keep --scores "$out/scores-python.h5"
done
$py "$here/surgery_table.py" "$results"
echo "results: $results" >&2
