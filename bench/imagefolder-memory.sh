#!/usr/bin/env bash
# Peak memory of reading an ImageFolder of many PNGs: writes COUNT (default 60,000) training images and a tenth as
# many test images, 32×32 RGB in 10 classes (a colour per class and a little noise), to a temporary folder, then runs
# `zerodl data --data DIR` under /usr/bin/time and prints its maximum resident set size next to the bytes the images
# take (COUNT × 3 × 32 × 32). With fashion-mnist as the second argument it measures `zerodl data --data fashion-mnist`
# (60,000 + 10,000 IDX images) the same way. The temporary folder is removed at the end.
# Usage: bench/imagefolder-memory.sh [COUNT] [fashion-mnist]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-60000}
dotnet build src/ZeroDL.Cli -c Release -v quiet -nologo >/dev/null
cli=src/ZeroDL.Cli/bin/Release/net10.0/zerodl-cli.dll
measure() {
  /usr/bin/time -v dotnet "$cli" data "$@" 2>/tmp/zerodl-time.$$ | head -n 3
  awk -F': ' '/Maximum resident set size/ {printf "peak resident: %.0f MiB\n", $2 / 1024} /Elapsed \(wall clock\)/ {print "wall: " $2}' /tmp/zerodl-time.$$
  rm -f /tmp/zerodl-time.$$
}
if [ "${2:-}" = fashion-mnist ]; then
  measure --data fashion-mnist
  exit 0
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir" "$count" <<'PY'
import os, random, struct, sys, zlib
root, count = sys.argv[1], int(sys.argv[2])
def png(pixels, w, h):
    raw = b''.join(b'\0' + pixels[y * w * 3:(y + 1) * w * 3] for y in range(h))
    def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw, 6)) + chunk(b'IEND', b'')
rng = random.Random(1)
# 50 noisy variants per class, made once; each file also carries its index in its first pixel, so no two are alike.
variants = [[bytes(min(255, max(0, ((c * 25) % 256, (c * 70) % 256, (c * 110) % 256)[k % 3] + rng.randint(-20, 20))) for k in range(32 * 32 * 3))
             for _ in range(50)] for c in range(10)]
for split, n in (('train', count), ('test', count // 10)):
    for i in range(n):
        c = i % 10
        pixels = struct.pack('>I', i)[1:] + variants[c][rng.randrange(50)][3:]
        folder = os.path.join(root, split, f'class{c}')
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f'{i:06d}.png'), 'wb') as f: f.write(png(pixels, 32, 32))
PY
echo "$count + $((count / 10)) PNGs of 3×32×32 written ($(du -sh "$dir" | cut -f1) on disk); the images take $(( (count + count / 10) * 3072 / 1048576 )) MiB as bytes"
measure --data "$dir"
