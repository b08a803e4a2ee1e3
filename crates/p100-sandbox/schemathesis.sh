#!/usr/bin/env bash
# Checks the sandbox against spec/p100.yaml with schemathesis (pinned in requirements.txt here):
# builds and starts the sandbox on a loopback port, runs every phase with a bounded number of
# examples, stops the sandbox, and exits with schemathesis' status.
#
#   python3 -m pip install -r crates/p100-sandbox/requirements.txt
#   bash crates/p100-sandbox/schemathesis.sh [extra schemathesis flags]
set -euo pipefail
cd "$(dirname "$0")/../.."
port="${P100_SANDBOX_PORT:-8100}"
key="schemathesis-key"

cargo build --quiet -p p100-sandbox
mkdir -p target
"${CARGO_TARGET_DIR:-target}/debug/p100-sandbox" --port "$port" --api-key "$key" >target/p100-sandbox-schemathesis.log 2>&1 &
sandbox=$!
trap 'kill "$sandbox" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
    break
  fi
  sleep 0.1
done

# Run from target/ so that schemathesis' own cache (.schemathesis/) stays out of the work tree.
root="$PWD"
cd target
timeout 900 python3 -m schemathesis.cli --config-file "$root/crates/p100-sandbox/schemathesis.toml" \
  run "$root/spec/p100.yaml" --url "http://127.0.0.1:$port" -H "x-api-key: $key" \
  --max-examples 20 --seed 1 --generation-database none --no-color "$@"
