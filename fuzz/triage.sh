#!/usr/bin/env bash
# Groups what fuzz/run.sh found: replays every crash and hang of each TARGET (default: all with findings) through
# the uninstrumented harness fuzz/run.sh built, and prints one line per distinct failure (exception type and the first ZeroDL frame with its line,
# or "timeout"), how many inputs gave it, and the smallest such input: the one to keep as a regression file.
#
#   fuzz/triage.sh [TARGET...]
set -uo pipefail
cd "$(dirname "$0")/.."
out=fuzz/out
[[ -f $out/replay/ZeroDL.Fuzz.dll ]] || { echo "run fuzz/run.sh first" >&2; exit 1; }
if [[ $# -gt 0 ]]; then targets=("$@"); else targets=($(ls "$out/findings" 2>/dev/null)); fi
export DOTNET_GCHeapHardLimit=0x20000000 TMPDIR=${TMPDIR:-/dev/shm}
for t in "${targets[@]}"; do
  declare -A count=() smallest=()
  for f in "$out/findings/$t"/default/{crashes,hangs}/id*; do
    [[ -f $f ]] || continue
    log=$(timeout 20 dotnet "$out/replay/ZeroDL.Fuzz.dll" "$t" "$f" 2>&1); rc=$?
    if [[ $rc -eq 124 ]]; then sig="timeout (over 20 s)"
    elif [[ $rc -eq 0 ]]; then sig="no longer fails (${log##*: })"
    else
      type=$(grep -m1 -oE '(Unhandled exception\. )?[A-Za-z.]+(Exception|Error)' <<<"$log" | sed 's/Unhandled exception\. //')
      frame=$(grep -m1 -E '^ +at ZeroDL\.' <<<"$log" | sed -E 's/^ +at ([^(]+)\(.*[/\\]([^/\\]+:line [0-9]+)$/at \1 (\2)/; s/^ +at ([^(]+)\(.*/at \1/')
      sig="$type ${frame:-}"
    fi
    count[$sig]=$(( ${count[$sig]:-0} + 1 ))
    size=$(stat -c %s "$f")
    if [[ -z ${smallest[$sig]:-} ]] || (( size < $(stat -c %s "${smallest[$sig]}") )); then smallest[$sig]=$f; fi
  done
  echo "== $t"
  for sig in "${!count[@]}"; do printf '%4d  %s\n      %s\n' "${count[$sig]}" "$sig" "${smallest[$sig]}"; done
  unset count smallest
done
