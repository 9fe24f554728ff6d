-- GET of the URL given to wrk (health, list, monitoring), with the run's Authorization header (-H).
dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")
