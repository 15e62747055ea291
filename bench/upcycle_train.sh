#!/usr/bin/env bash
# The experiments of docs/upcycling.md "Continued training" and "Branch-Train-MiX in miniature",
# on the bundled dense tiny-llama and the four-domain corpus:
#   (a) sparse upcycling to 4 and 8 experts (top-2), continued training of every expert and router
#       with the load-balancing loss (`tune --select all`), against the dense model trained for the
#       same steps and tokens; held-out NLL per domain on valid.jsonl; the load-CV trajectory.
#   (b) Branch-Train-MiX: one fine-tune per domain, upcycled into one 4-expert MoE (`--sources`,
#       `hidden` router from each domain's prompts); domain -> expert routing and per-domain NLL
#       against each fine-tune and the dense base.
#
# usage: bench/upcycle_train.sh [BUILD_DIR] [CORPUS_DIR] [OUT_DIR]
#   STEPS_A (200), STEPS_B (100), LR (1e-3) in the environment. ~25 min on 2 shared cores.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}; corpus=${2:-$root/../shared/data/corpus}; out=${3:-$(mktemp -d /tmp/sy-upcycle.XXXXXX)}
sy="$build/bin/switchyard"
model="$root/resources/examples/tiny-llama"
steps_a=${STEPS_A:-200}; steps_b=${STEPS_B:-100}; lr=${LR:-1e-3}
py=/usr/bin/python3
mkdir -p "$out"
domains="english c python json"

# Training data: ~400,000 characters per domain taken evenly across train.jsonl (--spread); the
# tune-time evaluation: ~40,000 characters per domain of valid.jsonl; the reported NLL: all of valid.jsonl.
$py "$here/make_domain_sample.py" "$corpus/train.jsonl" "$out/train-mix.jsonl" 400000 --spread
for d in $domains; do
  $py "$here/make_domain_sample.py" "$corpus/train.jsonl" "$out/train-$d.jsonl" 400000 --domains "$d" --spread
done
$py "$here/make_domain_sample.py" "$corpus/valid.jsonl" "$out/valid-spread.jsonl" 40000 --spread
train="--lr $lr --warmup 10 --batch-tokens 2048 --seq-len 128 --seed 0 --holdout 0 --eval $out/valid-spread.jsonl -q --force"

timed() {  # name command...: runs it, records its wall time
  local name=$1; shift
  local start=$(date +%s.%N)
  "$@" > "$out/$name.out" 2> "$out/$name.err"
  echo "$name $(echo "$(date +%s.%N) - $start" | bc)" >> "$out/times.txt"
}
: > "$out/times.txt"

# (a) sparse upcycling + continued training vs the dense model trained alike
timed dense-ft "$sy" tune "$model" --data "$out/train-mix.jsonl" --select all --steps "$steps_a" $train -o "$out/dense-ft"
for e in 4 8; do
  "$sy" upcycle "$model" -o "$out/moe$e" --experts "$e" --top-k 2 --seed 0 -q --force > /dev/null
  timed "moe$e-ft" "$sy" tune "$out/moe$e" --data "$out/train-mix.jsonl" --select all --steps "$steps_a" $train -o "$out/moe$e-ft"
done

# (b) Branch-Train-MiX: branch, train per domain, mix
for d in $domains; do
  timed "ft-$d" "$sy" tune "$model" --data "$out/train-$d.jsonl" --select all --steps "$steps_b" $train -o "$out/ft-$d"
done
"$sy" upcycle "$out/ft-english" --sources "$out/ft-c" "$out/ft-python" "$out/ft-json" -o "$out/btx" \
  --experts 4 --top-k 2 --router hidden --prompts "$out/train-mix.jsonl" --prompt-domains english,c,python,json -q --force > /dev/null
"$sy" trace "$out/btx" --data "$corpus/valid.jsonl" -q --force -o "$out/btx-trace.h5"
"$sy" stats "$out/btx-trace.h5" --show domains > "$out/btx-stats.txt"
"$sy" stats "$out/btx-trace.h5" --json > "$out/btx-stats.json"
# MiX: continued training of the mixture on the mixed data (routers learn, load balance on)
timed btx-mix "$sy" tune "$out/btx" --data "$out/train-mix.jsonl" --select all --steps "$steps_b" $train -o "$out/btx-mix"
"$sy" trace "$out/btx-mix" --data "$corpus/valid.jsonl" -q --force -o "$out/btx-mix-trace.h5"
"$sy" stats "$out/btx-mix-trace.h5" --json > "$out/btx-mix-stats.json"

for m in dense-ft moe4-ft moe8-ft ft-english ft-c ft-python ft-json btx btx-mix; do
  "$sy" eval "$out/$m" --data "$corpus/valid.jsonl" --seq-len 128 -q --json > "$out/eval-$m.json"
done
"$sy" eval "$model" --data "$corpus/valid.jsonl" --seq-len 128 -q --json > "$out/eval-base.json"
$py "$here/upcycle_train_table.py" "$out"
