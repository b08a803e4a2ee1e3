#!/usr/bin/env bash
# Clients generated from the spec in other languages, run against the sandbox.
#   bash tests/consumers/run.sh install   # the pinned tools, under target/consumers (network)
#   bash tests/consumers/run.sh           # everything else, offline
# Python: openapi-python-client generates a client from spec/p100.yaml, `mypy --strict` checks it
# and the flow (python/), which then runs against a fresh sandbox. TypeScript: openapi-typescript
# generates types from spec/p100.yaml and from the 3.1 rendering (spec/p100.openapi-3.1.json, whose
# `webhooks:` gives one payload type per kind), `tsc --strict` checks the flow and the webhook
# handler (typescript/), and the flow runs against another fresh sandbox. openapi-generator must
# find no schema of undefined type. Everything is written under target/consumers.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=target/consumers
VENV=$OUT/venv
NODE=$OUT/node

if [ "${1:-}" = install ]; then
  mkdir -p "$OUT"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/consumers/requirements.txt
  mkdir -p "$NODE"
  cp tests/consumers/package.json tests/consumers/package-lock.json "$NODE/"
  npm ci --silent --no-audit --no-fund --prefix "$NODE" >/dev/null
  exit 0
fi

step() { printf -- '--- consumers: %s\n' "$*"; }
for tool in "$VENV/bin/openapi-python-client" "$NODE/node_modules/.bin/tsc"; do
  [ -x "$tool" ] || { echo "missing $tool: run 'bash tests/consumers/run.sh install' first" >&2; exit 1; }
done

SANDBOX_PIDS=()
stop_sandboxes() { for pid in "${SANDBOX_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap stop_sandboxes EXIT
# A fresh sandbox on a free loopback port, manual clock (the flows move it with /__sandbox/advance,
# so no flow waits for time), webhook bodies kept for the TypeScript handler. Sets BASE.
start_sandbox() {
  local log="$OUT/sandbox-$1.log"
  printf 'api_key = "consumer-key"\nmanual_clock = true\n\n[retention]\nunsent_webhook_bodies = true\n' >"$OUT/sandbox.toml"
  "${CARGO_TARGET_DIR:-target}/debug/p100-sandbox" --config "$OUT/sandbox.toml" --port 0 >"$log" 2>&1 &
  SANDBOX_PIDS+=($!)
  BASE=
  for _ in $(seq 100); do
    BASE=$(sed -n 's/^ *base URL: *\(http[^ ]*\).*/\1/p' "$log" | head -1)
    [ -n "$BASE" ] && break
    sleep 0.1   # waiting for a child process to print its address, not for time to pass
  done
  [ -n "$BASE" ] || { cat "$log" >&2; echo "the sandbox did not start" >&2; exit 1; }
}

step "build the sandbox"
cargo build --quiet -p p100-sandbox

step "openapi-generator: schemas of undefined type"
rm -rf "$OUT/openapi-generator"
"$VENV/bin/openapi-generator-cli" generate -g python -i spec/p100.yaml -o "$OUT/openapi-generator" \
  >"$OUT/openapi-generator.log" 2>&1 || { cat "$OUT/openapi-generator.log" >&2; exit 1; }
undefined=$(grep -c 'undefined type' "$OUT/openapi-generator.log" || true)
echo "openapi-generator python: $undefined 'undefined type' warnings"
[ "$undefined" -eq 0 ] || { grep 'undefined type' "$OUT/openapi-generator.log" >&2; exit 1; }

step "Python: generate (openapi-python-client), mypy --strict, the flow"
mkdir -p "$OUT/py"
printf 'project_name_override: p100-client\npackage_name_override: p100_client\npost_hooks: []\n' >"$OUT/py/config.yaml"
"$VENV/bin/openapi-python-client" generate --path spec/p100.yaml --config "$OUT/py/config.yaml" \
  --meta none --output-path "$OUT/py/p100_client" --overwrite >"$OUT/py/generate.log" 2>&1 \
  || { cat "$OUT/py/generate.log" >&2; exit 1; }
python3 tests/consumers/python/gen_values.py spec/p100.yaml "$OUT/py/p100_values.py"
(cd "$OUT/py" && "$ROOT/$VENV/bin/mypy" --strict --cache-dir "$ROOT/$OUT/mypy-cache" p100_client p100_values.py)
(cd tests/consumers/python && MYPYPATH="$ROOT/$OUT/py" "$ROOT/$VENV/bin/mypy" --strict \
  --cache-dir "$ROOT/$OUT/mypy-cache" flow.py exact.py)
start_sandbox python
PYTHONPATH="$OUT/py:tests/consumers/python" "$VENV/bin/python" tests/consumers/python/flow.py "$BASE" consumer-key

step "TypeScript: types from the 3.0 and 3.1 files (openapi-typescript), tsc --strict, the flow and the webhooks"
TS=$OUT/ts
rm -rf "$TS" && mkdir -p "$TS"
cp tests/consumers/typescript/*.ts tests/consumers/typescript/gen.mjs tests/consumers/typescript/tsconfig.json "$TS/"
echo '{"type": "module"}' >"$TS/package.json"
ln -s "$ROOT/$NODE/node_modules" "$TS/node_modules"
(cd "$TS" && node gen.mjs "$ROOT/spec/p100.yaml" p100.ts && node gen.mjs "$ROOT/spec/p100.openapi-3.1.json" p100-31.ts)
kinds=$(grep -c '^    [a-z0-9_]*: {$' <(sed -n '/^export interface webhooks {/,/^}/p' "$TS/p100-31.ts"))
echo "openapi-typescript on the 3.1 file: $kinds webhook kinds"
[ "$kinds" -eq 18 ] || { echo "expected 18 webhook kinds, got $kinds" >&2; exit 1; }
(cd "$TS" && node_modules/.bin/tsc -p tsconfig.json)
start_sandbox typescript
node "$TS/out/flow.js" "$BASE" consumer-key

step "the 3.1 rendering is valid"
python3 -m openapi_spec_validator spec/p100.openapi-3.1.json
"$NODE/node_modules/.bin/redocly" lint --format=summary spec/p100.openapi-3.1.json
echo "consumers: OK"
