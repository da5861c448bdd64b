#!/usr/bin/env bash
# Load benchmark, all in one run on this machine, with the same load generator (wrk) and settings:
#   1. a bare hyper hello-world (baseline for the HTTP stack),
#   2. POST /v1/quotes,
#   3. POST /v1/bookings (every request a new booking, SQLite),
#   4. the raw SQLite durable commit rate with the server's pragmas (baseline for bookings).
# Prints requests/s, p50/p99 and the ratios recorded in BENCHMARKS.md. Takes about a minute
# after the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-32}"
target="${CARGO_TARGET_DIR:-target}"

if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing wrk (Debian package)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  else
    echo "wrk is needed: apt-get install wrk" >&2
    exit 1
  fi
fi

echo "== building release binaries"
cargo build -q --release -p chauffeur-server --bin chauffeur-server --example hello --example sqlite_commits --example location_ingest

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1 100); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no answer from $1" >&2; return 1; }

# wrk output -> "rps p50_ms p99_ms"
summarise() {
  python3 -c '
import re, sys
text = sys.stdin.read()
def ms(label):
    m = re.search(r"^\s*" + label + r"\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
p50, p99 = ms("50%"), ms("99%")
print(f"{rps:.1f} {p50:.2f} {p99:.2f} {errors.group(1) if errors else 0}")'
}
run_wrk() { wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" | tee -a "$work/wrk.log" | summarise; }

echo "== 1. bare hyper hello-world"
port=$(free_port)
"$target/release/examples/hello" "127.0.0.1:$port" >/dev/null & pids+=($!)
wait_up "http://127.0.0.1:$port/"
read -r hello_rps hello_p50 hello_p99 _ < <(run_wrk "http://127.0.0.1:$port/")
kill "${pids[-1]}"

echo "== 2./3. chauffeur-server (release, SQLite)"
port=$(free_port)
base="http://127.0.0.1:$port"
CHAUFFEUR_LOG=warn "$target/release/chauffeur-server" serve --listen "127.0.0.1:$port" \
  --data-dir "$work/data" >/dev/null 2>"$work/server.log" & pids+=($!)
wait_up "$base/readyz"
export PICKUP_AT
PICKUP_AT=$(date -u -d '+7 days' +%Y-%m-%dT10:00:00Z)
read -r quote_rps quote_p50 quote_p99 quote_errors < <(run_wrk -s bench/quotes.lua "$base/v1/quotes")

curl -sf "$base/v1/accounts" -H 'content-type: application/json' \
  -d '{"email":"load@example.com","password":"correct horse battery"}' >/dev/null
export RIDER_TOKEN QUOTE_TOKEN
RIDER_TOKEN=$(curl -sf "$base/v1/sessions" -H 'content-type: application/json' \
  -d '{"email":"load@example.com","password":"correct horse battery"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
QUOTE_TOKEN=$(curl -sf "$base/v1/quotes" -H 'content-type: application/json' \
  -d '{"city_id":"berlin","pickup":{"lat":52.5163,"lon":13.3777},"product":{"type":"transfer","dropoff":{"lat":52.5219,"lon":13.4132}},"pickup_time":{"kind":"instant","at":"'"$PICKUP_AT"'"},"passengers":1}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["quotes"][0]["quote_token"])')
read -r book_rps book_p50 book_p99 book_errors < <(run_wrk -s bench/bookings.lua "$base/v1/bookings")
kill "${pids[-1]}"

echo "== 4. raw SQLite commits (WAL, synchronous=FULL, one insert per transaction)"
commits=$("$target/release/examples/sqlite_commits" "$work/commits.db" "$DURATION" | awk '/commits_per_second/ {print $2}')

echo "== 5. chauffeur location ingest (batched writes, 2,000 chauffeurs, SQLite)"
ingest=$("$target/release/examples/location_ingest" "$work/ingest" "$DURATION" | awk '/positions_per_second/ {print $2}')

python3 - "$hello_rps" "$hello_p50" "$hello_p99" "$quote_rps" "$quote_p50" "$quote_p99" "$quote_errors" \
  "$book_rps" "$book_p50" "$book_p99" "$book_errors" "$commits" "$CONNECTIONS" "$DURATION" "$ingest" <<'PY'
import sys
(h, h50, h99, q, q50, q99, qe, b, b50, b99, be, c, conns, dur, ing) = sys.argv[1:]
h, q, b, c, ing = float(h), float(q), float(b), float(c), float(ing)
print(f"\nwrk -t1 -c{conns} -d{dur}s, loopback, same machine, one run")
print(f"{'what':34} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8}  ratio")
print(f"{'hello-world (bare hyper)':34} {h:10.0f} {h50:>8} {h99:>8}")
print(f"{'POST /v1/quotes':34} {q:10.0f} {q50:>8} {q99:>8}  {q / h:.2f}x hello-world (target >= 0.6)   non-2xx: {qe}")
print(f"{'POST /v1/bookings (SQLite)':34} {b:10.0f} {b50:>8} {b99:>8}  {b / c:.2f}x raw commits (target >= 0.5)  non-2xx: {be}")
print(f"{'raw SQLite commits/s':34} {c:10.0f}")
print(f"{'location updates/s (batched)':34} {ing:10.0f}  {ing / c:.1f}x raw commits")
PY
