#!/usr/bin/env bash
# Instructions per call (valgrind --tool=callgrind), hand-written reqwest + serde vs the
# generated client vs the ergonomic client (and the ergonomic one with a `fmt` subscriber at
# INFO), GET and POST, against the same keep-alive loopback server (a separate process, not
# counted). Each figure is (instructions of WARMUP + CALLS calls - instructions of WARMUP calls)
# / CALLS, so start-up and the first connection cancel out. Instruction counts barely move
# under load, unlike wall-clock time.
#
#   bash crates/p100-perf/callgrind.sh          # CALLS=1000 WARMUP=100
#
# Needs valgrind (Debian: apt-get install valgrind). The call sites: crates/p100-perf/src/lib.rs (built alone,
# without p100-ergonomic's dev-dependencies and their features).
set -euo pipefail
cd "$(dirname "$0")/../.."
calls="${CALLS:-1000}"
warmup="${WARMUP:-100}"
cargo build --release --quiet -p p100-perf --bin per_call
bin="${CARGO_TARGET_DIR:-target}/release/per_call"
work="$(mktemp -d)"
"$bin" serve > "$work/url" &
server=$!
trap 'kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.05; done
url="$(head -n1 "$work/url")"

instructions() { # variant, op, calls
  valgrind --tool=callgrind --callgrind-out-file="$work/out" "$bin" run "$1" "$2" "$3" "$url" \
    2>&1 | awk '/Collected :/ {print $NF}'
}

printf '%-5s %-16s %12s %8s\n' op variant instr/call ratio
for op in get post; do
  base=""
  for variant in ${VARIANTS:-handwritten raw ergonomic ergonomic+fmt call}; do
    low=$(instructions "$variant" "$op" "$warmup")
    high=$(instructions "$variant" "$op" $((warmup + calls)))
    per=$(( (high - low) / calls ))
    base="${base:-$per}"
    printf '%-5s %-16s %12d %7.3fx\n' "${op^^}" "$variant" "$per" "$(echo "scale=4; $per / $base" | bc)"
  done
done
