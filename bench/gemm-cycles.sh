#!/usr/bin/env bash
# FLOP per CPU cycle of ZeroDL's GEMM and, where python3 with numpy is installed, of NumPy/OpenBLAS on the same
# shapes, counted by `perf stat` (the cycles of all the run's threads, user and kernel mode, start-up and warm-up left
# out). Kernel mode counts because a thread that waits for another may wait there: OpenBLAS's threads yield to the
# kernel (sched_yield) where ZeroDL's spin in user mode, so user-mode cycles alone would flatter OpenBLAS on two
# threads (docs/benchmarks.md has the counts). Where perf may not count kernel mode (perf_event_paranoid ≥ 2 without
# root), it counts user mode only and says so.
# A cycle count does not grow while another process or VM holds the core, so it leaves out the time slices a shared
# machine takes away, which move bench/gemm.sh's GFLOP/s most. It is not immune to the load: a busy sibling
# hyperthread or a neighbour's use of the shared cache and memory still costs cycles. Nor does it see a thread waiting
# off the core: with several threads it is the work's CPU cost, not its wall time. So gemm.sh stays the measure of
# speed, and this one a second view of it and the steadier way to compare two builds (--baseline).
# With --baseline DLL (ZeroDL.Bench.dll built from another commit), the two columns are that build and this one.
# Usage: bench/gemm-cycles.sh [--threads N] [--rounds R] [--shape "MxKxN[At|Bt],…"] [--baseline DLL]
#        (defaults: 1 thread, 3 rounds, the bench's shapes, ZeroDL against NumPy)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=1; rounds=3; baseline=""
shapes="1024x1024x1024,100x784x50,100x4320x100,25600x288x32,6400x576x64,57600x25x30,784x100x50At,100x50x784Bt,288x25600x32At,25600x32x288Bt"
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --shape) shapes=$2; shift 2 ;;
    --baseline) baseline=$2; shift 2 ;;
    *) echo "usage: bench/gemm-cycles.sh [--threads N] [--rounds R] [--shape \"MxKxN[At|Bt],…\"] [--baseline DLL]" >&2; exit 2 ;;
  esac
done
if ! command -v perf >/dev/null || ! perf stat -x, -e cycles:u true 2>&1 | grep -q '^[0-9]*,,cycles'; then
  echo "bench/gemm-cycles.sh: needs perf with a cycle counter (Debian's linux-perf; 'perf stat -e cycles:u true' must count)" >&2
  exit 1
fi
dotnet build bench/ZeroDL.Bench -c Release -v quiet -nologo >/dev/null
py=$(command -v /usr/bin/python3 || command -v python3 || true)
. bench/peer-env.sh
have_numpy=false
if [ -n "$baseline" ] && [ ! -f "$baseline" ]; then echo "bench/gemm-cycles.sh: no such file: $baseline" >&2; exit 2; fi
if [ -z "$baseline" ] && [ -n "$py" ] && "$py" -c 'import numpy' 2>/dev/null; then have_numpy=true; fi
# Which BLAS NumPy multiplies with (exit 3 on netlib's reference BLAS).
if $have_numpy; then "${peer_env[@]}" OPENBLAS_NUM_THREADS="$threads" "$py" bench/python/peer_blas.py numpy || exit 3; fi
bench=bench/ZeroDL.Bench/bin/Release/net10.0/ZeroDL.Bench.dll
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkfifo "$work/ctl" "$work/ack"
events=cycles:u,cycles:k; modes="user and kernel mode"
if ! perf stat -x, -e cycles:k true 2>&1 | grep -q '^[0-9]*,,cycles:k'; then events=cycles:u; modes="user mode only: perf may not count kernel mode here"; fi
# cycles COMMAND…: the cycles perf counted ($events, summed) while the command had its counters switched on.
cycles() {
  PERF_CTL_FIFO="$work/ctl" PERF_ACK_FIFO="$work/ack" perf stat -x, -e "$events" -D -1 --control "fifo:$work/ctl,$work/ack" \
    -o "$work/stat" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  awk -F, '$3 ~ /^cycles:[uk]$/ {sum += $1} END {printf "%.0f\n", sum}' "$work/stat"
}
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
if [ -n "$baseline" ]; then
  echo "# ZeroDL GEMM, $baseline against this build, threads $threads, $rounds alternating rounds, medians"
  header=("before" "this" "this/before")
else
  echo "# ZeroDL GEMM$($have_numpy && echo " and NumPy $("$py" -c 'import numpy; print(numpy.__version__)')"), threads $threads, $rounds alternating rounds, medians"
  header=("ZeroDL" "NumPy" "ratio")
fi
echo "# FLOP per cycle: cycles of all threads, $modes (an AVX2 core with two FMA units tops out at 32, an AVX-512 one at 64)"
printf '%-18s %7s %8s %8s %8s\n' "shape MxKxN" "calls" "${header[@]}"
IFS=',' read -ra list <<<"$shapes"
for shape in "${list[@]}"; do
  dims=${shape%At}; dims=${dims%Bt}
  flop=$(echo "$dims" | awk -Fx '{printf "%.0f", 2 * $1 * $2 * $3}')
  # About 6·10^10 FLOP a run, long enough to dwarf perf's start-up, and at least 3 calls.
  calls=$(awk -v f="$flop" 'BEGIN {c = int(6e10 / f); print c < 3 ? 3 : c}')
  : >"$work/ours"; : >"$work/theirs"
  for _ in $(seq "$rounds"); do
    if [ -n "$baseline" ]; then
      cycles dotnet "$baseline" gemm-calls --threads "$threads" --shape "$shape" --calls "$calls" >>"$work/ours"
      cycles dotnet "$bench" gemm-calls --threads "$threads" --shape "$shape" --calls "$calls" >>"$work/theirs"
      continue
    fi
    cycles dotnet "$bench" gemm-calls --threads "$threads" --shape "$shape" --calls "$calls" >>"$work/ours"
    if $have_numpy; then
      # The peer runs under bench/peer-env.sh's environment (its best kernel for this CPU); ours keeps the environment.
      cycles "${peer_env[@]}" OPENBLAS_NUM_THREADS="$threads" "$py" bench/python/gemm_numpy.py \
        --shape "$shape" --calls "$calls" >>"$work/theirs"
    fi
  done
  ours=$(median <"$work/ours" | awk -v f="$flop" -v c="$calls" '{printf "%.2f", f * c / $1}')
  if $have_numpy || [ -n "$baseline" ]; then
    theirs=$(median <"$work/theirs" | awk -v f="$flop" -v c="$calls" '{printf "%.2f", f * c / $1}')
    printf '%-18s %7s %8s %8s %8s\n' "$shape" "$calls" "$ours" "$theirs" "$(awk -v a="$ours" -v b="$theirs" -v s="$baseline" 'BEGIN {printf "%.2f", s == "" ? a / b : b / a}')"
  else
    printf '%-18s %7s %8s %8s %8s\n' "$shape" "$calls" "$ours" "-" "-"
  fi
done
