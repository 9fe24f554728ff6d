#!/usr/bin/env bash
# The benchmark suite of issue 11, in one command (see bench/README.md):
#
#   bash bench/run.sh [--rows N] [--duration S] [--clients C] [--threads T] [--span-days D]
#                     [--smoke] [--no-build] [--no-criterion] [--keep] [--keep-db] [--out FILE]
#                     [--env NAME=VALUE ...] [--reuse-db NAME] [--no-calendar-change]
#
# Builds the api in release, creates a throwaway PostgreSQL database, starts the server on a free port
# with a pinned configuration, loads N applications with history (bench/generate.sql), then measures,
# in one run and interleaved, each endpoint of the issue against its ceiling measured next to it:
# pgbench single-row inserts for submissions, GET /health/live for reads, a SQL aggregate for the
# monitoring view. Prints one table (req/s, p50, p99, ceiling, ratio, target, pass/fail) and the
# server's largest RSS, runs the criterion benchmark of deadline computation, and drops the database.
#
# Exits non-zero when anything errors (a failed check, a non-2xx answer, a socket error); missed
# targets are reported as FAIL in the table and do not change the exit code.
set -euo pipefail

ROWS=1000000
DURATION=15
CLIENTS=16
THREADS=2
SPAN_DAYS=
SMOKE=0
BUILD=1
CRITERION=1
KEEP=0
KEEP_DB=0
OUT=
REUSE_DB=
CALENDAR_CHANGE=1
SERVER_ENV=()
while [ $# -gt 0 ]; do
    case "$1" in
        --rows) ROWS="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --clients) CLIENTS="$2"; shift 2 ;;
        --threads) THREADS="$2"; shift 2 ;;
        --span-days) SPAN_DAYS="$2"; shift 2 ;;
        --smoke) SMOKE=1; shift ;;
        --no-build) BUILD=0; shift ;;
        --no-criterion) CRITERION=0; shift ;;
        --no-calendar-change) CALENDAR_CHANGE=0; shift ;;
        --keep) KEEP=1; shift ;;
        --keep-db) KEEP_DB=1; shift ;;
        --reuse-db) REUSE_DB="$2"; KEEP_DB=1; shift 2 ;;
        --env) SERVER_ENV+=("$2"); shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
# Filings spread over about three years at full size; a small data set is kept recent, so that every
# status (they depend on age) is present.
if [ -z "$SPAN_DAYS" ]; then
    if [ "$ROWS" -ge 100000 ]; then SPAN_DAYS=1065; else SPAN_DAYS=30; fi
fi
WARMUP=3
[ "$SMOKE" = 1 ] && WARMUP=1

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH_DIR/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
BIN="$TARGET_DIR/release/api"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
DB="bench_$(date -u +%Y%m%d%H%M%S)_$$"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/kz-bench.XXXXXX")"
export JWT_HS256_SECRET="bench-only-secret-0123456789abcdef"
export BENCH_WRK_DIR="$BENCH_DIR/wrk"

log() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- tools -----------------------------------------------------------------------------------------
apt_updated=0
need() { # need <command> <debian package>
    command -v "$1" > /dev/null && return 0
    log "installing $2 (for $1)"
    if [ "$apt_updated" = 0 ]; then
        apt-get install -y -q "$2" > "$WORK/apt.log" 2>&1 && return 0
        apt-get update -q > "$WORK/apt.log" 2>&1 || true
        apt_updated=1
    fi
    apt-get install -y -q "$2" >> "$WORK/apt.log" 2>&1 || die "could not install $2 (see $WORK/apt.log)"
}
need wrk wrk
need psql postgresql-client
need pgbench postgresql-contrib
need jq jq
need curl curl

# --- cleanup ---------------------------------------------------------------------------------------
SERVER_PID=
SAMPLER_PID=
WATCHDOG_PID=
cleanup() {
    local rc=$?
    [ -n "$WATCHDOG_PID" ] && kill "$WATCHDOG_PID" 2> /dev/null || true
    [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2> /dev/null || true
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2> /dev/null || true
        wait "$SERVER_PID" 2> /dev/null || true
    fi
    if [ -f "$WORK/disk_full" ]; then
        log "ERROR: the database's file system is nearly full: run stopped, database dropped"
        KEEP_DB=0
        rc=1
    fi
    if [ "$KEEP_DB" = 1 ]; then
        log "database kept: $DB (drop it with: psql -h $PGHOST -U $PGUSER -c 'DROP DATABASE \"$DB\"')"
    else
        psql -q -d postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" > /dev/null 2>&1 || log "could not drop database $DB"
    fi
    if [ "$KEEP" = 1 ] || [ "$rc" != 0 ]; then
        # On failure keep the server log's tail for diagnosis; the full log can be gigabytes.
        [ -f "$WORK/server.log" ] && tail -n 200 "$WORK/server.log" > "$WORK/server.tail.log" && rm -f "$WORK/server.log"
        log "work files kept in $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build -----------------------------------------------------------------------------------------
if [ "$BUILD" = 1 ]; then
    log "building the api (release)"
    (cd "$REPO" && cargo build --release -q -p api)
fi
[ -x "$BIN" ] || die "no binary at $BIN (build it, or drop --no-build)"

# --- database and server ---------------------------------------------------------------------------
if [ -n "$REUSE_DB" ]; then
    # A database an earlier run kept (--keep-db): measure again without loading (the server's
    # migrations bring its schema up to date).
    DB="$REUSE_DB"
    LOAD_SECS="0 (reused)"
    psql -q -d "$DB" -c "SELECT 1" > /dev/null || die "cannot open database $DB on $PGHOST:$PGPORT"
else
    psql -q -d postgres -c "CREATE DATABASE \"$DB\"" > /dev/null || die "cannot create database $DB on $PGHOST:$PGPORT"
fi
# A directory in PGHOST is the server's Unix socket (PostgreSQL on the same host: no TCP, no TLS),
# for the server as for psql and pgbench; in a URL libpq takes it percent-encoded. Over TCP libpq
# negotiates TLS as it does for any client (sslmode=prefer: on, when the server has ssl on).
case "$PGHOST" in
    /*)
        DATABASE_URL="postgres://$PGUSER@$(jq -rn --arg h "$PGHOST" '$h | @uri'):$PGPORT/$DB"
        DB_LINK="the Unix socket in $PGHOST"
        ;;
    *)
        DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB"
        DB_LINK="TCP to $PGHOST:$PGPORT (TLS: $(psql -Atq -d postgres -c 'SHOW ssl' 2> /dev/null || echo unknown), sslmode=${PGSSLMODE:-prefer})"
        ;;
esac
log "database $DB"

free_port() {
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 20000))
        if ! (exec 3<> "/dev/tcp/127.0.0.1/$p") 2> /dev/null; then
            echo "$p"
            return 0
        fi
    done
    die "no free port found"
}
PORT="$(free_port)"
BASE="http://127.0.0.1:$PORT"

# The pinned configuration: rate limits off (one client address sends everything), the default pool,
# request logging on as in production (to a file), a fixed signing key (no key generation at start).
start_server() {
    env DATABASE_URL="$DATABASE_URL" APP_BIND="127.0.0.1:$PORT" DB_POOL_SIZE=8 \
        RATE_LIMIT_PER_PRINCIPAL=0 RATE_LIMIT_PER_ADDRESS=0 RUST_LOG=info LOG_FORMAT=json \
        DOCUMENT_SIGNING_KEY=9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60 \
        ${SERVER_ENV[@]+"${SERVER_ENV[@]}"} "$BIN" >> "$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 120); do
        if curl -sf "$BASE/health/ready" > /dev/null 2>&1; then
            return 0
        fi
        kill -0 "$SERVER_PID" 2> /dev/null || { tail -n 20 "$WORK/server.log" >&2; die "the server exited"; }
        sleep 0.5
    done
    die "the server did not become ready"
}
stop_server() {
    kill "$SERVER_PID" 2> /dev/null || true
    wait "$SERVER_PID" 2> /dev/null || true
    SERVER_PID=
}

log "starting the server on port $PORT (its migrations create the schema)"
start_server

# --- data ------------------------------------------------------------------------------------------
if [ -z "$REUSE_DB" ]; then
log "reading the catalog from the server"
curl -sf "$BASE/api/v1/services" > "$WORK/services.json"
: > "$WORK/services.tsv"
for key in $(jq -r '.items[].key' "$WORK/services.json"); do
    for l in kk ru en; do
        curl -sf "$BASE/api/v1/services/$key?lang=$l" > "$WORK/passport.$l.json"
    done
    jq -rn --argjson item "$(jq -c --arg k "$key" '.items[] | select(.key == $k)' "$WORK/services.json")" \
        --slurpfile kk "$WORK/passport.kk.json" --slurpfile ru "$WORK/passport.ru.json" \
        --slurpfile en "$WORK/passport.en.json" -f "$BENCH_DIR/catalog.jq" >> "$WORK/services.tsv"
done
[ -s "$WORK/services.tsv" ] || die "no services in the catalog"

NOW="$(date -u '+%Y-%m-%d %H:%M:%S')"
log "generating $ROWS applications over $SPAN_DAYS days up to $NOW"
psql -q -v ON_ERROR_STOP=1 -d "$DB" <<SQL
CREATE TABLE bench_services (key text PRIMARY KEY, version text NOT NULL, channels text NOT NULL, subtype text,
    term_value int NOT NULL, term_unit text NOT NULL, automated boolean NOT NULL, weight int NOT NULL,
    result jsonb NOT NULL, ground jsonb NOT NULL, intake_ground jsonb, document jsonb NOT NULL);
\copy bench_services FROM '$WORK/services.tsv' WITH (FORMAT text, NULL '')
SQL
# The shared PostgreSQL must never run out of disk (it stops with a PANIC when its WAL cannot be
# written): the load goes in chunks of 100,000 rows, one transaction each, only with room for the whole
# data set and a margin (2 GB at full size), and stops when less than the margin is left on the data
# directory's file system.
PGDATA_DIR="$(psql -At -d "$DB" -c 'SHOW data_directory' 2> /dev/null || true)"
free_kb() { df -Pk "${PGDATA_DIR:-/}" 2> /dev/null | awk 'NR == 2 {print $4}' || df -Pk / | awk 'NR == 2 {print $4}'; }
[ -d "${PGDATA_DIR:-/nonexistent}" ] || PGDATA_DIR=/
# The margin: as much again as the data, between 256 MB and 2 GB (a smoke run needs little).
MARGIN_KB=$((ROWS * 5))
MARGIN_KB=$((MARGIN_KB < 256 * 1024 ? 256 * 1024 : MARGIN_KB > 2 * 1024 * 1024 ? 2 * 1024 * 1024 : MARGIN_KB))
NEED_KB=$((ROWS * 5 + MARGIN_KB))
[ "$(free_kb)" -ge "$NEED_KB" ] || die "not enough disk for $ROWS applications: $(($(free_kb) / 1024)) MB free on $PGDATA_DIR, about $((NEED_KB / 1024)) MB needed (the data, WAL and $((MARGIN_KB / 1024)) MB of margin)"
# Throughout the run: below half the margin (1 GB at full size) the run stops and the database is
# dropped, whatever the options.
(while sleep 2; do
    if [ "$(free_kb)" -lt $((MARGIN_KB / 2)) ]; then
        touch "$WORK/disk_full"
        psql -q -d postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" > /dev/null 2>&1 || true
        kill -TERM $$
        exit 0
    fi
done) &
WATCHDOG_PID=$!
CHUNK=100000
t0=$(date +%s)
for ((from = 1; from <= ROWS; from += CHUNK)); do
    to=$((from + CHUNK - 1 < ROWS ? from + CHUNK - 1 : ROWS))
    [ "$(free_kb)" -ge "$MARGIN_KB" ] || die "less than $((MARGIN_KB / 1024)) MB free on $PGDATA_DIR: stopping the load before PostgreSQL runs out of space"
    psql -q -X -v ON_ERROR_STOP=1 -v rows="$ROWS" -v from="$from" -v to="$to" -v now="$NOW" -v span_days="$SPAN_DAYS" \
        -d "$DB" -f "$BENCH_DIR/generate.sql" >> "$WORK/generate.log" 2>&1 || { tail -n 20 "$WORK/generate.log" >&2; die "the generator failed"; }
    [ "$ROWS" -gt "$CHUNK" ] && log "loaded rows $from-$to"
done
psql -q -d "$DB" -c "DROP TABLE bench_persons; DROP TABLE bench_services"
LOAD_SECS=$(($(date +%s) - t0))
psql -q -At -d "$DB" -c "SELECT 'loaded in ${LOAD_SECS}s: ' || (SELECT count(*) FROM applications) || ' applications, '
    || (SELECT count(*) FROM application_history) || ' history entries, ' || (SELECT count(*) FROM events) || ' events; database '
    || pg_size_pretty(pg_database_size(current_database()))" | while read -r l; do log "$l"; done
else
    # A reused database carries the filings of the runs before, which no VACUUM may have seen (the
    # generator's was the last one, and autovacuum may be off, as on the machine of RESULTS.md):
    # stale statistics and visibility maps would make this run measure them, not the code.
    log "VACUUM (ANALYZE) of the reused database"
    psql -q -d "$DB" -c "VACUUM (ANALYZE)"
fi

# A fresh server over the loaded and analysed data (its RSS is measured from here on).
stop_server
start_server
RSS_LOG="$WORK/rss.log"
(while kill -0 "$SERVER_PID" 2> /dev/null; do
    echo "$(date +%s%3N) $(awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status" 2> /dev/null || echo 0)"
    sleep 0.2
done) > "$RSS_LOG" &
SAMPLER_PID=$!

APPLICANT="$("$BIN" token --role applicant --sub 900101300116 --ttl-minutes 240)"
EMPLOYEE="$("$BIN" token --role employee --sub emp-1 --org astana-education --ttl-minutes 240)"

# --- checks before measuring -----------------------------------------------------------------------
check_status() { # check_status <expected> <what> <curl args...>
    local want="$1" what="$2" got
    shift 2
    got="$(curl -s -o "$WORK/check.out" -w '%{http_code}' --max-time 120 "$@")" || true
    [ "$got" = "$want" ] || { head -c 600 "$WORK/check.out" >&2; echo >&2; die "$what: HTTP $got, expected $want"; }
}
check_status 201 "POST /api/v1/applications" -X POST "$BASE/api/v1/applications" -H "Authorization: Bearer $APPLICANT" \
    -H 'Content-Type: application/json' --data-binary "@$BENCH_DIR/post_body.json"
psql -q -At -d "$DB" -c "SELECT id FROM applications WHERE provider_id = 'astana-education' ORDER BY random() LIMIT 100000" \
    > "$WORK/ids.txt"
[ -s "$WORK/ids.txt" ] || die "no generated applications of astana-education"
# One application of every status and every service: their stored decisions must parse as the domain's.
psql -q -At -F ' ' -d "$DB" -c "SELECT DISTINCT ON (status, service_key) status, service_key, id FROM applications
    WHERE provider_id IN ('astana-education', 'children-rights-committee') ORDER BY status, service_key, id" > "$WORK/samples.txt"
statuses=0
while read -r status service id; do
    org=astana-education
    [ "$service" = adoption_agency_accreditation ] && org=children-rights-committee
    tok="$EMPLOYEE"
    [ "$org" != astana-education ] && tok="$("$BIN" token --role employee --sub emp-1 --org "$org")"
    check_status 200 "GET /api/v1/applications/{id} ($status, $service)" "$BASE/api/v1/applications/$id" -H "Authorization: Bearer $tok"
    check_status 200 "GET /api/v1/applications/{id}/history ($status, $service)" "$BASE/api/v1/applications/$id/history" \
        -H "Authorization: Bearer $tok"
done < "$WORK/samples.txt"
statuses="$(cut -d' ' -f1 "$WORK/samples.txt" | sort -u | wc -l)"
log "checked $(wc -l < "$WORK/samples.txt") applications (every status and service present: $statuses statuses)"
[ "$statuses" = 9 ] || log "warning: only $statuses of the 9 statuses were generated (more --rows or fewer --span-days)"
check_status 200 "GET /api/v1/applications?limit=20" "$BASE/api/v1/applications?limit=20" -H "Authorization: Bearer $EMPLOYEE"
[ "$(jq '.items | length' "$WORK/check.out")" = 20 ] || die "the list did not return 20 items"

# The write ceiling's table: an applications-like table without indexes or constraints. The monitoring
# ceiling's: the columns its figures come from, copied, with an index that serves them (index-only
# scans), so that the ceiling is an indexed aggregate over the same rows while the server's own tables
# keep exactly the schema of the migrations.
psql -q -d "$DB" <<'SQL'
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_insert;
DROP TABLE IF EXISTS bench_agg;
DROP TABLE IF EXISTS bench_ids;
CREATE TABLE bench_insert (LIKE applications INCLUDING DEFAULTS);
CREATE TABLE bench_agg AS SELECT provider_id, status, due_at, stage_due_at FROM applications;
CREATE INDEX ON bench_agg (provider_id, status, due_at, stage_due_at);
VACUUM ANALYZE bench_agg;
CREATE TABLE bench_ids (id text NOT NULL);
SQL
psql -q -d "$DB" -c "\\copy bench_ids FROM '$WORK/ids.txt'"
psql -q -d "$DB" -c "ALTER TABLE bench_ids ADD COLUMN n bigserial PRIMARY KEY"
psql -q -d "$DB" -c "VACUUM ANALYZE bench_ids"
ID_COUNT="$(wc -l < "$WORK/ids.txt")"

# --- measuring -------------------------------------------------------------------------------------
ERRORS=0
RESULTS="$WORK/results.tsv"
: > "$RESULTS"
# record <name> <req/s> <p50 µs> <p99 µs> <requests> <errors> <non-2xx> <rss max kB>
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$RESULTS"; }
rss_max_between() { awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b && $2 > m {m = $2} END {print m + 0}' "$RSS_LOG"; }
now_ms() { date +%s%3N; }

# run_wrk <name> <connections> <duration> <timeout> <script> <url> [auth token]
run_wrk() {
    local name="$1" conns="$2" dur="$3" timeout="$4" script="$5" url="$6" token="${7:-}" threads="$THREADS" a b line
    [ "$conns" -lt "$threads" ] && threads="$conns"
    local auth=()
    [ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
    a=$(now_ms)
    wrk -t "$threads" -c "$conns" -d "${dur}s" --timeout "${timeout}s" "${auth[@]}" -s "$BENCH_DIR/wrk/$script" "$url" \
        > "$WORK/wrk.$name.out" 2>&1 || die "wrk failed for $name: $(tail -n 3 "$WORK/wrk.$name.out")"
    b=$(now_ms)
    line="$(grep '^RESULT ' "$WORK/wrk.$name.out" | tail -n 1)"
    [ -n "$line" ] || die "no result from wrk for $name: $(tail -n 3 "$WORK/wrk.$name.out")"
    set -- $line
    record "$name" "$2" "$3" "$4" "$5" "$6" "$7" "$(rss_max_between "$a" "$b")"
    if [ "$6" != 0 ] || [ "$7" != 0 ]; then
        log "ERROR: $name: $6 socket errors, $7 answers not 2xx/3xx"
        ERRORS=$((ERRORS + 1))
    fi
    if [ "$5" = 0 ]; then
        log "ERROR: $name: no request completed in ${dur}s"
        ERRORS=$((ERRORS + 1))
    fi
    log "$name: $(printf '%.0f' "$2") req/s, p50 $(($3 / 1000)).$(($3 % 1000 / 100)) ms, p99 $(($4 / 1000)).$(($4 % 1000 / 100)) ms"
}

# run_pgbench <name> <clients> <duration> <file> [pgbench arguments]
run_pgbench() {
    local name="$1" clients="$2" dur="$3" file="$4" threads="$THREADS" tps p50 p99 n a b
    shift 4
    [ "$clients" -lt "$threads" ] && threads="$clients"
    rm -rf "$WORK/pgb" && mkdir -p "$WORK/pgb"
    a=$(now_ms)
    (cd "$WORK/pgb" && pgbench -n -c "$clients" -j "$threads" -T "$dur" -l "$@" -f "$BENCH_DIR/pgbench/$file" "$DB") \
        > "$WORK/pgbench.$name.out" 2>&1 || die "pgbench failed for $name: $(tail -n 5 "$WORK/pgbench.$name.out")"
    b=$(now_ms)
    tps="$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$WORK/pgbench.$name.out" | tail -n 1)"
    cat "$WORK"/pgb/pgbench_log.* | awk '{print $3}' | sort -n > "$WORK/pgb/latencies"
    n=$(wc -l < "$WORK/pgb/latencies")
    p50="$(sed -n "$(((n * 50 + 99) / 100))p" "$WORK/pgb/latencies")"
    p99="$(sed -n "$(((n * 99 + 99) / 100))p" "$WORK/pgb/latencies")"
    record "$name" "$tps" "$p50" "$p99" "$n" 0 0 "$(rss_max_between "$a" "$b")"
    log "$name: $(printf '%.0f' "$tps") tx/s, p50 $((p50 / 1000)).$((p50 % 1000 / 100)) ms, p99 $((p99 / 1000)).$((p99 % 1000 / 100)) ms"
}

# run_sequential <name> <requests> <url> <token>: one request after the other with curl (for a slow
# endpoint: every answer is timed whole, none is cut off at the end of a time window).
run_sequential() {
    local name="$1" n="$2" url="$3" token="$4" a b i code t total=0 p50 p99
    : > "$WORK/seq.$name"
    a=$(now_ms)
    for i in $(seq 1 "$n"); do
        read -r code t < <(curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 600 "$url" -H "Authorization: Bearer $token") || true
        if [ "$code" != 200 ]; then
            log "ERROR: $name: request $i answered HTTP $code"
            ERRORS=$((ERRORS + 1))
        fi
        awk -v t="$t" 'BEGIN {printf "%d\n", t * 1000000}' >> "$WORK/seq.$name"
    done
    b=$(now_ms)
    sort -n -o "$WORK/seq.$name" "$WORK/seq.$name"
    p50="$(sed -n "$(((n * 50 + 99) / 100))p" "$WORK/seq.$name")"
    p99="$(sed -n "$(((n * 99 + 99) / 100))p" "$WORK/seq.$name")"
    record "$name" "$(awk -v n="$n" -v ms=$((b - a)) 'BEGIN {printf "%.3f", n * 1000 / ms}')" "$p50" "$p99" "$n" 0 0 "$(rss_max_between "$a" "$b")"
    log "$name: $n requests one after the other, p50 $((p50 / 1000)) ms, p99 $((p99 / 1000)) ms"
}

URL_ID="$BASE/api/v1/applications"
URL_LIST="$BASE/api/v1/applications?limit=20"
URL_MON="$BASE/api/v1/monitoring/applications"
MON_REQUESTS=50
export BENCH_IDS="$WORK/ids.txt" BENCH_BODY="$BENCH_DIR/post_body.json"

log "warming up"
run_wrk warmup_health "$CLIENTS" "$WARMUP" 10 get.lua "$BASE/health/live"
run_wrk warmup_id "$CLIENTS" "$WARMUP" 10 get_ids.lua "$URL_ID" "$EMPLOYEE"
run_wrk warmup_list "$CLIENTS" "$WARMUP" 10 get.lua "$URL_LIST" "$EMPLOYEE"
run_wrk warmup_post "$CLIENTS" "$WARMUP" 10 post.lua "$URL_ID" "$APPLICANT"

log "measuring: $CLIENTS clients, ${DURATION}s each, ceilings next to each endpoint"
run_pgbench ceiling_insert "$CLIENTS" "$DURATION" insert.sql
run_wrk submit "$CLIENTS" "$DURATION" 30 post.lua "$URL_ID" "$APPLICANT"
# For reference: the database alone doing a filing's work, as the server sends it and in the cheapest
# atomic form (the registration sequence is the server's year's, in the calendar's zone).
YEAR="$(TZ=Asia/Almaty date +%Y)"
run_pgbench ceiling_filing "$CLIENTS" "$DURATION" filing.sql -D year="$YEAR"
run_pgbench ceiling_filing_one "$CLIENTS" "$DURATION" filing_one_statement.sql -D year="$YEAR"
run_wrk ceiling_live_1 "$CLIENTS" "$DURATION" 10 get.lua "$BASE/health/live"
run_wrk read_by_id "$CLIENTS" "$DURATION" 10 get_ids.lua "$URL_ID" "$EMPLOYEE"
run_pgbench ceiling_select "$CLIENTS" "$DURATION" select_by_id.sql -D count="$ID_COUNT"
# The server's read sessions (persistence::db::PgSession): jit off, and the journal's commit
# asynchronous unless the server runs with ACCESS_LOG_DURABLE=true.
READ_SESSION="-c jit=off -c synchronous_commit=off"
for e in ${SERVER_ENV[@]+"${SERVER_ENV[@]}"}; do
    [ "$e" = ACCESS_LOG_DURABLE=true ] && READ_SESSION="-c jit=off"
done
PGOPTIONS="$READ_SESSION" run_pgbench served_read "$CLIENTS" "$DURATION" read_by_id_served.sql -M prepared \
    -D count="$ID_COUNT"
run_wrk ceiling_live_2 "$CLIENTS" "$DURATION" 10 get.lua "$BASE/health/live"
run_wrk list "$CLIENTS" "$DURATION" 10 get.lua "$URL_LIST" "$EMPLOYEE"
# For reference: the database alone doing the list's work, the page and its journal entries.
PGOPTIONS="$READ_SESSION" run_pgbench served_list "$CLIENTS" "$DURATION" list_served.sql -M prepared -D provider=astana-education
run_pgbench ceiling_aggregate 1 "$DURATION" monitoring.sql
# Monitoring is checked last, as it always was (it once loaded every application of the provider),
# and timed one request after the other: each answer's own latency, not a queue's.
check_status 200 "GET /api/v1/monitoring/applications" "$URL_MON" -H "Authorization: Bearer $EMPLOYEE"
[ "$(jq '.total' "$WORK/check.out")" -gt 0 ] || die "the monitoring view counted nothing"
run_sequential monitoring "$MON_REQUESTS" "$URL_MON" "$EMPLOYEE"

# A decree recorded while citizens file (issue 11): the change commits in a short transaction, and the
# open applications it moves are recomputed after it, a page at a time; filings go on meanwhile. The
# decree (bench/calendar_decree.json) moves a day of December 2026; when the server's calendar already
# has it (a reused database), the shipped year is put back instead, which moves the same applications
# back. Filings are measured while the change runs, next to the submission run above.
CAL_STATUS=
if [ "$CALENDAR_CHANGE" = 1 ] && [ "$YEAR" = 2026 ]; then
    ADMIN="$("$BIN" token --role admin --sub admin-1 --ttl-minutes 240)"
    DECREE="$BENCH_DIR/calendar_decree.json"
    if curl -sf "$BASE/api/v1/calendar/2026" | jq -e '.days_off[] | select(.date == "2026-12-09")' > /dev/null; then
        jq '.decrees = [] | .transfers = [] | .reason = "bench: the decree of 9 December 2026 revoked"' "$DECREE" > "$WORK/decree.json"
        CAL_WHAT="the December decree revoked"
    else
        cp "$DECREE" "$WORK/decree.json"
        CAL_WHAT="a decree moving 19 December to 9 December"
    fi
    log "calendar change while filing: $CAL_WHAT"
    CAL_A=$(now_ms)
    (curl -s -o "$WORK/calendar.out" -w '%{http_code} %{time_total}\n' --max-time 1800 -X PUT \
        "$BASE/api/v1/calendar/2026" -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
        --data @"$WORK/decree.json" > "$WORK/calendar.status") &
    CAL_PID=$!
    sleep 0.5
    run_wrk during_calendar_change "$CLIENTS" "$DURATION" 30 post.lua "$URL_ID" "$APPLICANT"
    wait "$CAL_PID" || true
    CAL_B=$(now_ms)
    read -r CAL_CODE CAL_SECS < "$WORK/calendar.status" || true
    if [ "${CAL_CODE:-}" = 200 ]; then
        CAL_STATUS="$CAL_WHAT: $(jq '.recomputed_count' "$WORK/calendar.out") open applications moved in ${CAL_SECS}s; largest RSS during it $(($(rss_max_between "$CAL_A" "$CAL_B") / 1024)) MB"
        log "calendar change: $CAL_STATUS"
    else
        log "ERROR: the calendar change answered HTTP ${CAL_CODE:-none}: $(head -c 400 "$WORK/calendar.out" 2> /dev/null)"
        ERRORS=$((ERRORS + 1))
    fi
elif [ "$CALENDAR_CHANGE" = 1 ]; then
    log "calendar change skipped: bench/calendar_decree.json is a decree of 2026, the data's year is $YEAR"
fi
RSS_MAX="$(awk '$2 > m {m = $2} END {print m + 0}' "$RSS_LOG")"
stop_server

# --- deadline computation (criterion) --------------------------------------------------------------
DEADLINE_ROWS=()
if [ "$CRITERION" = 1 ]; then
    if [ "$SMOKE" = 1 ]; then
        log "criterion: deadline benchmarks once each (--test)"
        (cd "$REPO" && cargo bench -q -p domain --bench deadline -- --test) > "$WORK/criterion.out" 2>&1 \
            || { tail -n 20 "$WORK/criterion.out" >&2; die "the deadline benchmark failed"; }
    else
        log "criterion: deadline benchmarks"
        rm -rf "$TARGET_DIR/criterion/due" "$TARGET_DIR/criterion/due_for" "$TARGET_DIR/criterion/due_moment_for" "$TARGET_DIR/criterion/due_at_filing"
        (cd "$REPO" && cargo bench -q -p domain --bench deadline -- --warm-up-time 1 --measurement-time 4 --noplot) \
            > "$WORK/criterion.out" 2>&1 || { tail -n 20 "$WORK/criterion.out" >&2; die "the deadline benchmark failed"; }
        for f in "$TARGET_DIR"/criterion/{due,due_for,due_moment_for,due_at_filing}/*/new/estimates.json; do
            [ -f "$f" ] || continue
            id="$(jq -r '.full_id' "$(dirname "$f")/benchmark.json")"
            ns="$(jq '.mean.point_estimate' "$f")"
            DEADLINE_ROWS+=("$id	$ns")
        done
    fi
fi

# --- report ----------------------------------------------------------------------------------------
field() { awk -F'\t' -v n="$1" -v c="$2" '$1 == n {print $c}' "$RESULTS"; }
ms() { awk -v us="$1" 'BEGIN {printf "%.1f ms", us / 1000}'; }
rate() { awk -v r="$1" 'BEGIN {if (r < 10) printf "%.2f", r; else printf "%.0f", r}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.1f%%", 100 * a / b; else print "-"}'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a >= b)}'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a < b)}'; }
verdict() { if "$@"; then echo PASS; else echo FAIL; fi; }

REPORT="$WORK/report.md"
{
    echo "| endpoint | req/s | p50 | p99 | ceiling | ceiling req/s | ratio | target | result |"
    echo "|---|---:|---:|---:|---|---:|---:|---|---|"
    row() { # row <label> <name> <ceiling label> <ceiling name> <target> <verdict>
        local r c
        r="$(field "$2" 2)"
        c="$(field "$4" 2)"
        echo "| $1 | $(rate "$r") | $(ms "$(field "$2" 3)") | $(ms "$(field "$2" 4)") | $3 | $(rate "$c") | $(ratio "$r" "$c") | $5 | $6 |"
    }
    r=$(field submit 2) c=$(field ceiling_insert 2)
    row '`POST /api/v1/applications` (free_school_meals, portal)' submit 'pgbench single-row insert' ceiling_insert \
        '≥ 30% of the insert ceiling' "$(verdict ge "$r" "$(awk -v c="$c" 'BEGIN {print 0.3 * c}')")"
    r=$(field read_by_id 2) c=$(field ceiling_live_1 2) p=$(field read_by_id 4)
    row '`GET /api/v1/applications/{id}` (employee)' read_by_id '`GET /health/live`' ceiling_live_1 \
        '≥ 30% of /health/live; p99 < 10 ms' \
        "$(verdict ge "$r" "$(awk -v c="$c" 'BEGIN {print 0.3 * c}')") / $(verdict lt "$p" 10000)"
    p=$(field list 4)
    row '`GET /api/v1/applications?limit=20` (employee)' list '`GET /health/live`' ceiling_live_2 'p99 < 10 ms' \
        "$(verdict lt "$p" 10000)"
    p=$(field monitoring 4)
    row '`GET /api/v1/monitoring/applications` (employee, sequential)' monitoring 'indexed SQL aggregate (pgbench, 1 client)' \
        ceiling_aggregate 'p99 < 100 ms' "$(verdict lt "$p" 100000)"
    if [ -n "$CAL_STATUS" ]; then
        r="$(field during_calendar_change 2)"
        echo "| \`POST /api/v1/applications\` while a calendar change recomputes open applications | $(rate "$r") | $(ms "$(field during_calendar_change 3)") | $(ms "$(field during_calendar_change 4)") | the submission run above | $(rate "$(field submit 2)") | $(ratio "$r" "$(field submit 2)") | ≥ 50% of the submission run (filings go on) | $(verdict ge "$r" "$(awk -v c="$(field submit 2)" 'BEGIN {print 0.5 * c}')") |"
    fi
    echo "| \`GET /health/live\` (ceiling, before the read by id / the list) | $(rate "$(field ceiling_live_1 2)") / $(rate "$(field ceiling_live_2 2)") | $(ms "$(field ceiling_live_1 3)") / $(ms "$(field ceiling_live_2 3)") | $(ms "$(field ceiling_live_1 4)") / $(ms "$(field ceiling_live_2 4)") | | | | | |"
    echo "| pgbench single-row insert (ceiling) | $(rate "$(field ceiling_insert 2)") | $(ms "$(field ceiling_insert 3)") | $(ms "$(field ceiling_insert 4)") | | | | | |"
    echo "| pgbench: a filing's statements as the server sends them (the database alone, for reference) | $(rate "$(field ceiling_filing 2)") | $(ms "$(field ceiling_filing 3)") | $(ms "$(field ceiling_filing 4)") | | | $(ratio "$(field ceiling_filing 2)" "$(field ceiling_insert 2)") of the insert ceiling; the server $(ratio "$(field submit 2)" "$(field ceiling_filing 2)") of this | | |"
    echo "| pgbench: a filing's writes as one statement, one commit (the cheapest atomic form, for reference) | $(rate "$(field ceiling_filing_one 2)") | $(ms "$(field ceiling_filing_one 3)") | $(ms "$(field ceiling_filing_one 4)") | | | $(ratio "$(field ceiling_filing_one 2)" "$(field ceiling_insert 2)") of the insert ceiling | | |"
    echo "| pgbench read of one application by id (the database alone, for reference) | $(rate "$(field ceiling_select 2)") | $(ms "$(field ceiling_select 3)") | $(ms "$(field ceiling_select 4)") | | | $(ratio "$(field ceiling_select 2)" "$(field ceiling_live_1 2)") of /health/live | | |"
    echo "| pgbench: a read by id's statement as the server sends it, row and journal entry (the database alone, for reference) | $(rate "$(field served_read 2)") | $(ms "$(field served_read 3)") | $(ms "$(field served_read 4)") | | | $(ratio "$(field served_read 2)" "$(field ceiling_live_1 2)") of /health/live; the server $(ratio "$(field read_by_id 2)" "$(field served_read 2)") of this | | |"
    echo "| pgbench: a list page's statement as the server sends it, page and 20 journal entries (the database alone, for reference) | $(rate "$(field served_list 2)") | $(ms "$(field served_list 3)") | $(ms "$(field served_list 4)") | | | the server $(ratio "$(field list 2)" "$(field served_list 2)") of this | | |"
    echo "| indexed SQL aggregate of one provider (ceiling) | $(rate "$(field ceiling_aggregate 2)") | $(ms "$(field ceiling_aggregate 3)") | $(ms "$(field ceiling_aggregate 4)") | | | | | |"
    echo
    echo "Server RSS, largest sample (every 0.2 s): $((RSS_MAX / 1024)) MB overall (target < 200 MB: $(verdict lt "$RSS_MAX" 204800));" \
        "per phase: submit $(($(field submit 8) / 1024)) MB, read by id $(($(field read_by_id 8) / 1024)) MB," \
        "list $(($(field list 8) / 1024)) MB, monitoring $(($(field monitoring 8) / 1024)) MB."
    [ -n "$CAL_STATUS" ] && echo && echo "Calendar change during the last filing run: $CAL_STATUS."
    if [ "${#DEADLINE_ROWS[@]}" -gt 0 ]; then
        echo
        echo "| deadline computation (criterion, 1 core) | per call | calls/s | target | result |"
        echo "|---|---:|---:|---|---|"
        for line in "${DEADLINE_ROWS[@]}"; do
            id="${line%%	*}" ns="${line#*	}"
            per=$(awk -v ns="$ns" 'BEGIN {printf "%.0f", ns / 1024}')
            cps=$(awk -v ns="$ns" 'BEGIN {printf "%.0f", 1024 / (ns * 1e-9)}')
            echo "| \`$id\` | $per ns | $cps | ≥ 1,000,000/s | $(verdict ge "$cps" 1000000) |"
        done
    elif [ "$CRITERION" = 1 ]; then
        echo
        echo "Deadline computation: criterion ran every benchmark once (--test; no timing in smoke mode)."
    fi
    echo
    echo "$ROWS applications generated over $SPAN_DAYS days (loaded in ${LOAD_SECS}s), $CLIENTS clients, ${DURATION}s per run" \
        "(monitoring: $MON_REQUESTS requests one after the other), wrk $THREADS threads, warm-up ${WARMUP}s${SERVER_ENV[*]+; server environment also: ${SERVER_ENV[*]}};" \
        "the server, psql and pgbench reach PostgreSQL over $DB_LINK."
} > "$REPORT"
echo
cat "$REPORT"
[ -n "$OUT" ] && cp "$REPORT" "$OUT"
cp "$RESULTS" "$WORK/results.tsv.kept" 2> /dev/null || true

if [ "$ERRORS" != 0 ]; then
    die "$ERRORS run(s) had errors"
fi
log "done"
