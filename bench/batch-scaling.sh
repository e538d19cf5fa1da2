#!/usr/bin/env bash
# How large a global batch data-parallel training can use on MNIST: the default dense preset (Adam 0.001 at batch 100,
# 12 epochs) at global batches of 100 … 6400 with the linear scaling rule (rate × batch/100) and a linear warm-up over
# the first 2 epochs. One process stands in for N ranks: tests/ZeroDL.Tests/DistributedCliTests shows 2 ranks of
# batch B/2 give one process of batch B's weights to float rounding, so the accuracy is the same.
set -euo pipefail
cd "$(dirname "$0")/.."
cli=${ZERODL_CLI:-src/ZeroDL.Cli/bin/Release/net10.0/zerodl-cli.dll}
[ -n "${ZERODL_CLI:-}" ] || dotnet build src/ZeroDL.Cli -c Release -v quiet >/dev/null
out=bench/out/batch-scaling
mkdir -p "$out"
echo "global batch | learning rate | warm-up iterations | test accuracy | training time"
for batch in ${BATCHES:-100 400 1600 6400}; do
  lr=$(awk "BEGIN { print 0.001 * $batch / 100 }")
  warmup=$(( 2 * ((60000 + batch - 1) / batch) ))
  line=$(dotnet "$cli" train --model dense --batch-size "$batch" --lr "$lr" --warmup "$warmup" --eval-samples 1000 \
           --threads "${THREADS:-2}" --out "$out/dense-$batch.safetensors" | grep "Test accuracy")
  acc=$(sed -n 's/Test accuracy: \([0-9.]* %\).*/\1/p' <<<"$line")
  secs=$(sed -n 's/.*; \([0-9.]*\) s of training.*/\1/p' <<<"$line")
  echo "$batch | $lr | $warmup | $acc | $secs s"
done
