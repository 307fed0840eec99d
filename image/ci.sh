#!/usr/bin/env bash
# ci.sh: install host packages, then run the appliance suites, timing each step.
# Called by .ci/run. Any failing suite fails the script; every suite always runs.
# kiosk runs first: it builds the kiosk into the image, which the other suites then
# reuse (one image build instead of two).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
"$here/host-deps.sh"
# The kiosk suite's build (GTK 4, WebKitGTK, GStreamer headers) and its RTSP cameras
# (python3-gi, GStreamer's RTSP server, x264) need the kiosk test's packages.
"$root/tests/kiosk/run.sh" --deps-only
rc=0
for suite in kiosk smoke ota apply power-cut; do
    start=$SECONDS
    if "$root/tests/vm/run" "$suite"; then
        echo "appliance suite $suite: ok in $((SECONDS - start)) s"
    else
        echo "appliance suite $suite: FAILED after $((SECONDS - start)) s"
        rc=1
    fi
done
exit "$rc"
