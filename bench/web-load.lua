-- wrk script for bench/web-load.sh: POSTs the file WRK_BODY with Content-Type WRK_TYPE to the URL wrk is given, and
-- prints one line "rps … p99_ms … errors …" (errors: connect, read, write, timeout and non-2xx responses together).
local f = assert(io.open(os.getenv("WRK_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = os.getenv("WRK_TYPE")

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("rps %.0f p99_ms %.2f errors %d (non-2xx %d) requests %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout + e.status, e.status, summary.requests))
end
