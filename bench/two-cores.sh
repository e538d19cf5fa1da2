#!/usr/bin/env bash
# Whether this host slows its cores down when both are busy: a one-thread product small enough to stay in one core's
# L2 (144×256×256 by default, so that neither a shared cache nor threads meeting play a part) is timed in one process
# alone, then in two processes at once, ROUNDS times. On a quiet host the two at once each run as fast as one alone;
# in a shared host's slow spells both drop together, and so does any product on two threads, ours or OpenBLAS's
# (docs/benchmarks.md, issue 22's eleventh round).
# Usage: bench/two-cores.sh [--rounds R] [--shape MxKxN] [--kernel auto|avx512|avx2]   (defaults: 5, 144x256x256, auto)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=5; shape=144x256x256; kernel=auto
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --shape) shape=$2; shift 2 ;;
    --kernel) kernel=$2; shift 2 ;;
    *) echo "usage: bench/two-cores.sh [--rounds R] [--shape MxKxN] [--kernel auto|avx512|avx2]" >&2; exit 2 ;;
  esac
done
case "$rounds" in ''|*[!0-9]*|0) echo "bench/two-cores.sh: --rounds expects a whole number ≥ 1, not '$rounds'" >&2; exit 2 ;; esac
dotnet build bench/ZeroDL.Bench -c Release -v quiet -nologo >/dev/null
bench=bench/ZeroDL.Bench/bin/Release/net10.0/ZeroDL.Bench.dll
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
# Two timed batches of 2 s each, the better reported: the two processes' start-up skew (a fraction of a second) then
# leaves most of the better batch overlapping the other process's.
rate() { dotnet "$bench" gemm --threads 1 --kernel "$kernel" --shape "$shape,$shape" --seconds 2 | awk -F'\t' '!/^#/ && !/^shape/ {print $2}' | sort -g | tail -1; }
echo "# $shape on 1 thread ($kernel kernel): one process alone, then two at once; GFLOP/s, the better of two 2-s batches"
printf 'round\talone\ttogether(a)\ttogether(b)\ttogether/alone\n'
for round in $(seq "$rounds"); do
  alone=$(rate)
  # Waited for by PID, so that a failed process fails the script (a bare wait returns 0).
  rate >"$out/a" & pa=$!; rate >"$out/b" & pb=$!; wait "$pa"; wait "$pb"
  a=$(cat "$out/a"); b=$(cat "$out/b")
  awk -v r="$round" -v x="$alone" -v a="$a" -v b="$b" 'BEGIN {printf "%d\t%.1f\t%.1f\t%.1f\t%.3f\n", r, x, a, b, (a + b) / 2 / x}'
done | tee "$out/rows"
awk -F'\t' '{print $5}' "$out/rows" | sort -g | awk '{v[NR] = $1} END {printf "# median together/alone: %.3f over %d rounds (1.000: the cores do not slow each other)\n", v[int((NR + 1) / 2)], NR}'
