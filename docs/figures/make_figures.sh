#!/usr/bin/env bash
# PNG versions of two docs/analysis.md figures from a trace: ExFlow's affinity heat map (every
# consecutive layer pair) and Mixtral's domain x expert figure (every layer). Needs gnuplot
# (Debian gnuplot-nox) and python3 (standard library only); reads `switchyard ... --json`.
#
# Usage: docs/figures/make_figures.sh TRACE.h5 [BUILD_DIR] [OUT_DIR]
set -euo pipefail
trace="$1"
here="$(cd "$(dirname "$0")" && pwd)"
sy="${2:-$here/../../build}/bin/switchyard"
out="${3:-$here}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

"$sy" affinity "$trace" --json -q > "$tmp/affinity.json"
"$sy" stats "$trace" --json -q --top-tokens 1 > "$tmp/stats.json"
python3 - "$tmp" <<'PY'
import json, sys
tmp = sys.argv[1]
aff = json.load(open(tmp + "/affinity.json"))
for i, p in enumerate(aff["pairs"]):
    with open("%s/pair%d.dat" % (tmp, i), "w") as f:
        for row in p["conditional"]:
            f.write(" ".join("%.4f" % (100 * v) for v in row) + "\n")
    with open("%s/pair%d.title" % (tmp, i), "w") as f:
        f.write("layer %d -> %d (MI %.2f bits)" % (p["from_layer"], p["to_layer"], p["mutual_information"]))
st = json.load(open(tmp + "/stats.json"))
k = st["top_k"]
with open(tmp + "/domains.names", "w") as f:
    f.write(" ".join(st["domains"]["names"]) + "\n")
for layer in st["domains"]["layers"]:
    with open("%s/domain%d.dat" % (tmp, layer["layer"]), "w") as f:
        for row in layer["frequency"]:
            f.write(" ".join("%.4f" % (100 * v / k) for v in row) + "\n")
PY

pairs=$(ls "$tmp"/pair*.dat | wc -l)
{
    echo "set terminal pngcairo size $((420 * pairs)),420 font ',10'"
    echo "set output '$out/affinity.png'"
    echo "set multiplot layout 1,$pairs title 'P(expert j at layer l+1 | expert i at layer l), % (first choices)'"
    echo "set xlabel 'expert j at layer l+1'; set ylabel 'expert i at layer l'; set cbrange [0:60]; set autoscale fix"
    echo "set palette defined (0 'white', 1 '#fdd49e', 2 '#fc8d59', 3 '#b30000'); set yrange [] reverse"
    for ((i = 0; i < pairs; i++)); do
        echo "set title '$(cat "$tmp/pair$i.title")'"
        echo "plot '$tmp/pair$i.dat' matrix with image notitle, '' matrix using 1:2:(sprintf('%.0f',\$3)) with labels font ',7' notitle"
    done
    echo "unset multiplot"
} | gnuplot

layers=$(ls "$tmp"/domain*.dat | wc -l)
read -r -a names < "$tmp/domains.names"
ytics=""
for ((d = 0; d < ${#names[@]}; d++)); do ytics+="${ytics:+, }'${names[d]}' $d"; done
{
    echo "set terminal pngcairo size $((380 * layers)),300 font ',10'"
    echo "set output '$out/domains.png'"
    echo "set multiplot layout 1,$layers title \"Share of each domain's routing slots per expert, % (uniform 12.5%)\""
    echo "set xlabel 'expert'; set ytics ($ytics); set cbrange [0:35]; set yrange [] reverse; set autoscale fix"
    echo "set palette defined (0 'white', 1 '#c6dbef', 2 '#4292c6', 3 '#08306b')"
    for ((l = 0; l < layers; l++)); do
        echo "set title 'layer $l'"
        echo "plot '$tmp/domain$l.dat' matrix with image notitle, '' matrix using 1:2:(sprintf('%.0f',\$3)) with labels font ',7' notitle"
    done
    echo "unset multiplot"
} | gnuplot
echo "wrote $out/affinity.png $out/domains.png"
