-- bench/wrk/check.lua — the wrk script for every wrk workload: each write carries `depth` GET
-- requests (1: keep-alive or, with -H "Connection: close", connection per request; more:
-- pipelined), and every response is checked against the one every bench server must send
-- (bench/servers/http.ts): status 200, exactly the headers Content-Type and Content-Length (and
-- "Connection: close" when asked), and the body. done() prints "wrong responses: N" for
-- bench/harness.ts, which marks a sample with any as invalid.
--
-- usage: wrk ... -s bench/wrk/check.lua <url> -- <depth> <body> <content-type> <close|keep-alive>
local threads = {}

setup = function(thread)
  table.insert(threads, thread)
end

init = function(args)
  depth = tonumber(args[1]) or 1
  body = args[2] or ""
  content_type = args[3] or ""
  closing = args[4] == "close"
  length = tostring(#body)
  wrong = 0
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format(nil, "/")
  end
  req = table.concat(r)
end

request = function()
  return req
end

response = function(status, headers, got)
  local fields = 0
  for _ in pairs(headers) do
    fields = fields + 1
  end
  local ok = status == 200 and got == body and headers["Content-Type"] == content_type and headers["Content-Length"] == length
  if closing then
    ok = ok and fields == 3 and headers["Connection"] == "close"
  else
    ok = ok and fields == 2
  end
  if not ok then
    wrong = wrong + 1
  end
end

done = function(summary, latency, requests)
  local n = 0
  for _, thread in ipairs(threads) do
    n = n + thread:get("wrong")
  end
  io.write(string.format("wrong responses: %d\n", n))
end
