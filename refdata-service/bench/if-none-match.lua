-- wrk script: a conditional GET carrying the ETag the server sent, so every answer is a 304.
-- run.sh checks once with curl that the server does answer 304 before measuring.
local etag = os.getenv("BENCH_ETAG")
if etag == nil or etag == "" then
  error("BENCH_ETAG is not set")
end
wrk.headers["If-None-Match"] = etag
