#!/usr/bin/env bash
# Contract checks of the API with tools nobody here wrote (see tests/contract/README.md):
#   lint          Spectral with .spectral.yaml over openapi.yaml
#   yaml          PyYAML (a YAML 1.1 reader) reads openapi.yaml as the JSON the live server serves
#   client        TypeScript client generated from openapi.yaml (openapi-typescript + openapi-fetch),
#                 `tsc --strict`, then client/smoke.ts against the live server
#   forms         every service's form, every version: AJV 2020-12 against its example, rendered by
#                 react-jsonschema-form in headless Chromium in kk/ru/en (screenshots in artifacts/forms),
#                 one filled through the UI and filed on the live server
#   schemathesis  every operation against the live server, each role's token, stateful links, every
#                 check (schemathesis.toml enables them all, as `--checks all`)
#
# Without CONTRACT_BASE_URL it builds the api binary, starts it on a free port with a throwaway SQLite
# database and mints a token per role; with it, it tests that deployment with the CONTRACT_TOKEN_<ROLE>
# tokens given (or mints them when JWT_HS256_SECRET is the deployment's secret).
# CONTRACT_STAGES selects stages (default "lint yaml client forms schemathesis"). Exits non-zero on any failure.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CACHE="${KZ_CONTRACT_CACHE:-$HOME/.cache/kz-contract}"
STAGES="${CONTRACT_STAGES:-lint yaml client forms schemathesis}"
SPEC="${CONTRACT_SPEC:-$ROOT/openapi.yaml}"
SCHEMATHESIS_VERSION="4.32.5"
PYYAML_VERSION="6.0.3"
ARTIFACTS="${CONTRACT_ARTIFACTS:-$HERE/artifacts}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kz-services-target}"

started=$(date +%s)
log() { printf '[contract %4ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }
has_stage() { [[ " $STAGES " == *" $1 "* ]]; }

# ---------------------------------------------------------------- tools (cached outside the repo)
# The Python that runs Schemathesis: CONTRACT_PYTHON, else the newest CPython >= 3.12 found (3.11's parser
# hits "AST constructor recursion depth mismatch" inside Hypothesis on deep schemas), else python3.
pick_python() {
  if [ -n "${CONTRACT_PYTHON:-}" ]; then echo "$CONTRACT_PYTHON"; return; fi
  local c
  for c in python3.14 python3.13 python3.12 \
           $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do
    if [ -x "$c" ] || command -v "$c" >/dev/null 2>&1; then
      if "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then echo "$c"; return; fi
    fi
  done
  echo python3
}

install_python() {
  local py ver venv
  py="$(pick_python)"
  ver="$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  venv="$CACHE/venv-py$ver"
  if [ ! -x "$venv/bin/schemathesis" ] || [ "$("$venv/bin/schemathesis" --version 2>/dev/null)" != "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
    log "installing schemathesis==$SCHEMATHESIS_VERSION into $venv ($py)"
    "$py" -m venv "$venv"
    "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION" "pyyaml==$PYYAML_VERSION"
  fi
  if [ "$("$venv/bin/python" -c 'import yaml; print(yaml.__version__)' 2>/dev/null)" != "$PYYAML_VERSION" ]; then
    "$venv/bin/pip" install -q "pyyaml==$PYYAML_VERSION"
  fi
  SCHEMATHESIS="$venv/bin/schemathesis"
  PYTHON="$venv/bin/python"
}

install_node() {
  local dir="$CACHE/node"
  mkdir -p "$dir"
  # Reinstall when the committed lock changes; node_modules live in the cache, linked here.
  if ! cmp -s "$HERE/package-lock.json" "$dir/package-lock.json" || [ ! -d "$dir/node_modules" ]; then
    log "npm ci into $dir"
    cp "$HERE/package.json" "$HERE/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  if [ "$(readlink "$HERE/node_modules" 2>/dev/null)" != "$dir/node_modules" ]; then
    rm -rf "$HERE/node_modules"
    ln -s "$dir/node_modules" "$HERE/node_modules"
  fi
  BIN_DIR="$HERE/node_modules/.bin"
}

# The forms stage: its own npm project (React, react-jsonschema-form, AJV, esbuild, playwright-core), installed
# from its committed lock into the cache, and Debian's Chromium (playwright-core downloads no browser).
install_forms() {
  local dir="$CACHE/forms-node"
  mkdir -p "$dir"
  if ! cmp -s "$HERE/forms/package-lock.json" "$dir/package-lock.json" || [ ! -d "$dir/node_modules" ]; then
    log "npm ci into $dir (forms)"
    cp "$HERE/forms/package.json" "$HERE/forms/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  if [ "$(readlink "$HERE/forms/node_modules" 2>/dev/null)" != "$dir/node_modules" ]; then
    rm -rf "$HERE/forms/node_modules"
    ln -s "$dir/node_modules" "$HERE/forms/node_modules"
  fi
  CHROMIUM="${CONTRACT_CHROMIUM:-$(command -v chromium || true)}"
  if [ -z "$CHROMIUM" ] || [ ! -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
      echo "the forms stage needs Chromium and the DejaVu fonts: apt-get install chromium fonts-dejavu-core (or set CONTRACT_CHROMIUM)"
      exit 1
    fi
    log "installing Debian's chromium and fonts-dejavu-core"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >/dev/null
    CHROMIUM="${CONTRACT_CHROMIUM:-$(command -v chromium)}"
  fi
}

# ---------------------------------------------------------------- server
SERVER_PID=""
WORK="$(mktemp -d "${TMPDIR:-/tmp}/kz-contract.XXXXXX")"
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

start_server() {
  log "building the api binary"
  (cd "$ROOT" && cargo build -q -p api)
  API_BIN="$CARGO_TARGET_DIR/debug/api"
  export JWT_HS256_SECRET="${JWT_HS256_SECRET:-contract-only-secret-0123456789abcdef}"
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  log "starting the server on 127.0.0.1:$port (SQLite $WORK/contract.db)"
  # Schemathesis sends hundreds of requests a second from one address with one token per role: the
  # rate limits are off for this throwaway server (tests/tests/guard.rs checks them).
  APP_BIND="127.0.0.1:$port" DATABASE_URL="$WORK/contract.db" RUST_LOG="${RUST_LOG:-warn}" \
    RATE_LIMIT_PER_ADDRESS="${RATE_LIMIT_PER_ADDRESS:-0}" RATE_LIMIT_PER_PRINCIPAL="${RATE_LIMIT_PER_PRINCIPAL:-0}" \
    "$API_BIN" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  BASE_URL="http://127.0.0.1:$port"
  for _ in $(seq 1 120); do
    if curl -fsS "$BASE_URL/health/ready" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "the server exited:"; cat "$WORK/server.log"; exit 1
    fi
    sleep 0.5
  done
  echo "the server did not become ready:"; cat "$WORK/server.log"; exit 1
}

# ---------------------------------------------------------------- tokens
mint() { # role sub [org]
  local args=(token --role "$1" --sub "$2")
  [ -n "${3:-}" ] && args+=(--org "$3")
  if [ -n "${API_BIN:-}" ]; then "$API_BIN" "${args[@]}"; else (cd "$ROOT" && cargo run -q -p api -- "${args[@]}"); fi
}

tokens() {
  local spec role sub org var
  for spec in "applicant 900101300126 -" "operator op-1 gfc-astana-1" "employee emp-1 astana-education" \
              "head head-1 astana-education" "reviewer rev-1 quality-agency" "admin admin-1 -"; do
    read -r role sub org <<<"$spec"
    var="CONTRACT_TOKEN_${role^^}"
    if [ -z "${!var:-}" ]; then
      if [ -z "${JWT_HS256_SECRET:-}" ]; then
        echo "$var is not set and there is no JWT_HS256_SECRET to mint it"; exit 1
      fi
      [ "$org" = "-" ] && org=""
      printf -v "$var" '%s' "$(mint "$role" "$sub" "$org")"
    fi
    export "${var?}"
  done
}

# ---------------------------------------------------------------- stages
declare -A RESULT=()
run_stage() { # name command...
  local name=$1; shift
  local t0=$(date +%s)
  log "== $name"
  if "$@"; then RESULT[$name]="passed"; else RESULT[$name]="FAILED"; fi
  log "== $name: ${RESULT[$name]} in $(( $(date +%s) - t0 ))s"
}

stage_lint() {
  "$BIN_DIR/spectral" lint --ruleset "$HERE/.spectral.yaml" --fail-severity=warn "$SPEC"
}

stage_client() {
  "$BIN_DIR/openapi-typescript" "$SPEC" -o "$HERE/client/schema.d.ts" --silent --empty-objects-unknown &&
    "$BIN_DIR/tsc" -p "$HERE/client/tsconfig.json" --noEmit &&
    "$BIN_DIR/tsc" -p "$HERE/client/tsconfig.json" --outDir "$HERE/client/.build" &&
    CONTRACT_BASE_URL="$BASE_URL" node "$HERE/client/.build/smoke.js"
}

stage_yaml() {
  "$PYTHON" "$HERE/yaml11.py" "$SPEC" "$BASE_URL"
}

stage_forms() {
  rm -rf "$ARTIFACTS/forms"
  mkdir -p "$ARTIFACTS/forms"
  (cd "$HERE/forms" && CONTRACT_BASE_URL="$BASE_URL" CONTRACT_CHROMIUM="$CHROMIUM" CONTRACT_FORMS_ARTIFACTS="$ARTIFACTS/forms" \
    node --test --test-concurrency=1 --test-reporter=spec forms.test.mjs) &&
    log "forms: screenshots in $ARTIFACTS/forms ($(ls "$ARTIFACTS/forms" | grep -c '\.png$') files)"
}

stage_schemathesis() {
  local reports="${CONTRACT_REPORT_DIR:-$WORK/schemathesis-report}"
  # Hypothesis keeps its own caches (no example database: schemathesis.toml) outside the working tree.
  HYPOTHESIS_STORAGE_DIRECTORY="$CACHE/hypothesis" \
  CONTRACT_SPEC="$SPEC" SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}" \
    "$SCHEMATHESIS" --config-file "$HERE/schemathesis.toml" run "$SPEC" --url "$BASE_URL" \
      --report junit --report-dir "$reports" \
      ${CONTRACT_SCHEMATHESIS_ARGS:-}
}

# Not a check: refreshes api/src/openapi_examples.json (the response examples of the spec) from this server.
stage_capture() {
  CONTRACT_BASE_URL="$BASE_URL" "$PYTHON" "$HERE/capture_examples.py" ${CONTRACT_CAPTURE_OUT:-}
}

# ---------------------------------------------------------------- main
if has_stage lint || has_stage client; then install_node; fi
if has_stage forms; then install_forms; fi
if has_stage schemathesis || has_stage capture || has_stage yaml; then install_python; fi

if [ -n "${CONTRACT_BASE_URL:-}" ]; then
  BASE_URL="${CONTRACT_BASE_URL%/}"
  log "testing the deployment at $BASE_URL"
  curl -fsS "$BASE_URL/health/ready" >/dev/null || { echo "$BASE_URL/health/ready does not answer"; exit 1; }
elif has_stage client || has_stage schemathesis || has_stage capture || has_stage yaml || has_stage forms; then
  start_server
fi
if has_stage client || has_stage schemathesis || has_stage capture || has_stage forms; then tokens; fi

for stage in capture lint yaml client forms schemathesis; do
  if has_stage "$stage"; then run_stage "$stage" "stage_$stage"; fi
done

passed=0; failed=0
for stage in "${!RESULT[@]}"; do
  if [ "${RESULT[$stage]}" = passed ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $stage"; fi
done
if [ -n "$SERVER_PID" ] && [ "$failed" -gt 0 ]; then
  echo "--- last server log lines ($WORK/server.log)"; tail -n 40 "$WORK/server.log" || true
fi
log "contract stages: $passed passed, $failed failed"
echo "contract: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
