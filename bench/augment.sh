#!/usr/bin/env bash
# What on-the-fly augmentation adds to training: ITERATIONS mini-batches of 100 (default 100) with and without
# --augment, alternating RUNS times (default 3), for SimpleConvNet and DeepConvNet. Prints each run's seconds of
# training (as `zerodl train` reports them), the medians and the added fraction.
# Usage: bench/augment.sh [RUNS] [ITERATIONS] [MODELS, default "simpleconv deepconv"]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}; iterations=${2:-100}; models=${3:-simpleconv deepconv}
dotnet build src/ZeroDL.Cli -c Release -v quiet -nologo >/dev/null
cli=src/ZeroDL.Cli/bin/Release/net10.0/zerodl-cli.dll
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
# The seconds from the final line, "Test accuracy: … (N of M test images; S s of training)"; a line that no longer
# reads so stops the script rather than print empty figures.
seconds() {
  local s
  s=$(dotnet "$cli" train --model "$1" --iterations "$iterations" --eval-samples 100 --out "$out/m.safetensors" "${@:2}" \
    | sed -n 's/^Test accuracy:.*[ (]\([0-9.]*\) s of training).*/\1/p')
  [ -n "$s" ] || { echo "bench/augment.sh: no \"s of training\" in zerodl train's output" >&2; exit 1; }
  echo "$s"
}
for model in $models; do
  plain=(); augmented=()
  for i in $(seq "$runs"); do
    p=$(seconds "$model"); a=$(seconds "$model" --augment)
    plain+=("$p"); augmented+=("$a")
    echo "$model run $i: ${p} s plain, ${a} s augmented"
  done
  m1=$(median "${plain[@]}"); m2=$(median "${augmented[@]}")
  awk -v a="$m1" -v b="$m2" -v m="$model" 'BEGIN {printf "%s medians: %.2f s plain, %.2f s augmented: %+.0f %%\n", m, a, b, (b / a - 1) * 100}'
done
