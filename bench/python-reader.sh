#!/usr/bin/env bash
# Checks that tools/python/zerodl_safetensors.py (NumPy only) reproduces ZeroDL's outputs on the dense presets:
# trains each briefly, writes its test-set probabilities with `zerodl evaluate --outputs`, and compares them with
# the reader's forward pass (also for a float16 copy of one). Needs Debian's python3-numpy.
set -euo pipefail
cd "$(dirname "$0")/.."
py=$(command -v /usr/bin/python3 || command -v python3)
"$py" -c "import numpy" 2>/dev/null || { echo "python3 with numpy is needed (Debian package python3-numpy)" >&2; exit 1; }
dotnet build src/ZeroDL.Cli -c Release -v quiet >/dev/null
cli=(dotnet src/ZeroDL.Cli/bin/Release/net10.0/zerodl-cli.dll)
out=bench/out/python-reader
mkdir -p "$out"
pairs=()
# name:options — the four dense presets, and one with sigmoid and the book's classic dropout.
for run in twolayer:"--model twolayer" mlp:"--model mlp" mlp-bn:"--model mlp-bn" dense:"--model dense" \
           mlp-sigmoid-dropout:"--model mlp --activation sigmoid --dropout 0.2 --dropout-mode classic"; do
  model=${run%%:*}
  # shellcheck disable=SC2086
  "${cli[@]}" train ${run#*:} --iterations 600 --out "$out/$model.safetensors" >/dev/null
  "${cli[@]}" evaluate --model "$out/$model.safetensors" --outputs "$out/$model.npy" | grep "accuracy"
  pairs+=("$out/$model.safetensors" "$out/$model.npy")
done
"${cli[@]}" convert --model "$out/dense.safetensors" --out "$out/dense-f16.safetensors" --dtype f16 >/dev/null
"${cli[@]}" evaluate --model "$out/dense-f16.safetensors" --outputs "$out/dense-f16.npy" | grep "accuracy"
pairs+=("$out/dense-f16.safetensors" "$out/dense-f16.npy")
(cd bench/python && "$py" check_reader.py "${pairs[@]/#/../../}")
