#!/usr/bin/env bash
# Every row of the README's benchmark table, one after the other, with the peers (NumPy, PyTorch from Debian's
# python3-numpy / python3-torch) where they are installed, and the two training runs the README times. Takes about 40 minutes on a 2-core machine; run it on a
# quiet machine and compare ratios, not absolute times.   Usage: bench/all.sh
set -euo pipefail
cd "$(dirname "$0")/.."
section() { printf '\n== %s\n' "$1"; }
section "SGEMM, 1 thread";  bench/gemm.sh --threads 1
section "SGEMM, 2 threads"; bench/gemm.sh --threads 2
if command -v perf >/dev/null && perf stat -x, -e cycles:u true 2>&1 | grep -q '^[0-9]*,,cycles'; then
  section "SGEMM, FLOP per cycle, 1 thread"; bench/gemm-cycles.sh --threads 1
  section "SGEMM, FLOP per cycle, 2 threads"; bench/gemm-cycles.sh --threads 2
else
  section "SGEMM, FLOP per cycle: skipped (no perf with a cycle counter; Debian's linux-perf)"
fi
section "The book's ch. 5 run (TwoLayerNet, 10,000 iterations), against NumPy and PyTorch"; bench/twolayer.sh 3 --torch
section "CNN training, one epoch extrapolated from 60 mini-batches"; bench/convnet.sh 3 60
section "Augmentation's cost"; bench/augment.sh 3 100
section "The book's DeepConvNet, inference on the 10,000 test images and batch-1 latency"; bench/inference.sh 3 2
section "Web app under load (the book's DeepConvNet weights)"
model=$(mktemp -d)/deepconv.safetensors
dotnet run -c Release --project src/ZeroDL.Cli -- import --from data/reference/deep_convnet_2016.npz --model deepconv --out "$model"
dotnet run -c Release --project bench/ZeroDL.Bench -- web-load --model "$model" --clients 8 --seconds 10
section "Training-step profile and memory (DeepConvNet)"
dotnet run -c Release --project bench/ZeroDL.Bench -- convnet-train --model deepconv --iterations 30 --profile
section "Default zerodl train (dense, 12 epochs)"
dotnet run -c Release --project src/ZeroDL.Cli -- train --out "$(dirname "$model")/dense.safetensors"
section "DeepConvNet to 99 % (the training-results table's 2-epoch recipe)"
dotnet run -c Release --project src/ZeroDL.Cli -- train --model deepconv-fast \
  --eval-samples 1000 --out "$(dirname "$model")/deepconv99.safetensors"
section "Cold start (a fresh process's first training steps)"
# The built program, not `dotnet run`: started with its build step, the first steps measured 1.8-1.9x slower.
dotnet build bench/ZeroDL.Bench -c Release -v quiet -nologo >/dev/null
dotnet bench/ZeroDL.Bench/bin/Release/net10.0/ZeroDL.Bench.dll cold-start --model deepconv --iterations 60
