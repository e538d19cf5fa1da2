#!/usr/bin/env bash
# GEMM GFLOP/s of ZeroDL and, where python3 with numpy is installed, of NumPy/OpenBLAS on the same shapes: ROUNDS
# rounds, the median per shape, and the ratio ZeroDL / NumPy as the median of the rounds' own ratios; and the machine's
# FMA limit on as many threads (register-only multiply-adds, measured every round). Within a round each shape is timed
# on both sides back to back (ZeroDL first in odd rounds, NumPy first in even ones), so that a shared host's slow
# spells, which last tens of seconds, fall on both sides of a ratio alike rather than on one side's whole pass.
# Usage: bench/gemm.sh [--threads N] [--rounds R] [--kernel auto|avx512|avx2] [--shape "MxKxN[At|Bt],…"]
#        (defaults: all cores, 3 rounds, auto, the bench's shapes)
# --shape times only the listed shapes (names as the table prints them, spaces dropped: "100x4320x100,100x100x5880Bt"),
# on both sides, so that a run over a few shapes stays short.
# --kernel forces ZeroDL's micro-kernel (ZeroDL.Bench's --kernel): avx2 measures the AVX2 path on an AVX-512 machine,
# against OpenBLAS's AVX2 kernel. 'of limit' is of the FMA limit the bench measures at the kernel's width: 512-bit
# where there is AVX-512, 256-bit with --kernel avx2.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=$(nproc); rounds=3; kernel=auto; shapes=""
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --kernel)
      kernel=$2; shift 2
      case "$kernel" in auto|avx512|avx2) ;; *) echo "bench/gemm.sh: unknown --kernel '$kernel': use auto, avx512 or avx2" >&2; exit 2 ;; esac ;;
    --shape) shapes=$2; shift 2 ;;
    *) echo "usage: bench/gemm.sh [--threads N] [--rounds R] [--kernel auto|avx512|avx2] [--shape \"MxKxN[At|Bt],…\"]" >&2; exit 2 ;;
  esac
done
dotnet build bench/ZeroDL.Bench -c Release -v quiet -nologo >/dev/null
py=$(command -v /usr/bin/python3 || command -v python3 || true)
. bench/peer-env.sh
have_numpy=false
if [ -n "$py" ] && "$py" -c 'import numpy' 2>/dev/null; then have_numpy=true; fi
# The peer runs under bench/peer-env.sh's environment (its best kernel for this CPU); ours keeps the environment. With
# --kernel avx2 the peer is held to its AVX2 kernel (OPENBLAS_CORETYPE=Haswell), so that both sides multiply with
# 256-bit vectors.
if [ "$kernel" = avx2 ]; then peer_env=(env -u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE=Haswell); fi
# The limit is the kernel's own width's: with --kernel avx2, 256-bit multiply-adds (half the 512-bit figure on a CPU
# with two 512-bit FMA units, such as a Xeon since Skylake; the same on Zen 4, which splits 512-bit operations).
limit_bits=(); limit_width=""; if [ "$kernel" = avx2 ]; then limit_bits=(--bits 256); limit_width=", 256-bit"; fi
# Which BLAS NumPy multiplies with (exit 3 on netlib's reference BLAS, which would flatter us 30-100x).
peer=""
if $have_numpy; then peer=$("${peer_env[@]}" OPENBLAS_NUM_THREADS="$threads" "$py" bench/python/peer_blas.py numpy) || exit 3; fi
ours=$(mktemp); theirs=$(mktemp); limit=$(mktemp); limits=$(mktemp); trap 'rm -f "$ours" "$theirs" "$limit" "$limits"' EXIT
bench=bench/ZeroDL.Bench/bin/Release/net10.0/ZeroDL.Bench.dll
names=$(dotnet "$bench" gemm --list --shape "$shapes")
time_ours() { dotnet "$bench" gemm --threads "$threads" --kernel "$kernel" --shape "$1" >>"$ours"; }
time_theirs() {
  if $have_numpy; then "${peer_env[@]}" OPENBLAS_NUM_THREADS="$threads" "$py" bench/python/gemm_numpy.py --only "$1" >>"$theirs"; fi
}
for round in $(seq "$rounds"); do
  dotnet "$bench" fma-peak --threads "$threads" "${limit_bits[@]}" | awk -F'\t' -v t="threads $threads" '$1 == t {print $2}' >>"$limit"
  for shape in $names; do
    if [ $((round % 2)) -eq 1 ]; then time_ours "$shape"; time_theirs "$shape"; else time_theirs "$shape"; time_ours "$shape"; fi
  done
done
grep -m1 '^# ZeroDL' "$ours"
$have_numpy && echo "$peer"
echo "# $rounds rounds, each shape timed on both sides back to back; rates are medians, a ratio is the median of the rounds' ratios"
peak=$(sort -g "$limit" | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
echo "# FMA limit on $threads thread(s)$limit_width: $peak GFLOP/s (register-only multiply-adds, the median of the rounds'); 'of limit' = the median of the rounds' ZeroDL / that round's limit"
# Each round's limit, once per shape, so that paired() divides a round's rate by its own round's limit (measured just
# before the round's first shape).
awk -F'\t' 'FILENAME == ARGV[1] {if (!/^#/ && !/^shape/ && !seen[$1]++) s[++n] = $1; next} {for (i = 1; i <= n; i++) print s[i] "\t" $1}' "$ours" "$limit" >"$limits"
# Median of each shape's rates in a file of "shape<TAB>rate" lines (header lines start with '#' or 'shape').
median() { awk -F'\t' '!/^#/ && !/^shape/ {print $1 "\t" $2}' "$1" | sort -t$'\t' -k1,1 -k2,2g |
  awk -F'\t' '{v[$1] = v[$1] " " $2; n[$1]++} END {for (s in v) {split(substr(v[s], 2), a, " "); print s "\t" a[int((n[s] + 1) / 2)]}}'; }
printf '%-16s %10s %10s %8s %9s\n' "shape MxKxN" "ZeroDL" "NumPy" "ratio" "of limit"
# Each round's ratio pairs the two timings taken back to back: a slow spell of the host spoils that round's pair alike,
# where a ratio of the two medians could pair one side's slow round with the other's quick one.
paired() { awk -F'\t' '!/^#/ && !/^shape/ {r = ++seen[FILENAME, $1]; if (FILENAME == ARGV[1]) a[$1, r] = $2; else if (($1, r) in a) print $1 "\t" a[$1, r] / $2}' "$1" "$2" |
  sort -t$'\t' -k1,1 -k2,2g |
  awk -F'\t' '{v[$1] = v[$1] " " $2; n[$1]++} END {for (s in v) {split(substr(v[s], 2), a, " "); print s "\t" a[int((n[s] + 1) / 2)]}}'; }
ours_med=$(median "$ours"); shares=$(paired "$ours" "$limits"); theirs_med=""; ratios=""
$have_numpy && theirs_med=$(median "$theirs") && ratios=$(paired "$ours" "$theirs")
# In the bench's order of shapes.
awk -F'\t' '!/^#/ && !/^shape/ && !seen[$1]++ {print $1}' "$ours" | while read -r shape; do
  rate=$(echo "$ours_med" | awk -F'\t' -v s="$shape" '$1 == s {print $2}')
  np=$(echo "$theirs_med" | awk -F'\t' -v s="$shape" '$1 == s {print $2}')
  share=$(echo "$shares" | awk -F'\t' -v s="$shape" '$1 == s {printf "%.2f", $2}')
  if [ -n "$np" ]; then
    ratio=$(echo "$ratios" | awk -F'\t' -v s="$shape" '$1 == s {printf "%.2f", $2}')
    printf '%-16s %10s %10s %8s %9s\n' "$shape" "$rate" "$np" "$ratio" "$share"
  else
    printf '%-16s %10s %10s %8s %9s\n' "$shape" "$rate" "-" "-" "$share"
  fi
done
