#!/usr/bin/env bash
# Load figures of the sandbox binary on loopback, with wrk and ab (Debian: apt-get install wrk
# apache2-utils):
#   1. GET /v1/user/balances/{id} on 2 connections (10 s);
#   2. POST /v1/transfer on 2 connections at ~0 pending events, then again after 100 000
#      transfers that stay pending (settle delay 10^7 s), 5 s each;
#   3. RSS after 0, 100k, 200k and 300k transfers that settle at once (settle delay 0).
#
#   cargo build --release -p p100-sandbox
#   bash crates/p100-sandbox/load/load.sh [target/release/p100-sandbox] [PORT]
#
# Every request goes to 127.0.0.1; each run is bounded in time and count, and the sandbox is
# stopped at the end.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-$here/../../../target/release/p100-sandbox}"
port="${2:-18173}"
url="http://127.0.0.1:$port"
user="bca65c48-df49-4831-a7b2-de7903321581"
pid=""

start() { # settle delay, extra flags...
  "$bin" --port "$port" --settle-after "$@" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    curl -fs "$url/__sandbox/faults" >/dev/null 2>&1 && return
    sleep 0.1
  done
  echo "the sandbox did not start" >&2
  exit 1
}
stop() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; pid=""; }
trap stop EXIT

rate() { awk '/Requests\/sec/ {print $2}'; }
rss() { ps -o rss= -p "$pid" | awk '{printf "%.1f MiB", $1 / 1024}'; }
fill() { # this many transfers, over 2 keep-alive connections (ab stops after a count, wrk after a time)
  ab -q -k -n "$1" -c 2 -p "$here/transfer.json" -T application/json -H 'x-api-key: sandbox-key' \
    "$url/v1/transfer" | awk '/Failed requests|Non-2xx/ && $NF != 0 {print "ab: " $0 > "/dev/stderr"}'
}

start 10000000
get=$(wrk -t2 -c2 -d10s -H 'x-api-key: sandbox-key' "$url/v1/user/balances/$user" | rate)
post0=$(wrk -t2 -c2 -d5s -s "$here/transfer.lua" "$url" | rate)
fill 100000
post100k=$(wrk -t2 -c2 -d5s -s "$here/transfer.lua" "$url" | rate)
pending=$(curl -fs "$url/__sandbox/state" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pendingEvents"])')
stop
echo "GET  /v1/user/balances, 2 connections: $get req/s"
echo "POST /v1/transfer from 0 pending:      $post0 req/s"
echo "POST /v1/transfer after 100k more:     $post100k req/s ($pending events pending at the end)"

start 0
line="RSS after settled transfers: 0: $(rss)"
for n in 100000 200000 300000; do
  fill 100000
  line="$line, $((n / 1000))k: $(rss)"
done
dump=$( { /usr/bin/time -f '%e' curl -fs -o /tmp/p100-state.$$ "$url/__sandbox/state"; } 2>&1 )
size=$(stat -c %s /tmp/p100-state.$$); rm -f /tmp/p100-state.$$
stop
echo "$line"
echo "GET /__sandbox/state after 300k: $((size / 1024)) KiB in ${dump} s"
