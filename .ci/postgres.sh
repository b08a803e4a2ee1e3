# Sourced by .ci/run (or by hand: `source .ci/postgres.sh` from the workspace root): a throwaway
# PostgreSQL server for the tests of the webhook store (p100-ergonomic, feature `postgres`).
#
# Installs Debian's `postgresql` unless a server is already installed, makes a data directory
# under target/ci-pg (under /tmp if the postgres user cannot reach the work tree), starts the server on 127.0.0.1:$P100_PG_PORT (default 55432) as the
# `postgres` user when run as root (the server refuses root), with trust authentication on
# loopback, creates the database `p100_test`, and exports:
#   DATABASE_URL           postgres://postgres@127.0.0.1:55432/p100_test
#   P100_REQUIRE_DATABASE  1: the tests fail, instead of skipping, when the database is missing
#   P100_PG_CTL, P100_PG_DATA, P100_PG_LOG
#                          for the test that stops the server (`pg_ctl stop -m immediate`) and
#                          starts it again
# `p100_pg_stop` stops the server; .ci/run calls it on exit.

p100_pg_bin() { { ls -d /usr/lib/postgresql/*/bin 2>/dev/null || true; } | sort -V | tail -n 1; }

p100_pg_as_owner() {
  # From /, which the postgres user can always enter.
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

p100_pg_start() {
  local port="${P100_PG_PORT:-55432}"
  local bin
  bin="$(p100_pg_bin)"
  if [ -z "$bin" ] || [ ! -x "$bin/pg_ctl" ]; then
    echo "installing postgresql (Debian package)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    bin="$(p100_pg_bin)"
  fi
  local dir="$PWD/target/ci-pg"
  # A server left running by an interrupted run of this script holds the port: stop it first.
  if [ -f "$dir/data/postmaster.pid" ]; then
    p100_pg_as_owner "$bin/pg_ctl" -D "$dir/data" stop -m immediate >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then
    chown -R postgres: "$dir"
    if ! runuser -u postgres -- test -w "$dir"; then
      # A parent of the work tree is closed to other users (e.g. /root): use /tmp instead.
      dir="$(mktemp -d /tmp/p100-ci-pg.XXXXXX)"
      chown postgres: "$dir"
      echo "the postgres user cannot reach target/ci-pg; the server's data is in $dir"
    fi
  fi
  local data="$dir/data"
  # Known before the start, so that p100_pg_stop can stop a server whose start went wrong.
  export P100_PG_CTL="$bin/pg_ctl"
  export P100_PG_DATA="$data"
  export P100_PG_LOG="$dir/server.log"
  p100_pg_as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --no-locale \
    --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
EOF
  p100_pg_as_owner "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start >/dev/null \
    || { cat "$dir/server.log" >&2; return 1; }
  p100_pg_as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres p100_test
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/p100_test"
  export P100_REQUIRE_DATABASE=1
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') at $DATABASE_URL"
}

p100_pg_stop() {
  if [ -n "${P100_PG_DATA:-}" ] && [ -f "$P100_PG_DATA/postmaster.pid" ]; then
    p100_pg_as_owner "$P100_PG_CTL" -D "$P100_PG_DATA" stop -m fast >/dev/null 2>&1 || true
  fi
}
