#!/usr/bin/env bash
# Headless end-to-end test of the kiosk display: real RTSP cameras on 127.0.0.1, the
# kiosk under Xvfb, screenshots with pixel checks, the local API, sd_notify, SIGHUP.
# Usage: tests/kiosk/run.sh [--bench|--deps-only]   (installs its Debian packages when run as root)
#   --bench      after the tests, print layout-switch times (warm vs cold) and CPU per stream
#   --deps-only  only install and check the packages (the display feature's build needs them too)
# Env: KIOSK_BIN=path to skip the build; KEEP=1 to keep the work directory.
set -uo pipefail
cd "$(dirname "$0")/../.."
source tests/lib.sh
ROOT=$PWD
BENCH=
DEPS_ONLY=
case "${1:-}" in
  --bench) BENCH=1 ;;
  --deps-only) DEPS_ONLY=1 ;;
  "") ;;
  *)
    echo "usage: $0 [--bench|--deps-only]" >&2
    exit 2
    ;;
esac

# ---------------------------------------------------------------- prerequisites
PKGS=(xvfb xauth imagemagick curl gstreamer1.0-tools python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-rtsp-server-1.0
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly
  gstreamer1.0-libav libx11-6 libxfixes3 libgtk-4-dev libwebkitgtk-6.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev)
if ! apt_install "${PKGS[@]}"; then
  echo "FAILED: could not install the kiosk test packages" >&2
  exit 1
fi
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || {
    echo "FAILED: missing Debian package '$p'" >&2
    exit 1
  }
done
PY=/usr/bin/python3 # Debian's python, where python3-gi is installed (not a pyenv one)
for e in x264enc rtph264pay avdec_h264 rtspsrc decodebin videoconvert jpegenc; do
  gst-inspect-1.0 "$e" >/dev/null 2>&1 || {
    echo "FAILED: GStreamer element '$e' missing (packages: gstreamer1.0-plugins-{good,ugly}, gstreamer1.0-libav)" >&2
    exit 1
  }
done

[ -n "$DEPS_ONLY" ] && exit 0

if [ -z "${KIOSK_BIN:-}" ]; then
  echo "==> building the kiosk with the display feature"
  cargo build -p cairn-kiosk --features display --locked || exit 1
  KIOSK_BIN=$ROOT/target/debug/kiosk
fi

# ---------------------------------------------------------------- fixtures
WORK=$(mktemp -d /tmp/cairn-kiosk-test.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  [ -n "${KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RTSP_PORT=$(free_port)
WEB_PORT=$(free_port)
API_PORT=$(free_port)
DISP=:$((90 + RANDOM % 100))
W=1280
H=720

mkdir -p "$WORK/www" "$WORK/state"
cat >"$WORK/www/index.html" <<'EOF'
<!doctype html><html><body style="margin:0;background:#ffff00"><h1 style="color:#ffff00">web tile</h1></body></html>
EOF
cat >"$WORK/www/local.html" <<'EOF'
<!doctype html><html><body style="margin:0;background:#00ffff"></body></html>
EOF
cat >"$WORK/bundle.json" <<EOF
{
  "version": 1,
  "default_layout": "grid",
  "idle_revert_seconds": 0,
  "cooling_seconds": 60,
  "local_api": "127.0.0.1:${API_PORT}",
  "cameras": {
    "red":   {"name": "Red",   "main": "rtsp://127.0.0.1:${RTSP_PORT}/red",   "sub": null, "username": null, "password_file": null, "transport": "tcp", "latency_ms": 100},
    "green": {"name": "Green", "main": "rtsp://127.0.0.1:${RTSP_PORT}/green", "sub": null, "username": null, "password_file": null, "transport": "tcp", "latency_ms": 100},
    "blue":  {"name": "Blue",  "main": "rtsp://127.0.0.1:${RTSP_PORT}/blue",  "sub": null, "username": null, "password_file": null, "transport": "tcp", "latency_ms": 100},
    "white": {"name": "White", "main": "rtsp://127.0.0.1:${RTSP_PORT}/white", "sub": null, "username": null, "password_file": null, "transport": "tcp", "latency_ms": 100}
  },
  "layouts": {
    "grid": {"name": "Grid", "columns": 2, "rows": 2, "priority": "normal", "cells": [
      {"col": 0, "row": 0, "col_span": 1, "row_span": 1, "fit": "cover", "content": {"type": "camera", "camera": "red", "stream": "auto"}},
      {"col": 1, "row": 0, "col_span": 1, "row_span": 1, "fit": "cover", "content": {"type": "camera", "camera": "green", "stream": "auto"}},
      {"col": 0, "row": 1, "col_span": 1, "row_span": 1, "fit": "cover", "content": {"type": "camera", "camera": "blue", "stream": "auto"}},
      {"col": 1, "row": 1, "col_span": 1, "row_span": 1, "fit": "fill", "content": {"type": "url", "url": "http://127.0.0.1:${WEB_PORT}/index.html"}}
    ]},
    "solo": {"name": "Green only", "columns": 1, "rows": 1, "priority": "normal", "cells": [
      {"col": 0, "row": 0, "col_span": 1, "row_span": 1, "fit": "cover", "content": {"type": "camera", "camera": "green", "stream": "main"}}
    ]},
    "pages": {"name": "Inline HTML and a file", "columns": 2, "rows": 1, "priority": "normal", "cells": [
      {"col": 0, "row": 0, "col_span": 1, "row_span": 1, "fit": "fill", "content": {"type": "html", "html": "<body style='margin:0;background:#ff00ff'></body>"}},
      {"col": 1, "row": 0, "col_span": 1, "row_span": 1, "fit": "fill", "content": {"type": "html_file", "path": "${WORK}/www/local.html"}}
    ]},
    "cold": {"name": "White (cold)", "columns": 1, "rows": 1, "priority": "normal", "cells": [
      {"col": 0, "row": 0, "col_span": 1, "row_span": 1, "fit": "cover", "content": {"type": "camera", "camera": "white", "stream": "main"}}
    ]}
  }
}
EOF

start_rtsp() {
  $PY tests/kiosk/rtsp_server.py "$RTSP_PORT" red=ff0000 green=00ff00 blue=0000ff white=ffffff m1=moving m2=moving m3=moving m4=moving >>"$WORK/rtsp.log" 2>&1 &
  RTSP_PID=$!
  PIDS+=("$RTSP_PID")
  for _ in $(seq 50); do
    grep -q "rtsp server on" "$WORK/rtsp.log" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "rtsp server did not start:" >&2
  cat "$WORK/rtsp.log" >&2
  return 1
}

start_rtsp || exit 1
(cd "$WORK/www" && exec $PY -m http.server --bind 127.0.0.1 "$WEB_PORT") >"$WORK/http.log" 2>&1 &
PIDS+=($!)
Xvfb "$DISP" -screen 0 ${W}x${H}x24 -nolisten tcp >"$WORK/xvfb.log" 2>&1 &
PIDS+=($!)
$PY tests/kiosk/notify_listener.py "$WORK/notify.sock" "$WORK/notify.log" &
PIDS+=($!)
sleep 1

# The kiosk, as systemd would run it: notify socket and watchdog (every 1 s here).
DISPLAY=$DISP NOTIFY_SOCKET=$WORK/notify.sock WATCHDOG_USEC=2000000 \
  GSK_RENDERER=${GSK_RENDERER:-cairo} RUST_LOG=info,cairn_kiosk::display=debug \
  sh -c 'WATCHDOG_PID=$$ exec "$0" "$@"' "$KIOSK_BIN" --bundle "$WORK/bundle.json" --state-dir "$WORK/state" >"$WORK/kiosk.log" 2>&1 &
KIOSK_PID=$!
PIDS+=("$KIOSK_PID")

# ---------------------------------------------------------------- helpers
key() { cat "$WORK/state/local.key"; }
api() { # api METHOD PATH [curl args...]
  local m=$1 p=$2
  shift 2
  curl -sS -m 10 -X "$m" -H "Authorization: Bearer $(key)" "$@" "http://127.0.0.1:${API_PORT}$p"
}
# wait_for SECONDS CMD...: polls CMD every 0.5 s.
wait_for() {
  local t=$1
  shift
  local end=$((SECONDS + t))
  while [ $SECONDS -lt $end ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  return 1
}
cam_state() { # cam_state NAME STATE-PREFIX
  api GET /local/info | $PY -c "import json,sys; i=json.load(sys.stdin); sys.exit(0 if any(p['key']=='camera:$1:M' and p['state'].startswith('$2') for p in i['pool']) else 1)"
}
shot() { DISPLAY=$DISP import -window root "$WORK/$1.png" 2>/dev/null; }
# pixel SHOT X Y → "r g b"
pixel() { convert "$WORK/$1.png" -format "%[fx:int(255*p{$2,$3}.r)] %[fx:int(255*p{$2,$3}.g)] %[fx:int(255*p{$2,$3}.b)]" info:; }
# near SHOT X Y R G B: the pixel is within 48 of the colour on every channel.
near() {
  local got
  got=$(pixel "$1" "$2" "$3") || return 1
  read -r r g b <<<"$got"
  local d
  for d in $((r - $4)) $((g - $5)) $((b - $6)); do
    [ ${d#-} -le 48 ] || {
      echo "  $1 ($2,$3) is ($r,$g,$b), want ($4,$5,$6)"
      return 1
    }
  done
  echo "  $1 ($2,$3) is ($r,$g,$b) ~ ($4,$5,$6)"
}
# Sample points away from the tile centre (status text) and top-right corner (badge).
TL="$((W / 8)) $((H / 8 + 40))"
TR="$((W / 2 + W / 8)) $((H / 8 + 40))"
BL="$((W / 8)) $((H / 2 + H / 8 + 40))"
BR="$((W / 2 + W / 8)) $((H / 2 + H / 8 + 40))"

# ---------------------------------------------------------------- tests
t_ready() {
  wait_for 60 grep -q READY=1 "$WORK/notify.log" || {
    echo "no READY=1"
    return 1
  }
  wait_for 30 cam_state red playing && wait_for 10 cam_state green playing && wait_for 10 cam_state blue playing
}
t_key_file() {
  [ "$(stat -c %a "$WORK/state/local.key")" = 600 ] && [ "$(wc -c <"$WORK/state/local.key")" -eq 65 ]
}
t_grid() {
  sleep 3 # let the web page paint
  shot grid && near grid $TL 255 0 0 && near grid $TR 0 255 0 && near grid $BL 0 0 255 && near grid $BR 255 255 0
}
t_unauthenticated() {
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:${API_PORT}/local/layout/solo")
  [ "$code" = 401 ] || return 1
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:${API_PORT}/local/layout/solo?key=$(key)")
  [ "$code" = 401 ] || return 1
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(key | tr 0-9a-f 1-9a-f0)" "http://127.0.0.1:${API_PORT}/local/info")
  [ "$code" = 401 ]
}
t_snapshot() {
  api GET /local/snapshot/red -o "$WORK/snap.jpg" -w '%{http_code} %{content_type}\n' | grep -q '^200 image/jpeg' || return 1
  [ "$(identify -format %m "$WORK/snap.jpg")" = JPEG ] || return 1
  convert "$WORK/snap.jpg" "$WORK/snap.png" && near snap 100 100 255 0 0
  local code
  code=$(api GET /local/snapshot/nope -o /dev/null -w '%{http_code}')
  [ "$code" = 404 ]
}
t_watchdog() { grep -q WATCHDOG=1 "$WORK/notify.log"; }
t_camera_down() {
  kill "$RTSP_PID"
  wait "$RTSP_PID" 2>/dev/null
  wait_for 40 cam_state red error || {
    echo "red never reported an error"
    return 1
  }
  sleep 1
  shot down && near down $TL 110 0 0 && near down $TR 110 0 0
}
t_camera_back() {
  start_rtsp || return 1
  wait_for 60 cam_state red playing && wait_for 30 cam_state green playing && wait_for 30 cam_state blue playing || {
    echo "cameras did not recover"
    return 1
  }
  sleep 1
  shot back && near back $TL 255 0 0 && near back $TR 0 255 0 && near back $BL 0 0 255
}
cam_error_is() { # cam_error_is NAME TEXT: the camera's error mentions TEXT
  api GET /local/info | $PY -c "import json,sys; i=json.load(sys.stdin); sys.exit(0 if any(p['key']=='camera:$1:M' and p['state'].startswith('error') and '$2' in p['state'] for p in i['pool']) else 1)"
}
t_stall() {
  # A frozen server keeps the TCP connection open but sends nothing: only the
  # kiosk's own stall detection (no frame for 15 s) can notice.
  kill -STOP "$RTSP_PID"
  wait_for 30 cam_error_is red "no frame" || {
    kill -CONT "$RTSP_PID"
    echo "no stall detected"
    return 1
  }
  sleep 1
  shot stalled && near stalled $TL 110 0 0
  local ok=$?
  kill -CONT "$RTSP_PID"
  [ $ok -eq 0 ] || return 1
  wait_for 60 cam_state red playing && wait_for 30 cam_state green playing && wait_for 30 cam_state blue playing || {
    echo "did not recover after the stall"
    return 1
  }
  sleep 1
  shot unstalled && near unstalled $TL 255 0 0
}
t_switch_warm() {
  local starts_before
  starts_before=$(grep -c 'rtspsrc\|switching layout' "$WORK/kiosk.log")
  api POST /local/layout/solo | grep -q '"layout":"solo"' || return 1
  sleep 1
  shot solo && near solo $((W / 4)) $((H / 4)) 0 255 0 && near solo $((W * 3 / 4)) $((H * 3 / 4)) 0 255 0 || return 1
  # Warm: green was already decoded, so the switch started nothing.
  grep 'switching layout' "$WORK/kiosk.log" | tail -1 | grep -q 'started=0' || {
    echo "warm switch started a pipeline: $(grep 'switching layout' "$WORK/kiosk.log" | tail -1)"
    return 1
  }
  : "$starts_before"
}
t_animation() {
  # The switches above glided their tiles: more than a couple of intermediate frames.
  local line frames
  line=$(grep 'layout animation done' "$WORK/kiosk.log" | tail -1)
  echo "  $line"
  frames=$(sed -n 's/.*frames=\([0-9]*\).*/\1/p' <<<"$line")
  [ "${frames:-0}" -ge 3 ]
}
t_switch_back_and_unknown() {
  local code
  code=$(api POST /local/layout/nope -o /dev/null -w '%{http_code}')
  [ "$code" = 404 ] || return 1
  api POST /local/layout/grid >/dev/null && sleep 1 && shot grid2 && near grid2 $TL 255 0 0 && near grid2 $BR 255 255 0
}
t_inline_and_file_pages() {
  api POST /local/layout/pages | grep -q '"layout":"pages"' || return 1
  sleep 3
  shot pages && near pages $((W / 4)) $((H / 2)) 255 0 255 && near pages $((W * 3 / 4)) $((H / 2)) 0 255 255 || return 1
  api POST /local/layout/grid >/dev/null
}
t_rapid_switching() {
  # Switch faster than the animation and the cold starts: nothing may panic or leak a
  # tile, and the display settles on the last layout asked for.
  local l
  for l in solo pages cold grid solo grid pages solo cold grid cold pages grid solo grid; do
    api POST "/local/layout/$l" >/dev/null || return 1
    sleep 0.1
  done
  kill -0 "$KIOSK_PID" || {
    echo "the kiosk died"
    return 1
  }
  wait_for 30 cam_state red playing && wait_for 10 cam_state green playing && wait_for 10 cam_state blue playing || return 1
  sleep 3
  shot rapid && near rapid $TL 255 0 0 && near rapid $TR 0 255 0 && near rapid $BL 0 0 255 && near rapid $BR 255 255 0 || return 1
  ! grep -E 'panicked|CRITICAL' "$WORK/kiosk.log"
}
t_sighup_keeps_pipelines() {
  : >"$WORK/notify.log"
  kill -HUP "$KIOSK_PID"
  wait_for 10 grep -q 'bundle reloaded' "$WORK/kiosk.log" || return 1
  grep 'bundle reloaded' "$WORK/kiosk.log" | tail -1 | grep -q 'started=0 restarted=0 stopped=0' || {
    grep 'bundle reloaded' "$WORK/kiosk.log" | tail -1
    return 1
  }
  wait_for 5 grep -q RELOADING=1 "$WORK/notify.log" && wait_for 5 grep -q READY=1 "$WORK/notify.log"
}
# edit_bundle PYTHON-STATEMENTS: edits the bundle in place (variable b), then SIGHUPs the kiosk
# and waits for the reload to be logged.
edit_bundle() {
  local n
  n=$(grep -c 'bundle reloaded' "$WORK/kiosk.log")
  $PY -c "import json; p='$WORK/bundle.json'; b=json.load(open(p)); $1; json.dump(b, open(p, 'w'), indent=1)" || return 1
  kill -HUP "$KIOSK_PID"
  wait_for 10 reloads_above "$n"
}
reloads_above() { [ "$(grep -c 'bundle reloaded' "$WORK/kiosk.log")" -gt "$1" ]; }
layout_is() { [ "$(current_layout)" = "$1" ]; }
last_reload() { grep 'bundle reloaded' "$WORK/kiosk.log" | tail -1; }
current_layout() { api GET /local/info | $PY -c "import json,sys; print(json.load(sys.stdin)['current_layout'])"; }
t_reload_restarts_only_changed() {
  edit_bundle "b['cameras']['blue']['latency_ms'] = 150" || return 1
  last_reload | grep -q 'started=0 restarted=1 stopped=0' || {
    last_reload
    return 1
  }
  wait_for 30 cam_state blue playing
}
t_idle_revert() {
  edit_bundle "b['idle_revert_seconds'] = 3" || return 1
  api POST /local/layout/solo >/dev/null || return 1
  [ "$(current_layout)" = solo ] || return 1
  sleep 1
  [ "$(current_layout)" = solo ] || {
    echo "reverted too early"
    return 1
  }
  wait_for 10 layout_is grid || {
    echo "did not revert to grid"
    return 1
  }
  sleep 1
  shot idle && near idle $TL 255 0 0
}
t_cursor_hidden() { # over a camera tile and over the web tile
  DISPLAY=$DISP $PY tests/kiosk/cursor_hidden.py $TL && DISPLAY=$DISP $PY tests/kiosk/cursor_hidden.py $BR
}

step "kiosk ready (sd_notify READY=1, every camera playing)" t_ready
step "local API key file is 0600" t_key_file
step "grid: each camera tile shows its colour, the web tile its page" t_grid
step "local API refuses missing, misplaced and wrong keys" t_unauthenticated
step "snapshot is a JPEG of the camera" t_snapshot
step "watchdog pings from the main loop" t_watchdog
step "RTSP server stopped: tiles show the error state" t_camera_down
step "RTSP server back: tiles recover" t_camera_back
step "frozen server: stall detected after 15 s, then recovery" t_stall
step "switch to a warm layout through the API" t_switch_warm
step "switch back; unknown layout is 404" t_switch_back_and_unknown
step "layout switches animate over several frames" t_animation
step "inline html and html_file cells" t_inline_and_file_pages
step "rapid layout switching settles on the last layout" t_rapid_switching
step "SIGHUP with an unchanged bundle restarts nothing" t_sighup_keeps_pipelines
step "SIGHUP after a camera change restarts only that camera" t_reload_restarts_only_changed
step "idle revert returns to the default layout" t_idle_revert
step "cursor hidden over the kiosk" t_cursor_hidden

# ---------------------------------------------------------------- benchmark (figures, not assertions)
# CPU seconds used by the kiosk process so far.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$KIOSK_PID/stat"; }
switch_ms() { # switch_ms LAYOUT → ms until every camera tile of LAYOUT had a frame
  api POST "/local/layout/$1" >/dev/null || return 1
  local ms
  for _ in $(seq 100); do
    ms=$(api GET /local/info | $PY -c "import json,sys; v=json.load(sys.stdin)['last_switch_ms']; print('' if v is None else v)")
    [ -n "$ms" ] && {
      echo "$ms"
      return 0
    }
    sleep 0.1
  done
  return 1
}
bench() {
  echo "==> benchmark (release build recommended: KIOSK_BIN=target/release/kiosk)"
  # No cooling, nothing hot: only what is on screen decodes. m1..m4 are moving test
  # cards (720p25 H.264, 2 Mbit/s), closer to a real camera than a solid colour.
  edit_bundle "b['idle_revert_seconds']=0; b['cooling_seconds']=0; cam=lambda m: {'name':m,'main':'rtsp://127.0.0.1:${RTSP_PORT}/'+m,'sub':None,'username':None,'password_file':None,'transport':'tcp','latency_ms':100}; b['cameras'].update({m: cam(m) for m in ['m1','m2','m3','m4']}); c=lambda cam,col,row: {'col':col,'row':row,'col_span':1,'row_span':1,'fit':'cover','content':{'type':'camera','camera':cam,'stream':'main'}}; b['layouts']['msolo']={'name':'One stream','columns':1,'rows':1,'priority':'normal','cells':[c('m1',0,0)]}; b['layouts']['mquad']={'name':'Four streams','columns':2,'rows':2,'priority':'normal','cells':[c('m1',0,0),c('m2',1,0),c('m3',0,1),c('m4',1,1)]}; b['layouts']['web']={'name':'Web','columns':1,'rows':1,'priority':'normal','cells':[{'col':0,'row':0,'col_span':1,'row_span':1,'fit':'fill','content':{'type':'html','html':'<body style=background:#333></body>'}}]}" || return 1
  local l a z
  for l in web msolo mquad; do
    api POST "/local/layout/$l" >/dev/null
    sleep 6
    a=$(cpu_s)
    sleep 20
    z=$(cpu_s)
    echo "  cpu  layout=$l  $(awk -v a="$a" -v z="$z" 'BEGIN { printf "%.1f", (z - a) / 20 * 100 }') % of one core (kiosk process)"
  done
  # Warm vs cold: 'solo' (green) is hot-priority so always decoded; 'cold' (white) is
  # stopped whenever it is left (cooling 0), so every switch to it reconnects.
  edit_bundle "b['layouts']['solo']['priority']='hot'" || return 1
  sleep 3
  local warm=() cold=()
  for _ in 1 2 3 4 5; do
    cold+=("$(switch_ms cold)")
    sleep 1
    warm+=("$(switch_ms solo)")
    sleep 1
  done
  echo "  switch cold (reconnect + first keyframe): ${cold[*]} ms"
  echo "  switch warm (pooled decoder):             ${warm[*]} ms"
}
[ -n "$BENCH" ] && step "benchmark" bench

if [ "$STEPS_FAILED" -gt 0 ]; then
  echo "---- kiosk log (tail)"
  tail -40 "$WORK/kiosk.log"
fi
summary
