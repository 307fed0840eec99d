#!/usr/bin/env bash
# Load figures of the provision service (release build, dev mode, 127.0.0.1):
#   - idle RSS right after start and after load,
#   - wrk on GET /api/health and GET /api/jobs/{id} (target >= 20k req/s),
#   - 100 concurrent POST /api/config: exactly one 202, the rest 409, no hang.
# Timings are figures, not assertions; only the single-flight outcome fails the script.
# MALLOC_ARENA_MAX=1 (e.g. Environment= in the unit) keeps RSS after load lower; try
# `MALLOC_ARENA_MAX=1 tests/api/bench.sh`.
# Needs wrk (apt). Env: DURATION (default 10s), CONNECTIONS (default 64), THREADS (default 2).
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null || { echo "wrk missing (apt wrk)"; exit 1; }
(cd "$ROOT" && cargo build -q --release -p provision) || exit 1
BIN="$ROOT/target/release/provision"
T=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$T"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss() { awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' "/proc/$1/status"; }
start() {
    local p; p=$(port)
    "$BIN" serve --state-dir "$T/$1" --listen "127.0.0.1:$p" --activator none >"$T/$1.log" 2>&1 &
    PID=$!
    URL="http://127.0.0.1:$p"
    for _ in $(seq 100); do curl -fs "$URL/api/health" >/dev/null 2>&1 && return 0; sleep 0.05; done
    echo "server did not start"; cat "$T/$1.log"; return 1
}
ssh-keygen -q -t ed25519 -N '' -f "$T/admin"
sed "s|ssh-ed25519 [^\"]*|$(cat "$T/admin.pub")|" "$ROOT/config/tests/fixtures/valid/minimal.toml" >"$T/config.toml"

echo "== single flight"
start single
python3 "$ROOT/tests/api/concurrent_submit.py" "$URL" "$T/config.toml" 100
single=$?
kill "$PID"; wait "$PID" 2>/dev/null

echo "== throughput and memory"
start load
sleep 2
echo "idle RSS after start: $(rss "$PID")"
job=$(curl -fsS -H 'Content-Type: application/toml' --data-binary @"$T/config.toml" "$URL/api/config" | python3 -c 'import json,sys; print(json.load(sys.stdin)["job_url"])')
sleep 1
for path in /api/health "$job"; do
    echo "-- wrk -t$THREADS -c$CONNECTIONS -d$DURATION $path"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$URL$path" | grep -E "Requests/sec|Latency|99%|Non-2xx|Socket errors"
done
sleep 2
echo "idle RSS after load: $(rss "$PID")"
[ "$single" -eq 0 ]
