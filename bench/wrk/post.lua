-- POST /api/v1/applications with the JSON body in the file named by BENCH_BODY (no Idempotency-Key:
-- every request files a new application).
dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")

local f = assert(io.open(os.getenv("BENCH_BODY"), "r"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
