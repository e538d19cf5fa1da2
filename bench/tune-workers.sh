#!/usr/bin/env bash
# A shared study on PostgreSQL: trials per minute with 1 worker and with 3 workers, and a worker killed in the
# middle of a trial whose trial another worker runs again. Starts a private cluster (initdb/pg_ctl in a temporary
# directory on a free loopback port, as the postgres user when run as root) and stops it at the end.
# Usage: bench/tune-workers.sh [TRIALS] [EPOCHS]   (Debian: apt-get install postgresql)
set -euo pipefail
cd "$(dirname "$0")/.."
trials=${1:-12}; epochs=${2:-30}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/pg_ctl" ] || { echo "PostgreSQL's server programs are not installed (apt-get install postgresql)" >&2; exit 1; }
as=(); [ "$(id -u)" -eq 0 ] && as=(runuser -u postgres --)
dir=$(mktemp -d /tmp/zerodl-pg-XXXXXX); [ ${#as[@]} -gt 0 ] && chown postgres "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as[@]}" "$bin/initdb" -D "$dir/data" -U zerodl -A trust --no-sync >/dev/null
"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o "-p $port -c listen_addresses=127.0.0.1 -k $dir" start >/dev/null
trap '"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null; rm -rf "$dir"' EXIT
url="postgresql://zerodl@127.0.0.1:$port/postgres"
dotnet build src/ZeroDL.Cli -c Release -v quiet >/dev/null
cli=(dotnet src/ZeroDL.Cli/bin/Release/net10.0/zerodl-cli.dll tune --method random --trials "$trials" --epochs "$epochs" --storage "$url")
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $trials trials of $epochs epochs on 500 images"

for workers in 1 3; do
  start=$(date +%s.%N)
  for w in $(seq "$workers"); do "${cli[@]}" --study "w$workers" --out "bench/out/tune-w$workers" >/dev/null & done
  wait
  end=$(date +%s.%N)
  awk -v w="$workers" -v t="$trials" -v s="$start" -v e="$end" 'BEGIN { printf "%d worker(s): %.1f s, %.1f trials per minute\n", w, e - s, t / (e - s) * 60 }'
done

# A worker killed in the middle of a trial: the next claim after its heartbeat (5 s) went stale runs the trial again.
"${cli[@]}" --study killed --heartbeat-timeout 5 --out bench/out/tune-killed > "$dir/doomed.log" &
doomed=$!
until grep -q "claimed trial" "$dir/doomed.log"; do sleep 0.1; done
kill -9 "$doomed"; wait "$doomed" 2>/dev/null || true
echo "killed worker $doomed after: $(grep "claimed trial" "$dir/doomed.log" | tail -n 1)"
"${cli[@]}" --study killed --heartbeat-timeout 5 --out bench/out/tune-killed | grep -E "attempt|Trials:|failed on"
