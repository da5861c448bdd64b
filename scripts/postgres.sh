#!/usr/bin/env bash
# A private, throwaway PostgreSQL for the test suite.
#   eval "$(scripts/postgres.sh start)"   # exports CHAUFFEUR_TEST_POSTGRES_URL and PG_TEST_DIR
#   scripts/postgres.sh stop "$PG_TEST_DIR"
# Uses the installed server binaries (installs Debian's postgresql package if missing and we
# are root), a temp data dir, a free port, loopback only; as the `postgres` user when root,
# because initdb refuses to run as root.
set -euo pipefail

find_bindir() {
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir
    return
  fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start() {
  local bindir
  bindir=$(find_bindir || true)
  if [ -z "$bindir" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing PostgreSQL (Debian package postgresql)" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    bindir=$(find_bindir || true)
  fi
  if [ -z "$bindir" ]; then
    echo "PostgreSQL server binaries not found (install the postgresql package)" >&2
    return 1
  fi
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres >&2
  fi
  local dir port
  dir=$(mktemp -d /tmp/chauffeur-pg.XXXXXX)
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; return 1; }
  as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=64MB" \
    start >&2 || { cat "$dir/server.log" >&2; return 1; }
  echo "export PG_TEST_DIR='$dir' PG_TEST_BINDIR='$bindir'"
  echo "export CHAUFFEUR_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:$port/postgres'"
}

stop() {
  local dir="${1:-${PG_TEST_DIR:-}}" bindir
  [ -n "$dir" ] && [ -d "$dir/data" ] || return 0
  bindir="${PG_TEST_BINDIR:-$(find_bindir)}"
  as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
