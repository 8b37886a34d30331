#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for the tests (issue 15: the
# store's Postgres backend is tested against a real server, never a mock).
#   eval "$(bash scripts/pg-test-server.sh start)"   # exports GHL_TEST_PG_URL
#   bash scripts/pg-test-server.sh stop
# Installs Debian's postgresql package when it is missing (root only).
set -euo pipefail
cd "$(dirname "$0")/.."
state=.tmp/pg-test-server.env
cmd=${1:-start}

bindir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

case "$cmd" in
start)
  if [ -z "$(bindir)" ]; then
    if [ "$(id -u)" = 0 ]; then
      echo "installing postgresql (Debian package)" >&2
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
    else
      echo "PostgreSQL server binaries not found: apt-get install postgresql" >&2
      exit 1
    fi
  fi
  bin=$(bindir)
  mkdir -p .tmp
  if [ -f "$state" ]; then bash "$0" stop >&2 || true; fi
  dir=$(mktemp -d /tmp/ghl-pg.XXXXXX)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  run=()
  if [ "$(id -u)" = 0 ]; then
    # initdb refuses to run as root.
    chown postgres "$dir"
    run=(runuser -u postgres --)
  fi
  "${run[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200" start >&2 \
    || { cat "$dir/server.log" >&2; exit 1; }
  url="postgres://postgres@127.0.0.1:$port/postgres"
  printf 'PG_DIR=%q\nPG_BIN=%q\nGHL_TEST_PG_URL=%q\n' "$dir" "$bin" "$url" > "$state"
  echo "export GHL_TEST_PG_URL=$url"
  ;;
stop)
  [ -f "$state" ] || exit 0
  # shellcheck disable=SC1090
  . "$state"
  run=()
  [ "$(id -u)" = 0 ] && run=(runuser -u postgres --)
  "${run[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >&2 || true
  rm -rf "$PG_DIR" "$state"
  ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
