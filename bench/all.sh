#!/usr/bin/env bash
# Every benchmark, one after the other, with the peers (NumPy, PyTorch from Debian's python3-numpy / python3-torch)
# where they are installed. Prints each script's full output, then inserts a dated section into docs/benchmarks.md:
# the commit, the CPU model, its ISA flags and each script's summary lines. About 40 minutes on a 2-core machine;
# run it on a quiet machine and compare ratios, not absolute times.
# Usage: bench/all.sh [--out FILE] [--dry-run]
#   --out FILE   the Markdown file to insert the section into (default docs/benchmarks.md)
#   --dry-run    run nothing: each step prints the command it would run, and the section is written from that,
#                to check the writing part in seconds
set -uo pipefail
cd "$(dirname "$0")/.."
out=docs/benchmarks.md; dry=false
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=${2:?--out needs a file}; shift 2 ;;
    --dry-run) dry=true; shift ;;
    *) echo "usage: bench/all.sh [--out FILE] [--dry-run]" >&2; exit 2 ;;
  esac
done
marker='<!-- bench/all.sh inserts each new run below this line -->'
if [ -e "$out" ] && [ ! -w "$out" ]; then echo "bench/all.sh: cannot write $out" >&2; exit 1; fi
work=$(mktemp -d); tmp=""; trap 'rm -rf "$work"; [ -z "$tmp" ] || rm -f "$tmp"' EXIT
summary=$work/summary.md; : >"$summary"
started=$(date -u '+%Y-%m-%d %H:%M UTC')

# step TITLE PATTERN COMMAND…: runs the command with its output on the terminal; the lines matching the extended
# regular expression PATTERN go into the section under TITLE. A failing step is recorded as failed, and the run
# goes on to the next.
step() {
  local title=$1 pattern=$2; shift 2
  printf '\n== %s\n' "$title"
  local log=$work/step.log rc
  if $dry; then
    echo "dry run: $*" | tee "$log"; rc=0; pattern=.
  else
    "$@" 2>&1 | tee "$log"; rc=${PIPESTATUS[0]}
  fi
  {
    printf '#### %s\n\n```\n' "$title"
    grep -E -- "$pattern" "$log" || echo "(no summary lines)"
    [ "$rc" = 0 ] || echo "FAILED: exit code $rc"
    printf '```\n\n'
  } >>"$summary"
}

# The peers, checked before 40 minutes of work: which BLAS they multiply with, and a refusal (exit 3) when it is
# netlib's reference BLAS. Their lines go into the section's header.
py=$(command -v /usr/bin/python3 || command -v python3 || true)
. bench/peer-env.sh
peers=$work/peers; : >"$peers"
for peer in numpy torch; do
  if $dry || [ -z "$py" ] || ! "$py" -c "import $peer" 2>/dev/null; then continue; fi
  line=$("${peer_env[@]}" "$py" bench/python/peer_blas.py "$peer") || exit 3
  echo "$line" | tee -a "$peers"
done

have_perf_cycles() { command -v perf >/dev/null && perf stat -x, -e cycles:u true 2>&1 | grep -q '^[0-9]*,,cycles'; }
models=$work/models; mkdir -p "$models"
cli=(dotnet run -c Release --project src/ZeroDL.Cli --)
bench=(dotnet run -c Release --project bench/ZeroDL.Bench --)

step "SGEMM, 1 thread" . bench/gemm.sh --threads 1
# The goals are on 2 threads: five rounds there, so that one slow round on either side does not decide the median.
step "SGEMM, 2 threads" . bench/gemm.sh --threads 2 --rounds 5
if $dry || have_perf_cycles; then
  step "SGEMM, FLOP per cycle, 1 thread" . bench/gemm-cycles.sh --threads 1
  step "SGEMM, FLOP per cycle, 2 threads" . bench/gemm-cycles.sh --threads 2
else
  printf '#### SGEMM, FLOP per cycle\n\nSkipped: no perf with a cycle counter (Debian'"'"'s linux-perf).\n\n' >>"$summary"
fi
step "The book's ch. 5 run (TwoLayerNet, 10,000 iterations), against NumPy and PyTorch" \
  '^# (NumPy|PyTorch)|median|best|as fast|the time of' bench/twolayer.sh 3 --torch
step "CNN training, one epoch extrapolated from 60 mini-batches" '^# PyTorch|median|best|ratio|limit' bench/convnet.sh 3 60
step "Augmentation's cost" 'medians' bench/augment.sh 3 100
step "The book's DeepConvNet, inference on the 10,000 test images and batch-1 latency" \
  '^# PyTorch|median|best|throughput' bench/inference.sh 3 2
if ! $dry; then
  "${cli[@]}" import --from data/reference/deep_convnet_2016.npz --model deepconv --out "$models/deepconv.safetensors" >/dev/null
fi
step "Web app under load (the book's DeepConvNet weights, 8 clients, 10 s)" \
  '^(requests_per_second|latency_p50_ms|latency_p99_ms|errors|peak_resident_mib) ' \
  "${bench[@]}" web-load --model "$models/deepconv.safetensors" --clients 8 --seconds 10
step "Training step profile and memory (DeepConvNet, 30 mini-batches)" . \
  "${bench[@]}" convnet-train --model deepconv --iterations 30 --profile
step "Default zerodl train (dense, 12 epochs)" '^(Training|  [a-z]+ lr|Test accuracy)' \
  "${cli[@]}" train --out "$models/dense.safetensors"
step "DeepConvNet to 99 % (deepconv-fast, 2 epochs)" '^(Training|  [a-z]+ lr|Test accuracy)' \
  "${cli[@]}" train --model deepconv-fast --eval-samples 1000 --out "$models/deepconv99.safetensors"
# The built program, not `dotnet run`: the build step leaves servers busy on the cores during the first steps.
$dry || dotnet build bench/ZeroDL.Bench -c Release -v quiet -nologo >/dev/null
step "Cold start (a fresh process's first training steps)" '^(first_|steady_|steps_)' \
  dotnet bench/ZeroDL.Bench/bin/Release/net10.0/ZeroDL.Bench.dll cold-start --model deepconv --iterations 60

# The section: when, which code, which machine, then every step's summary lines.
commit=$(git rev-parse --short HEAD 2>/dev/null || echo "not a git checkout")
# Changes to the output file itself do not count: it is what this script writes.
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null | awk -v f="$out" '$NF != f')" ]; then
  commit="$commit, with uncommitted changes"
fi
# A VM may name its CPU only by brand ("AMD EPYC"); the family and model numbers tell the generation.
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n1)
[ -n "$cpu" ] || cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)
[ -n "$cpu" ] || cpu="not recorded (neither /proc/cpuinfo nor lscpu names it)"
family=$(sed -n 's/^cpu family[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n1)
model=$(sed -n 's/^model[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n1)
[ -z "$family" ] || cpu="$cpu (family $family, model $model)"
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || lscpu 2>/dev/null | grep -m1 '^Flags')
isa() { if printf '%s\n' "$flags" | grep -qw "$1"; then echo "$1 yes"; else echo "$1 no"; fi; }
section=$work/section.md
{
  printf '### %s, commit %s%s\n\n' "$started" "$commit" "$($dry && echo ' (dry run: nothing measured)')"
  printf -- '- CPU: %s, %s logical CPUs\n' "$cpu" "$(nproc)"
  printf -- '- ISA: %s, %s\n' "$(isa avx2)" "$(isa avx512f)"
  [ -s "$peers" ] && sed 's/^# /- Peer: /' "$peers"
  printf -- '- Command: `bench/all.sh%s`, finished %s\n\n' "$($dry && echo ' --dry-run')" "$(date -u '+%H:%M UTC')"
  cat "$summary"
} >"$section"
# Insert under the marker (or append when the file has none), through a temporary file renamed into place.
[ -e "$out" ] || printf '# Benchmarks\n\n## Runs written by bench/all.sh\n\n%s\n' "$marker" >"$out"
tmp=$(mktemp "$(dirname "$out")/.benchmarks.XXXXXX")
chmod --reference="$out" "$tmp" 2>/dev/null || chmod 644 "$tmp"
if grep -qxF -- "$marker" "$out"; then
  awk -v marker="$marker" -v section="$section" '
    { print }
    $0 == marker && !done { print ""; while ((getline line < section) > 0) print line; done = 1 }' "$out" >"$tmp"
else
  { cat "$out"; echo; cat "$section"; } >"$tmp"
fi
mv "$tmp" "$out"
printf '\nWrote the summary into %s\n' "$out"
