#!/usr/bin/env bash
# The business calendar against an independent reference: every year 2012-2027 of GET /api/v1/calendar
# compared with the python `holidays` package (>= 0.108), differences allowed only where
# domain/catalog/calendar/README.md lists them with a reason (see check.py). Builds the api binary, starts
# it on a free port with a throwaway SQLite database, runs the comparison, stops the server.
# The package is installed into a venv cached at ~/.cache/kz-calendar-ref (KZ_CALENDAR_REF_CACHE).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CACHE="${KZ_CALENDAR_REF_CACHE:-$HOME/.cache/kz-calendar-ref}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kz-services-target}"

VENV="$CACHE/venv"
if ! "$VENV/bin/python" -c 'import holidays, re, sys; v = tuple(int(x) for x in re.findall(r"\d+", holidays.__version__)[:2]); sys.exit(0 if v >= (0, 108) else 1)' 2>/dev/null; then
  echo "installing holidays>=0.108 into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q 'holidays>=0.108'
fi
PY="$VENV/bin/python"
"$PY" "$HERE/check.py" --self-test

WORK="$(mktemp -d "${TMPDIR:-/tmp}/kz-calendar-ref.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

(cd "$ROOT" && cargo build -q -p api)
port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
JWT_HS256_SECRET="${JWT_HS256_SECRET:-calendar-reference-secret-0123456789}" APP_BIND="127.0.0.1:$port" \
  DATABASE_URL="$WORK/calendar.db" RUST_LOG=warn "$CARGO_TARGET_DIR/debug/api" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
BASE_URL="http://127.0.0.1:$port"
for _ in $(seq 1 120); do
  if curl -fsS "$BASE_URL/health/ready" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then echo "the server exited:"; cat "$WORK/server.log"; exit 1; fi
  sleep 0.5
done
curl -fsS "$BASE_URL/health/ready" >/dev/null || { echo "the server did not become ready:"; cat "$WORK/server.log"; exit 1; }

"$PY" "$HERE/check.py" --base-url "$BASE_URL" --years "${CALENDAR_REF_YEARS:-2012-2027}"
