#!/usr/bin/env bash
# Issue 20's ONNX figures: every preset (and two variants) trained briefly (--iterations, default 300 mini-batches of 100) plus the book's
# trained DeepConvNet, each exported to ONNX and run on the 10,000 MNIST test images in ONNX Runtime against ZeroDL
# (bench/OnnxCheck: accuracy of both, predictions that differ, largest probability difference), then every exported
# file and the PyTorch fixture cross-checked with onnx.checker (full check) and OpenCV's dnn module
# (bench/python/onnx_crosscheck.py; needs apt-get install -y python3-onnx python3-opencv).
# Usage: bench/onnx.sh [ITERATIONS] [OUT_DIR]     (run from the repository root; keep the machine otherwise idle)
set -euo pipefail
cd "$(dirname "$0")/.."
iterations=${1:-300}
out=${2:-$(mktemp -d)}
mkdir -p "$out"
dotnet build src/ZeroDL.Cli -c Release -v q -nologo > /dev/null
zerodl() { dotnet src/ZeroDL.Cli/bin/Release/net10.0/zerodl-cli.dll "$@"; }
models=()
# Every preset, then what no preset has: per-activation BatchNorm on images, Tanh with classic dropout.
runs=(dense twolayer mlp mlp-bn simpleconv deepconv deepconv-aug deepconv-fast
  "deepconv-bn-per-activation:--model deepconv-fast --batchnorm --batchnorm-mode per-activation"
  "mlp-bn-tanh-classic-dropout:--model mlp-bn --activation tanh --dropout 0.2 --dropout-mode classic")
for run in "${runs[@]}"; do
  name=${run%%:*}; options=${run#*:}
  [ "$name" = "$run" ] && options="--model $name"
  # shellcheck disable=SC2086 # the options are words
  zerodl train $options --iterations "$iterations" --eval-samples 1000 --out "$out/$name.safetensors" > "$out/$name.log"
  models+=("$out/$name.safetensors")
done
zerodl import --from data/reference/deep_convnet_2016.npz --model deepconv --out "$out/book-deepconv.safetensors" > /dev/null
models+=("$out/book-deepconv.safetensors")
echo "## ONNX Runtime against ZeroDL ($iterations training iterations per preset; the book's DeepConvNet as published)"
dotnet run -c Release --project bench/OnnxCheck -- "${models[@]}" tests/ZeroDL.Tests/data/onnx/torch_mnist.onnx
echo
echo "## onnx.checker and OpenCV"
/usr/bin/python3 bench/python/onnx_crosscheck.py "${models[@]/.safetensors/.onnx}" tests/ZeroDL.Tests/data/onnx/torch_mnist.onnx
echo "(models in $out)"
