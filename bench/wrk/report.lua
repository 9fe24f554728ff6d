-- Shared by the bench's wrk scripts: one machine-readable line at the end of a run, read by run.sh.
-- RESULT <requests/s> <p50 µs> <p99 µs> <requests> <errors: connect+read+write+timeout> <non-2xx/3xx>
function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format("RESULT %.1f %d %d %d %d %d\n",
    summary.requests / secs, latency:percentile(50), latency:percentile(99), summary.requests,
    e.connect + e.read + e.write + e.timeout, e.status))
end
