-- GET /api/v1/applications/{id} for ids drawn at random from the file named by BENCH_IDS (one a line).
dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")

local ids = {}

function init(args)
  for line in io.lines(os.getenv("BENCH_IDS")) do
    ids[#ids + 1] = line
  end
  if #ids == 0 then
    error("no ids in " .. os.getenv("BENCH_IDS"))
  end
  math.randomseed(os.time() + tonumber(tostring(ids):match("0x(%x+)") or "0", 16) % 100000)
end

function request()
  return wrk.format("GET", "/api/v1/applications/" .. ids[math.random(#ids)])
end
