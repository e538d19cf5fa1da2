#!/usr/bin/env bash
# Training speed of the book's CNNs, side by side: SimpleConvNet and DeepConvNet, Adam 0.001, batch 100, a fixed
# number of iterations after warm-up, in ZeroDL and — where python3 with torch is installed (Debian package
# python3-torch) — the same network in PyTorch, alternating RUNS times (default 3). Prints each run's seconds per
# epoch (60,000 images, extrapolated from the timed iterations) and peak resident memory; then, per model, the best
# and the median of each, ZeroDL's ratio to PyTorch's best and to its median (PyTorch's OpenMP threads make it vary
# by 2× from run to run on a shared machine, so both are given), and ZeroDL's speed in the book's FLOPs as a
# fraction of the FMA limit measured in the same process (median over the runs).
# Usage: bench/convnet.sh [RUNS] [ITERATIONS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}; iterations=${2:-60}; threads=${3:-2}
dotnet build bench/ZeroDL.Bench -c Release -v quiet -nologo >/dev/null
py=$(command -v /usr/bin/python3 || command -v python3 || true)
. bench/peer-env.sh
have_torch=0
if [ -n "$py" ] && "$py" -c 'import torch' 2>/dev/null; then have_torch=1; fi
# Which BLAS and oneDNN PyTorch runs (exit 3 on netlib's reference BLAS).
if [ "$have_torch" = 1 ]; then "${peer_env[@]}" "$py" bench/python/peer_blas.py torch || exit 3; fi
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
best() { printf '%s\n' "$@" | sort -g | head -1; }
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); $threads threads"
for model in simpleconv deepconv; do
  ours=(); theirs=(); fractions=()
  for i in $(seq "$runs"); do
    out=$(dotnet bench/ZeroDL.Bench/bin/Release/net10.0/ZeroDL.Bench.dll convnet-train --model "$model" --iterations "$iterations" --threads "$threads")
    s=$(echo "$out" | awk '/^seconds_per_epoch/ {print $2}')
    f=$(echo "$out" | awk '/^fma_fraction/ {print $2}')
    ours+=("$s"); fractions+=("$f")
    echo "$model ZeroDL  run $i: ${s} s/epoch, $(echo "$out" | awk '/^gflops/ {print $2}') GFLOP/s = $(awk -v f="$f" 'BEGIN {printf "%.0f", 100 * f}') % of the FMA limit ($(echo "$out" | awk '/^fma_limit_gflops/ {g = $2} /^fma_limit_threads/ {t = $2} /^fma_vector_bits/ {b = $2} END {printf "%s GFLOP/s, %s threads, %s-bit", g, t, b}')), peak resident $(echo "$out" | awk '/^peak_resident_mib/ {print $2}') MiB"
    if [ "$have_torch" = 1 ]; then
      out=$(cd bench/python && "${peer_env[@]}" "$py" convnet_torch.py "$model" "$iterations" "$threads")
      s=$(echo "$out" | awk '/^seconds_per_epoch/ {print $2}')
      theirs+=("$s"); echo "$model PyTorch run $i: ${s} s/epoch, peak resident $(echo "$out" | awk '/^peak_resident_mib/ {print $2}') MiB"
    fi
  done
  m1=$(median "${ours[@]}"); b1=$(best "${ours[@]}")
  echo "$model ZeroDL:  best ${b1}, median ${m1} s/epoch; $(awk -v f="$(median "${fractions[@]}")" 'BEGIN {printf "%.0f", 100 * f}') % of the FMA limit in the book's FLOPs (median)"
  if [ "$have_torch" = 1 ]; then
    m2=$(median "${theirs[@]}"); b2=$(best "${theirs[@]}")
    echo "$model PyTorch: best ${b2}, median ${m2} s/epoch"
    awk -v a="$m1" -v b="$b2" -v c="$m2" -v m="$model" \
      'BEGIN {printf "%s ratio ZeroDL median / PyTorch best: %.2f, / PyTorch median: %.2f\n", m, a / b, a / c}'
  fi
done
