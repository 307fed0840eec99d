#!/usr/bin/env bash
# ci.sh: install host packages, then run the appliance suites, timing each step.
# Called by .ci/run. Any failing suite fails the script; every suite always runs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
"$here/host-deps.sh"
rc=0
for suite in smoke ota apply power-cut; do
    start=$SECONDS
    if "$root/tests/vm/run" "$suite"; then
        echo "appliance suite $suite: ok in $((SECONDS - start)) s"
    else
        echo "appliance suite $suite: FAILED after $((SECONDS - start)) s"
        rc=1
    fi
done
exit "$rc"
