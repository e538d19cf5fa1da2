#!/usr/bin/env bash
# Shows, under strace, that a save (here `zerodl train --out`) fsyncs the model's folder after renaming the model
# into it: without that fsync the rename can be lost to a power cut. Not a timing: no lock needed. Needs strace.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v strace >/dev/null || { echo "strace is needed (Debian package strace)" >&2; exit 1; }
dotnet build src/ZeroDL.Cli -c Release -v quiet >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
strace -f -qq -e trace=openat,rename,renameat,renameat2,fsync,close -o "$out/trace" \
  dotnet src/ZeroDL.Cli/bin/Release/net10.0/zerodl-cli.dll train --model twolayer --iterations 10 --out "$out/m.safetensors" >/dev/null
# Follow the writing thread from the rename onto m.safetensors: an O_DIRECTORY open of the folder, then fsync of it.
awk -v dir="\"$out\"" '
  { pid = $1; sub(/^[0-9]+ +/, "") }
  /^rename.*m\.safetensors"/ && / = 0$/ { writer = pid; print; next }
  writer && pid == writer && index($0, dir ", O_RDONLY|O_CLOEXEC|O_DIRECTORY)") && fd == "" { fd = $NF; print; next }
  fd != "" && pid == writer && $0 ~ "^fsync\\(" fd "\\)" { print; synced = ($NF == 0); exit }
  # strace splits a call when a line of another thread comes between its start and end: "fsync(5 <unfinished ...>", later "<... fsync resumed>) = 0".
  fd != "" && pid == writer && $0 ~ "^fsync\\(" fd " <unfinished \\.\\.\\.>" { print; pending = 1; next }
  pending && pid == writer && /^<\.\.\. fsync resumed>/ { print; synced = ($NF == 0); exit }
  fd != "" && pid == writer && $0 ~ "^close\\(" fd "\\)" { exit }
  END { exit !synced }' "$out/trace" && echo "OK: the folder was fsynced after the rename" \
  || { echo "FAIL: no fsync of the folder after the rename" >&2; exit 1; }
