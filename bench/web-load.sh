#!/usr/bin/env bash
# Load test of `zerodl serve` on 127.0.0.1:PORT (default 5087) with wrk: POST /api/predict with JSON pixels (MNIST test
# image 0, a 7, as {"pixels": [784 numbers]}) and with a PNG (that 7 drawn dark on white at 280×280, as the Draw page
# sends), each at 8 and 64 connections for SECONDS (default 30) on 2 wrk threads. The model is the default dense preset
# trained for 1 epoch (made once under bench/out/). Prints requests/s, p99 latency and errors per run, and the server's
# VmRSS after each run and its VmHWM (peak) at the end, from /proc/PID/status.
# ZERODL_CLI=path/to/zerodl-cli.dll measures another build (e.g. an earlier commit's, for a before/after pair).
# Usage: bench/web-load.sh [SECONDS] [PORT]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}; port=${2:-5087}
cli=${ZERODL_CLI:-src/ZeroDL.Cli/bin/Release/net10.0/zerodl-cli.dll}
[ -n "${ZERODL_CLI:-}" ] || dotnet build src/ZeroDL.Cli -c Release -v quiet -nologo >/dev/null
out=bench/out/web-load; mkdir -p "$out/models"
if [ ! -f "$out/models/dense.safetensors" ]; then
  dotnet "$cli" train --model dense --epochs 1 --eval-samples 1000 --out "$out/models/dense.safetensors" >/dev/null
fi
python3 - "$out" <<'PY'
import gzip, json, struct, sys, zlib
out = sys.argv[1]
with gzip.open('data/mnist/t10k-images-idx3-ubyte.gz') as f:
    f.read(16); img = f.read(784)
json.dump({'pixels': [round(b / 255, 4) for b in img]}, open(f'{out}/seven.json', 'w'))
w = h = 280
rows = [bytes(255 - img[(y // 10) * 28 + x // 10] for x in range(w)) for y in range(h)]
raw = b''.join(b'\0' + r for r in rows)
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
open(f'{out}/seven.png', 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 0, 0, 0, 0))
    + chunk(b'IDAT', zlib.compress(raw, 6)) + chunk(b'IEND', b''))
PY
dotnet "$cli" serve --models "$out/models" --port "$port" --runs "$out/none" >"$out/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/api/models" >/dev/null && break; sleep 0.2; done
# The server is the dotnet process itself (no wrapper), so its /proc entry is $pid's.
rss() { awk -v k="$1" '$1 == k":" {printf "%.0f MiB", $2 / 1024}' "/proc/$pid/status"; }
echo "check: $(curl -s -H 'Content-Type: application/json' --data-binary @"$out/seven.json" "http://127.0.0.1:$port/api/predict" | head -c 60)…"
for kind in json png; do
  type=$([ "$kind" = json ] && echo application/json || echo image/png)
  body=$([ "$kind" = json ] && echo "$out/seven.json" || echo "$out/seven.png")
  for c in 8 64; do
    r=$(WRK_BODY="$body" WRK_TYPE="$type" wrk -t2 -c"$c" -d"${seconds}s" --latency -s bench/web-load.lua "http://127.0.0.1:$port/api/predict" | grep '^rps')
    echo "$kind c=$c: $r; VmRSS $(rss VmRSS)"
  done
done
echo "VmHWM (peak resident) $(rss VmHWM)"
