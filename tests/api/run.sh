#!/usr/bin/env bash
# System tests of the HTTP API, one command: the Boot UI in a real browser, a client
# generated from the live OpenAPI document, TypeScript types, schemathesis,
# openapi-spec-validator, the remote CLI commands (key file and ssh-agent), and the
# service under systemd's protocols (socket activation, sd_notify, SIGTERM) - each
# against its own fresh `provision serve --activator none` on a free 127.0.0.1 port
# with a temporary state directory.
#
# Installs what it needs, idempotently: apt chromium + openssh-client, npm ci in
# tests/browser and tests/clients, a Python venv under target/api-tests/venv.
# Prints `N passed, N failed` last; exits non-zero on any failure. Servers are always killed.
#
# Env: ARTIFACTS (default <repo>/artifacts/api), CAIRN_SKIP_INSTALL=1 to trust the environment.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK="$ROOT/target/api-tests"
ARTIFACTS="${ARTIFACTS:-$ROOT/artifacts/api}"
VENV="$WORK/venv"
LOGS="$ARTIFACTS/logs"
mkdir -p "$WORK" "$ARTIFACTS" "$LOGS"

PASSED=0
FAILED=0
FAILURES=()
SERVERS=()

record() { # record NAME STATUS
    if [ "$2" -eq 0 ]; then
        PASSED=$((PASSED + 1)); echo "PASS  $1"
    else
        FAILED=$((FAILED + 1)); FAILURES+=("$1"); echo "FAIL  $1 (exit $2)"
    fi
}

cleanup() {
    local pid
    for pid in "${SERVERS[@]}"; do
        kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    SERVERS=()
}
trap cleanup EXIT INT TERM

die() { echo "run.sh: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

# ---------- prerequisites (idempotent) ----------
install() {
    local missing=()
    command -v chromium >/dev/null || missing+=(chromium)
    command -v ssh-keygen >/dev/null || missing+=(openssh-client)
    command -v curl >/dev/null || missing+=(curl)
    command -v systemd-socket-activate >/dev/null || missing+=(systemd)
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "installing ${missing[*]} (apt)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >"$LOGS/apt.log" 2>&1 \
            || { apt-get update -q >>"$LOGS/apt.log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >>"$LOGS/apt.log" 2>&1; } \
            || die "apt-get install ${missing[*]} failed (see $LOGS/apt.log)"
    fi
    command -v node >/dev/null || die "node is required (Debian package nodejs)"
    if [ ! -x "$VENV/bin/python" ]; then
        python3 -m venv "$VENV" || die "python3 -m venv failed (Debian package python3-venv)"
    fi
    "$VENV/bin/pip" install -q -r "$ROOT/tests/clients/requirements.txt" >"$LOGS/pip.log" 2>&1 \
        || die "pip install failed (see $LOGS/pip.log)"
    (cd "$ROOT/tests/browser" && npm ci --no-audit --no-fund >"$LOGS/npm-browser.log" 2>&1) \
        || die "npm ci in tests/browser failed (see $LOGS/npm-browser.log)"
    (cd "$ROOT/tests/clients" && npm ci --no-audit --no-fund >"$LOGS/npm-clients.log" 2>&1) \
        || die "npm ci in tests/clients failed (see $LOGS/npm-clients.log)"
}
if [ "${CAIRN_SKIP_INSTALL:-0}" != 1 ]; then install; fi

echo "building provision"
(cd "$ROOT" && cargo build -q -p provision) || die "cargo build -p provision failed"
PROVISION="$ROOT/target/debug/provision"

free_port() { "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_server NAME: starts a fresh dev-mode server; sets URL and SERVER_PID.
start_server() {
    local name=$1 state port i
    state=$(mktemp -d "$WORK/state-$name.XXXXXX")
    port=$(free_port)
    "$PROVISION" serve --state-dir "$state" --listen "127.0.0.1:$port" --activator none \
        >"$LOGS/server-$name.log" 2>&1 &
    SERVER_PID=$!
    SERVERS+=("$SERVER_PID")
    URL="http://127.0.0.1:$port"
    for i in $(seq 1 100); do
        if curl -fsS "$URL/api/health" >/dev/null 2>&1; then return 0; fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "server $name did not come up; log:"; cat "$LOGS/server-$name.log"
    return 1
}

stop_server() {
    kill -TERM "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    local status=$?
    SERVERS=("${SERVERS[@]/$SERVER_PID}")
    # 0 = clean exit after SIGTERM (graceful shutdown).
    return $status
}

run_suite() { # run_suite NAME COMMAND...: fresh server, command, graceful stop
    local name=$1; shift
    if ! start_server "$name"; then record "$name" 1; return; fi
    "$@" 2>&1 | tee "$LOGS/$name.log"
    local status=${PIPESTATUS[0]}
    record "$name" "$status"
    stop_server; record "$name: graceful shutdown on SIGTERM" $?
}

# ---------- suites ----------
spec_validator() {
    curl -fsS "$URL/openapi.json" -o "$ARTIFACTS/openapi.json" &&
        "$VENV/bin/openapi-spec-validator" "$ARTIFACTS/openapi.json"
}

browser() {
    (cd "$ROOT/tests/browser" && CAIRN_URL="$URL" ARTIFACTS="$ARTIFACTS/browser" node boot-ui.test.mjs)
}

generated_python_client() {
    CAIRN_URL="$URL" WORK="$WORK" VENV="$VENV" PROVISION="$PROVISION" bash "$ROOT/tests/clients/python.sh"
}

typescript_types() {
    CAIRN_URL="$URL" WORK="$WORK" bash "$ROOT/tests/clients/typescript.sh"
}

cli_commands() {
    CAIRN_URL="$URL" PROVISION="$PROVISION" bash "$ROOT/tests/api/cli.sh"
}

schemathesis() {
    CAIRN_URL="$URL" VENV="$VENV" ARTIFACTS="$ARTIFACTS" bash "$ROOT/tests/api/schemathesis.sh"
}

run_suite openapi-spec-validator spec_validator
run_suite browser browser
run_suite generated-python-client generated_python_client
run_suite typescript-types typescript_types
run_suite schemathesis schemathesis
run_suite cli cli_commands

# Socket activation, sd_notify and SIGTERM start their own servers.
PROVISION="$PROVISION" VENV="$VENV" bash "$ROOT/tests/api/service.sh" 2>&1 | tee "$LOGS/service.log"
record service "${PIPESTATUS[0]}"

cleanup
if [ "$FAILED" -gt 0 ]; then printf 'failed: %s\n' "${FAILURES[@]}"; fi
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
