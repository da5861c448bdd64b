#!/usr/bin/env bash
# The web benchmark (BENCHMARKS.md, "Web"): the rider page's compressed weight against its
# 150 KB budget, and the time from the dispatcher's accept click to the rider's page showing
# "confirmed" (median and p95 over RIDES rides, default 20), in Chromium against a fresh
# `chauffeur-server dev` (release build) on a free loopback port. Needs what scripts/web-test.sh
# installs (run that once first).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
target="${CARGO_TARGET_DIR:-$root/target}"
tools="${CHAUFFEUR_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/chauffeur-tools}"
packages="playwright-core@1.65.1 axe-core@4.14.1 typescript@5.9.3 openapi-typescript@7.13.0"
web_tools="$tools/web-$(echo "$packages" | sha256sum | cut -c1-12)"
[ -f "$web_tools/.complete" ] || { echo "bench-web: run scripts/web-test.sh first (installs the tools)" >&2; exit 1; }

cargo build --release --locked -p chauffeur-server
server="$target/release/chauffeur-server"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log="$(mktemp)"
"$server" dev --listen "127.0.0.1:$port" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
CHAUFFEUR_WEB_TOOLS="$web_tools" CHAUFFEUR_BASE_URL="http://127.0.0.1:$port" \
  CHAUFFEUR_SCREENSHOTS="$target/web-screenshots" node "$root/tests/web/bench.mjs"
