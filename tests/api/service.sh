#!/usr/bin/env bash
# The service as systemd runs it: socket activation (LISTEN_FDS via systemd-socket-activate),
# sd_notify READY=1 only once the socket answers, a header read timeout against slow
# clients, and a clean exit on SIGTERM.
# Env: PROVISION, VENV (for python). Needs systemd-socket-activate (package systemd).
set -uo pipefail
T=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
passed=0; failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -f "${2:-/dev/null}" ] && sed 's/^/     /' "$2"; }
PY="$VENV/bin/python"
port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

command -v systemd-socket-activate >/dev/null || { echo "FAIL systemd-socket-activate missing (package systemd)"; exit 1; }

# 1. Socket activation: systemd-socket-activate binds, passes fd 3 with LISTEN_FDS=1.
P=$(port)
systemd-socket-activate -l "127.0.0.1:$P" "$PROVISION" serve --state-dir "$T/sa" --activator none >"$T/sa.log" 2>&1 &
PIDS+=($!)
sleep 0.3
if [ "$(curl -fsS --retry 20 --retry-delay 0 --retry-connrefused "http://127.0.0.1:$P/api/health")" = '{"status":"ok"}' ] &&
    grep -q "using the socket passed by systemd" "$T/sa.log"; then
    ok "socket activation: serves on the socket systemd passed"
else
    bad "socket activation" "$T/sa.log"
fi

# 2. sd_notify: READY=1 arrives on NOTIFY_SOCKET, and by then the socket answers.
P=$(port)
cat >"$T/notify.py" <<'PY'
import socket, sys, urllib.request
path, url = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(20)
open(path + ".bound", "w").close()
while True:
    msg = s.recv(4096).decode()
    if "READY=1" in msg.split("\n"):
        body = urllib.request.urlopen(url, timeout=2).read().decode()
        print("READY", body)
        sys.exit(0 if body == '{"status":"ok"}' else 1)
PY
"$PY" "$T/notify.py" "$T/notify.sock" "http://127.0.0.1:$P/api/health" >"$T/notify.out" 2>&1 &
NPID=$!
for _ in $(seq 50); do [ -e "$T/notify.sock.bound" ] && break; sleep 0.1; done
NOTIFY_SOCKET="$T/notify.sock" "$PROVISION" serve --state-dir "$T/n" --listen "127.0.0.1:$P" --activator none >"$T/n.log" 2>&1 &
SPID=$!
PIDS+=($SPID)
if wait "$NPID"; then ok "sd_notify READY=1 after the socket is bound"; else bad "sd_notify READY=1" "$T/notify.out"; fi

# 3. A client that never finishes its headers is cut off (header read timeout, 10 s).
cat >"$T/slow.py" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # ...and never the blank line
start = time.monotonic()
s.settimeout(30)
try:
    data = s.recv(4096)
except socket.timeout:
    print("still open after 30 s"); sys.exit(1)
print(f"closed after {time.monotonic() - start:.1f} s: {data[:40]!r}")
sys.exit(0 if time.monotonic() - start < 15 else 1)
PY
if "$PY" "$T/slow.py" "$P" >"$T/slow.out" 2>&1; then ok "slow headers: $(cat "$T/slow.out")"; else bad "slow headers" "$T/slow.out"; fi

# 4. SIGTERM: exits 0, promptly.
start=$(date +%s%N)
kill -TERM "$SPID"
if wait "$SPID"; then
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    ok "SIGTERM: clean exit in ${ms} ms"
else
    bad "SIGTERM: exit status $?" "$T/n.log"
fi

echo "service: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
