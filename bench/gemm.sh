#!/usr/bin/env bash
# GEMM GFLOP/s of ZeroDL and, where python3 with numpy is installed, of NumPy/OpenBLAS on the same shapes,
# measured in one run, with the ratio ZeroDL / NumPy.   Usage: bench/gemm.sh [--threads N]
set -euo pipefail
cd "$(dirname "$0")/.."
threads=$(nproc)
if [ "${1:-}" = "--threads" ]; then threads=$2; fi
dotnet build bench/ZeroDL.Bench -c Release -v quiet -nologo >/dev/null
ours=$(dotnet bench/ZeroDL.Bench/bin/Release/net10.0/ZeroDL.Bench.dll gemm --threads "$threads")
py=$(command -v /usr/bin/python3 || command -v python3 || true)
theirs=""
if [ -n "$py" ] && "$py" -c 'import numpy' 2>/dev/null; then
  # The peer runs with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset (they can force slower kernels); ours keeps the environment.
  theirs=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="$threads" "$py" bench/python/gemm_numpy.py)
fi
echo "$ours" | head -n 1
[ -n "$theirs" ] && echo "$theirs" | head -n 1
printf '%-16s %10s %10s %8s\n' "shape MxKxN" "ZeroDL" "NumPy" "ratio"
echo "$ours" | tail -n +3 | while IFS=$'\t' read -r shape rate; do
  np=$(echo "$theirs" | awk -F'\t' -v s="$shape" '$1 == s {print $2}')
  if [ -n "$np" ]; then
    printf '%-16s %10s %10s %8s\n' "$shape" "$rate" "$np" "$(awk -v a="$rate" -v b="$np" 'BEGIN {printf "%.2f", a / b}')"
  else
    printf '%-16s %10s %10s %8s\n' "$shape" "$rate" "-" "-"
  fi
done
