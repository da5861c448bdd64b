#!/usr/bin/env bash
# Runs README.md's tour block, exactly as printed, against a fresh `chauffeur-server dev`
# (the debug binary, built if needed) on a free port. Fails if any step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
# The same features as the test run, so this reuses its build instead of making another.
cargo build -q --workspace --all-features --locked --bins
bin="$target/debug/chauffeur-server"

block="$(mktemp)"
log="$(mktemp)"
sed -n '/<!-- tour:start -->/,/<!-- tour:end -->/p' README.md | sed '/^<!--/d; /^```/d' > "$block"
[ -s "$block" ] || { echo "README.md has no tour block" >&2; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
started=$(date +%s.%N)
"$bin" dev --listen "127.0.0.1:$port" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$block" "$log"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
ready=$(python3 -c "import time; print(f'{time.time() - $started:.2f}')")
echo "chauffeur-server dev answered /readyz after ${ready}s"
B="http://127.0.0.1:$port" bash -euo pipefail "$block"
echo "README tour: every step succeeded"
