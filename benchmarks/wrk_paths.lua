-- For wrk (a load generator written in C, `apt-get install wrk`): each request GETs a
-- path picked at random from a file of paths, one per line (the file name follows `--`).
-- At the end one line: WRK requests p50_ms p95_ms p99_ms seconds errors.
-- benchmarks/serve.py runs it so that the clients' own work stays off the server's
-- cores: Python clients in threads use as much CPU as the server does.
local paths = {}

init = function(args)
  for line in io.lines(args[1]) do
    paths[#paths + 1] = line
  end
  math.randomseed(os.time())
end

request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %d %.1f %.1f %.1f %.2f %d\n", summary.requests,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.duration / 1e6,
    e.connect + e.read + e.write + e.status + e.timeout))
end
