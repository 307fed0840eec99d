#!/usr/bin/env bash
# Generates a Python client from the LIVE /openapi.json with openapi-python-client (no
# hand edits), fails on any generator warning or on an operation without a generated
# function, then drives a first-boot apply and a signed re-apply with it.
# Env: CAIRN_URL, WORK, VENV.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT="$WORK/python-client"
rm -rf "$OUT" && mkdir -p "$OUT"
curl -fsS "$CAIRN_URL/openapi.json" -o "$OUT/openapi.json"
"$VENV/bin/openapi-python-client" generate --path "$OUT/openapi.json" --output-path "$OUT/cairn_client" \
    --meta none --config "$HERE/openapi-python-client.yml" >"$OUT/generate.log" 2>&1 || { cat "$OUT/generate.log"; exit 1; }
cat "$OUT/generate.log"
if grep -qiE 'warning|error|skipp|unsupported|omitted|not in path' "$OUT/generate.log"; then
    echo "openapi-python-client reported problems (above): an endpoint or body may be missing" >&2
    exit 1
fi
"$VENV/bin/python" "$HERE/check_coverage.py" "$OUT/openapi.json" "$OUT/cairn_client"
PYTHONPATH="$OUT" "$VENV/bin/python" "$HERE/test_generated_client.py"
