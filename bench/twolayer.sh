#!/usr/bin/env bash
# The book's ch. 5 run (TwoLayerNet 784-50-10, SGD lr 0.1, batch 100, 10,000 iterations, accuracy on the full
# train and test sets every epoch) in ZeroDL and, where python3 with numpy is installed, the same run written in
# the book's NumPy style, alternating RUNS times (default 3). Prints each run's training-loop seconds, the
# medians and the ratio. With --torch, the same run in PyTorch (bench/python/twolayer_torch.py, as PyTorch users
# write it) joins each round, on 1 and on 2 threads.   Usage: bench/twolayer.sh [RUNS] [--torch]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
with_torch=0
if [ "${2:-}" = "--torch" ]; then with_torch=1; fi
dotnet build bench/ZeroDL.Bench -c Release -v quiet -nologo >/dev/null
py=$(command -v /usr/bin/python3 || command -v python3 || true)
. bench/peer-env.sh
have_numpy=0
if [ -n "$py" ] && "$py" -c 'import numpy' 2>/dev/null; then have_numpy=1; fi
if [ "$with_torch" = 1 ] && ! { [ -n "$py" ] && "$py" -c 'import torch' 2>/dev/null; }; then
  echo "--torch: python3 with torch is not installed (Debian package python3-torch); running without it" >&2; with_torch=0
fi
# Which BLAS each peer multiplies with (exit 3 on netlib's reference BLAS, which would flatter us 30-100x).
if [ "$have_numpy" = 1 ]; then "${peer_env[@]}" "$py" bench/python/peer_blas.py numpy || exit 3; fi
if [ "$with_torch" = 1 ]; then "${peer_env[@]}" "$py" bench/python/peer_blas.py torch || exit 3; fi
ours=(); theirs=(); torch1=(); torch2=()
for i in $(seq "$runs"); do
  out=$(dotnet bench/ZeroDL.Bench/bin/Release/net10.0/ZeroDL.Bench.dll twolayer)
  s=$(echo "$out" | awk '/^seconds/ {print $2}'); acc=$(echo "$out" | awk '/^test_accuracy/ {print $2}')
  ours+=("$s"); echo "ZeroDL run $i: ${s} s, test accuracy ${acc}"
  if [ "$have_numpy" = 1 ]; then
    out=$("${peer_env[@]}" "$py" bench/python/twolayer_numpy.py)
    s=$(echo "$out" | awk '/^seconds/ {print $2}'); acc=$(echo "$out" | awk '/^test_accuracy/ {print $2}')
    theirs+=("$s"); echo "NumPy  run $i: ${s} s, test accuracy ${acc}"
  fi
  if [ "$with_torch" = 1 ]; then
    for t in 1 2; do
      out=$(cd bench/python && "${peer_env[@]}" "$py" twolayer_torch.py 10000 "$t")
      s=$(echo "$out" | awk '/^seconds/ {print $2}'); acc=$(echo "$out" | awk '/^test_accuracy/ {print $2}')
      if [ "$t" = 1 ]; then torch1+=("$s"); else torch2+=("$s"); fi
      echo "PyTorch ($t thread(s)) run $i: ${s} s, test accuracy ${acc}"
    done
  fi
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
least() { printf '%s\n' "$@" | sort -g | head -n1; }
m1=$(median "${ours[@]}")
echo "ZeroDL median: ${m1} s"
if [ "$have_numpy" = 1 ]; then
  m2=$(median "${theirs[@]}")
  echo "NumPy median:  ${m2} s"
  awk -v a="$m1" -v b="$m2" 'BEGIN {printf "ZeroDL is %.2fx as fast as NumPy\n", b / a}'
fi
if [ "$with_torch" = 1 ]; then
  t1=$(median "${torch1[@]}"); t2=$(median "${torch2[@]}")
  b1=$(least "${torch1[@]}"); b2=$(least "${torch2[@]}")
  echo "PyTorch median: ${t1} s (1 thread), ${t2} s (2 threads)"
  echo "PyTorch best:   ${b1} s (1 thread), ${b2} s (2 threads)"
  # PyTorch's OpenMP threads make its time vary by up to 2x from run to run here: its best run is the fair bar.
  awk -v a="$m1" -v b="$t1" -v c="$t2" -v d="$b1" -v e="$b2" 'BEGIN {
    med = b < c ? b : c; best = d < e ? d : e
    printf "ZeroDL takes %.2fx the time of PyTorch'"'"'s best run and %.2fx its median (faster thread setting)\n", a / best, a / med }'
fi
