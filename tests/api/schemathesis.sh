#!/usr/bin/env bash
# schemathesis against a running `provision serve` using its own live /openapi.json:
# every check, positive and negative data, zero failures allowed.
# Env: CAIRN_URL, VENV, ARTIFACTS.
set -euo pipefail
mkdir -p "$ARTIFACTS/schemathesis"
exec "$VENV/bin/schemathesis" --config-file "$(dirname "${BASH_SOURCE[0]}")/schemathesis.toml" run "$CAIRN_URL/openapi.json" \
    --checks all \
    --mode all \
    --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-40}" \
    --seed "${SCHEMATHESIS_SEED:-1}" \
    --workers 2 \
    --request-timeout 30 \
    --report junit,har \
    --report-dir "$ARTIFACTS/schemathesis" \
    --warnings off
