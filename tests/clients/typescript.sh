#!/usr/bin/env bash
# TypeScript types from the LIVE /openapi.json with openapi-typescript; a small program
# using every operation must compile with tsc --strict. Fails on generator warnings.
# Env: CAIRN_URL, WORK.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT="$WORK/typescript"
rm -rf "$OUT" && mkdir -p "$OUT"
curl -fsS "$CAIRN_URL/openapi.json" -o "$OUT/openapi.json"
"$HERE/node_modules/.bin/openapi-typescript" "$OUT/openapi.json" -o "$OUT/cairn.d.ts" >"$OUT/generate.log" 2>&1 \
    || { cat "$OUT/generate.log"; exit 1; }
cat "$OUT/generate.log"
if grep -qiE 'warn|error' "$OUT/generate.log"; then echo "openapi-typescript reported problems" >&2; exit 1; fi
cp "$HERE/usage.ts" "$OUT/usage.ts"
"$HERE/node_modules/.bin/tsc" --strict --noEmit --target es2022 --module nodenext --moduleResolution nodenext \
    --skipLibCheck false "$OUT/usage.ts"
echo "typescript: types generated and compiled"
