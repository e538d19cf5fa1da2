#!/usr/bin/env bash
# Inference of the book's DeepConvNet side by side: images per second on the 10,000 test images (batches of 100,
# THREADS threads, default 2) and the batch-1 latency on one thread, in ZeroDL (the book's trained weights) and —
# where python3 with torch is installed — PyTorch (same network), alternating RUNS times (default 3); medians and
# ratios to PyTorch's median and best run.   Usage: bench/inference.sh [RUNS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}; threads=${2:-2}
dotnet build bench/ZeroDL.Bench -c Release -v quiet -nologo >/dev/null
py=$(command -v /usr/bin/python3 || command -v python3 || true)
. bench/peer-env.sh
have_torch=0
if [ -n "$py" ] && "$py" -c 'import torch' 2>/dev/null; then have_torch=1; fi
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
# Which BLAS and oneDNN PyTorch runs (exit 3 on netlib's reference BLAS).
if [ "$have_torch" = 1 ]; then "${peer_env[@]}" "$py" bench/python/peer_blas.py torch || exit 3; fi
ours_rate=(); ours_lat=(); theirs_rate=(); theirs_lat=()
for i in $(seq "$runs"); do
  out=$(dotnet bench/ZeroDL.Bench/bin/Release/net10.0/ZeroDL.Bench.dll deepconv-inference --threads "$threads")
  r=$(echo "$out" | awk '/^images_per_second/ {print $2}'); l=$(echo "$out" | awk '/^batch1_latency_ms_median/ {print $2}')
  ours_rate+=("$r"); ours_lat+=("$l"); echo "ZeroDL  run $i: $r images/s, batch-1 latency $l ms ($(echo "$out" | awk '/^correct/ {print $2}') correct)"
  if [ "$have_torch" = 1 ]; then
    out=$(cd bench/python && "${peer_env[@]}" "$py" inference_torch.py "$threads")
    r=$(echo "$out" | awk '/^images_per_second/ {print $2}'); l=$(echo "$out" | awk '/^batch1_latency_ms_median/ {print $2}')
    theirs_rate+=("$r"); theirs_lat+=("$l"); echo "PyTorch run $i: $r images/s, batch-1 latency $l ms"
  fi
done
r1=$(median "${ours_rate[@]}"); l1=$(median "${ours_lat[@]}")
echo "ZeroDL median:  $r1 images/s, $l1 ms"
if [ "$have_torch" = 1 ]; then
  r2=$(median "${theirs_rate[@]}"); l2=$(median "${theirs_lat[@]}")
  rb=$(printf '%s\n' "${theirs_rate[@]}" | sort -g | tail -n1); lb=$(printf '%s\n' "${theirs_lat[@]}" | sort -g | head -n1)
  echo "PyTorch median: $r2 images/s, $l2 ms"
  echo "PyTorch best:   $rb images/s, $lb ms"
  awk -v a="$r1" -v b="$r2" -v c="$l1" -v d="$l2" -v e="$rb" -v f="$lb" 'BEGIN {
    printf "throughput ZeroDL/PyTorch: %.2f of its median, %.2f of its best; latency ZeroDL/PyTorch: %.2f of its median, %.2f of its best\n", a / b, a / e, c / d, c / f }'
fi
