#!/usr/bin/env bash
# Coverage-guided fuzzing of ZeroDL's parsers with afl-fuzz (Debian: apt-get install afl++) and SharpFuzz.
#
#   fuzz/run.sh [MINUTES] [TARGET...]     default: 10 minutes for every target, one after the other
#
# Builds fuzz/ZeroDL.Fuzz into fuzz/out/build, instruments its copy of ZeroDL.dll with sharpfuzz (the
# SharpFuzz.CommandLine dotnet tool, installed into fuzz/out/tools on first use), runs afl-fuzz on each target for
# MINUTES with the seeds in fuzz/corpus/<target> (and the tokens in fuzz/dict/<target>.dict), and prints per
# target: minutes, executions, paths, crashes, hangs.
# Findings stay in fuzz/out/findings/<target>/default/{crashes,hangs}; replay one with
#   dotnet fuzz/out/replay/ZeroDL.Fuzz.dll TARGET FILE      (fuzz/triage.sh groups them all)
# and add it to tests/ZeroDL.Tests/data/fuzz/<target>/ (the unit suite replays every file there).
#
# Each input runs under a 512 MiB managed-heap cap (DOTNET_GCHeapHardLimit): a parser that tries to allocate
# more than that for a fuzzer-sized input (at most 1 MB) throws OutOfMemoryException, which afl records as a crash.
# An input that runs longer than FUZZ_TIMEOUT_MS (default 2000) is recorded as a hang.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
shift || true
all=(safetensors model npy npz idx idx-gzip png pgm predict-png)
if [[ $# -gt 0 ]]; then targets=("$@"); else targets=("${all[@]}"); fi
out=fuzz/out
command -v afl-fuzz >/dev/null || { echo "afl-fuzz not found: apt-get install afl++" >&2; exit 1; }

if [[ ! -x $out/tools/sharpfuzz ]]; then
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$out/tools" >/dev/null
fi
rm -rf "$out/build" "$out/replay"
dotnet build fuzz/ZeroDL.Fuzz -c Release -o "$out/build" -nologo -v q
cp -r "$out/build" "$out/replay"   # uninstrumented, for replaying findings outside afl-fuzz (fuzz/triage.sh)
"$out/tools/sharpfuzz" "$out/build/ZeroDL.dll"

export AFL_SKIP_BIN_CHECK=1            # the target is `dotnet`, not an afl-instrumented binary
export AFL_SKIP_CPUFREQ=1              # a shared VM: no control over the CPU governor
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1   # core_pattern may pipe cores elsewhere
export AFL_NO_UI=1
export AFL_NO_AFFINITY=1               # the cores are shared with other work
export DOTNET_GCHeapHardLimit=0x20000000
export DOTNET_TieredPGO=0
export TMPDIR=${TMPDIR:-/dev/shm}      # the scratch files of file-only parsers
timeout_ms=${FUZZ_TIMEOUT_MS:-2000}

summary=()
for t in "${targets[@]}"; do
  [[ -d fuzz/corpus/$t ]] || { echo "no corpus for target '$t' (targets: ${all[*]})" >&2; exit 2; }
  findings=$out/findings/$t
  rm -rf "$findings"; mkdir -p "$out/findings"
  dict=(); [[ -f fuzz/dict/$t.dict ]] && dict=(-x "fuzz/dict/$t.dict")   # the format's tokens, to splice in
  echo "== $t: $minutes min"
  # -V: stop after that many seconds; -m none: .NET reserves far more address space than it uses.
  afl-fuzz -i "fuzz/corpus/$t" -o "$findings" "${dict[@]}" -t "$timeout_ms" -m none -V $((minutes * 60)) \
    -- dotnet "$out/build/ZeroDL.Fuzz.dll" "$t" > "$out/$t.log" 2>&1 || { echo "afl-fuzz failed, see $out/$t.log" >&2; tail -20 "$out/$t.log" >&2; }
  stats=$findings/default/fuzzer_stats
  if [[ -f $stats ]]; then
    get() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
    execs=$(get execs_done); paths=$(get corpus_count); [[ -z $paths ]] && paths=$(get paths_total)
    crashes=$(get saved_crashes); [[ -z $crashes ]] && crashes=$(get unique_crashes)
    hangs=$(get saved_hangs); [[ -z $hangs ]] && hangs=$(get unique_hangs)
    run=$(( $(get last_update) - $(get start_time) ))
    summary+=("$(printf '%-12s %7.1f %12s %7s %8s %6s' "$t" "$(echo "$run / 60" | bc -l)" "$execs" "$paths" "$crashes" "$hangs")")
  else
    summary+=("$(printf '%-12s  no fuzzer_stats (see %s)' "$t" "$out/$t.log")")
  fi
done
echo
printf '%-12s %7s %12s %7s %8s %6s\n' target minutes executions paths crashes hangs
printf '%s\n' "${summary[@]}"
