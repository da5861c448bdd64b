#!/usr/bin/env bash
# The replica test through nginx (tests/proxy.rs): two chauffeur-server replicas on the private
# PostgreSQL behind Debian's nginx with deploy/nginx/chauffeur-proxy.conf, one killed during a
# booking load. Prints its figures.
#   scripts/replicas-test.sh           # ensure nginx (and PostgreSQL), run the test
#   scripts/replicas-test.sh ensure    # only make sure nginx is here (prints its path)
# Installs Debian's nginx when missing and we are root; under CI=true a missing nginx fails.
set -euo pipefail
cd "$(dirname "$0")/.."

find_nginx() {
  if [ -n "${CHAUFFEUR_NGINX:-}" ] && [ -x "$CHAUFFEUR_NGINX" ]; then echo "$CHAUFFEUR_NGINX"; return; fi
  command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true
}

ensure_nginx() {
  local nginx
  nginx=$(find_nginx)
  if [ -z "$nginx" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's nginx (nginx-light)" >&2
    apt-get update -qq >&2
    # The package must not start a system nginx: the test runs its own on a loopback port.
    local policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
      policy=/usr/sbin/policy-rc.d
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >&2 ||
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >&2 || true
    [ -n "$policy" ] && rm -f "$policy"
    nginx=$(find_nginx)
  fi
  if [ -z "$nginx" ]; then
    if [ "${CI:-}" = "true" ]; then
      echo "nginx is missing and cannot be installed; under CI=true the replica test is required" >&2
      exit 1
    fi
    echo "WARNING: nginx is missing; the replica test will be SKIPPED" >&2
    return 0
  fi
  echo "$nginx"
}

case "${1:-run}" in
  ensure)
    ensure_nginx
    ;;
  run)
    nginx=$(ensure_nginx)
    [ -n "$nginx" ] && export CHAUFFEUR_NGINX="$nginx"
    if [ -z "${CHAUFFEUR_TEST_POSTGRES_URL:-}" ]; then
      pg_env="$(scripts/postgres.sh start)" || { echo "PostgreSQL could not be started" >&2; exit 1; }
      eval "$pg_env"
      trap 'scripts/postgres.sh stop "$PG_TEST_DIR"' EXIT
    fi
    cargo test -p chauffeur-e2e --all-features --locked --test proxy -- --nocapture
    ;;
  *)
    echo "usage: $0 [run | ensure]" >&2
    exit 2
    ;;
esac
