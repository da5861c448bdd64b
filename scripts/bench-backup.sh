#!/usr/bin/env bash
# Backup and restore of a database of 100,000 bookings with history, and the booking rate while
# backups run compared with the rate without, all in one run on this machine (release build).
#   SQLite always; PostgreSQL too when CHAUFFEUR_TEST_POSTGRES_URL is set (scripts/postgres.sh).
# The bookings are copies of real ones made through the API (each with its history of two
# versions, its personal data, idempotency key and events), multiplied with SQL so that the
# setup takes seconds, not the hours 100,000 API calls would take here.
# Prints the figures recorded in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
BOOKINGS="${BOOKINGS:-100000}"
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-16}"
target="${CARGO_TARGET_DIR:-target}"

for tool in wrk python3 curl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    if [ "$tool" = wrk ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
    else
      echo "$tool is needed" >&2
      exit 1
    fi
  fi
done

if [ -n "${CHAUFFEUR_SERVER_BIN:-}" ]; then
  bin="$CHAUFFEUR_SERVER_BIN" # e.g. a debug build, to try the script quickly
else
  echo "== building the release binary"
  cargo build -q --release -p chauffeur-server --bin chauffeur-server
  bin="$target/release/chauffeur-server"
fi

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1 200); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no answer from $1" >&2; return 1; }
now() { python3 -c 'import time; print(time.time())'; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }
rps() { python3 -c 'import re,sys; print(re.search(r"Requests/sec:\s+([\d.]+)", sys.stdin.read()).group(1))'; }

# Starts a server on $1 (a database URL), leaves base URL in $base.
start_server() {
  local port
  port=$(free_port)
  base="http://127.0.0.1:$port"
  CHAUFFEUR_LOG=warn "$bin" serve --listen "127.0.0.1:$port" --data-dir "$work/data-$port" \
    --database-url "$1" --quote-key 6368617566666575722d62656e63682d71756f74652d6b65792d33322d6279746573 \
    >/dev/null 2>"$work/server-$port.log" & pids+=($!)
  wait_up "$base/readyz"
}

# Seed bookings through the API: a rider, one booking cancelled (two versions), one pending.
seed_through_api() {
  curl -sf "$base/v1/accounts" -H 'content-type: application/json' \
    -d '{"email":"bench@example.com","password":"correct horse battery","name":"Bench Rider"}' >/dev/null
  RIDER_TOKEN=$(curl -sf "$base/v1/sessions" -H 'content-type: application/json' \
    -d '{"email":"bench@example.com","password":"correct horse battery"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  PICKUP_AT=$(date -u -d '+7 days' +%Y-%m-%dT10:00:00Z)
  QUOTE_TOKEN=$(curl -sf "$base/v1/quotes" -H 'content-type: application/json' \
    -d '{"city_id":"berlin","pickup":{"lat":52.5163,"lon":13.3777},"product":{"type":"transfer","dropoff":{"lat":52.5219,"lon":13.4132}},"pickup_time":{"kind":"instant","at":"'"$PICKUP_AT"'"},"passengers":1}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["quotes"][0]["quote_token"])')
  local id
  id=$(curl -sf "$base/v1/bookings" -H "authorization: Bearer $RIDER_TOKEN" -H "idempotency-key: seed-1" \
    -H 'content-type: application/json' \
    -d '{"quote_token":"'"$QUOTE_TOKEN"'","passenger":{"name":"Bench Passenger","phone":"+49 30 1234567"}}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  curl -sf -X POST "$base/v1/bookings/$id/cancel" -H "authorization: Bearer $RIDER_TOKEN" \
    -H 'content-type: application/json' -d '{"acknowledged_fee_minor":0}' >/dev/null
  SEED_ID="$id"
  # A second rider for the second load run: its Idempotency-Keys start again at 1.
  curl -sf "$base/v1/accounts" -H 'content-type: application/json' \
    -d '{"email":"bench2@example.com","password":"correct horse battery","name":"Bench Rider"}' >/dev/null
  SECOND_TOKEN=$(curl -sf "$base/v1/sessions" -H 'content-type: application/json' \
    -d '{"email":"bench2@example.com","password":"correct horse battery"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  export RIDER_TOKEN QUOTE_TOKEN PICKUP_AT
}

# Multiplies the seed booking (and its history, personal data, key and events) to $BOOKINGS.
multiply_sqlite() {
  python3 - "$1" "$BOOKINGS" <<'PY'
import sqlite3, sys
db, n = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db, timeout=60)
c.execute("PRAGMA foreign_keys = ON")
have = c.execute("SELECT count(*) FROM bookings").fetchone()[0]
seed = c.execute("SELECT id FROM bookings WHERE state = 'cancelled' LIMIT 1").fetchone()[0]
with c:
    c.execute("CREATE TEMP TABLE new_ids AS WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?) SELECT i, randomblob(16) AS id FROM k", (n - have,))
    cols = [r[1] for r in c.execute("PRAGMA table_info(bookings)") if r[1] != "id"]
    c.execute(f"INSERT INTO bookings (id, {', '.join(cols)}) SELECT n.id, {', '.join('b.' + x for x in cols)} FROM new_ids n, bookings b WHERE b.id = ?", (seed,))
    c.execute("INSERT INTO booking_personal SELECT n.id, p.passenger_name, p.passenger_phone, p.flight_number, p.notes FROM new_ids n, booking_personal p WHERE p.booking_id = ?", (seed,))
    c.execute("INSERT INTO booking_history (booking_id, version, at, actor, actor_id, from_state, to_state, snapshot) SELECT n.id, h.version, h.at, h.actor, h.actor_id, h.from_state, h.to_state, h.snapshot FROM new_ids n, booking_history h WHERE h.booking_id = ?", (seed,))
    c.execute("INSERT INTO idempotency_keys SELECT k.user_id, 'bulk-' || hex(n.id), k.request_hash, k.response_status, k.response_body, n.id, k.created_at FROM new_ids n, idempotency_keys k WHERE k.booking_id = ?", (seed,))
    c.execute("INSERT INTO events (booking_id, partner_id, kind, payload, at) SELECT n.id, e.partner_id, e.kind, e.payload, e.at FROM new_ids n, events e WHERE e.booking_id = ?", (seed,))
print(c.execute("SELECT count(*) FROM bookings").fetchone()[0], c.execute("SELECT count(*) FROM booking_history").fetchone()[0])
PY
}

multiply_postgres() {
  psql -q -v ON_ERROR_STOP=1 "$1" -v seed="$SEED_ID" -v n="$BOOKINGS" <<'SQL' >/dev/null
CREATE TEMP TABLE new_ids AS SELECT i, gen_random_uuid() AS id FROM generate_series(1, :n - (SELECT count(*) FROM bookings)) i;
INSERT INTO bookings (id, rider_id, city_id, state, vehicle_class, product, pickup_at, price_minor, currency, quote, child_seats, cancellation_fee_minor, partner_id, chauffeur_id, vehicle_id, version, created_at, updated_at, receipt, final_price_minor) SELECT n.id, b.rider_id, b.city_id, b.state, b.vehicle_class, b.product, b.pickup_at, b.price_minor, b.currency, b.quote, b.child_seats, b.cancellation_fee_minor, b.partner_id, b.chauffeur_id, b.vehicle_id, b.version, b.created_at, b.updated_at, b.receipt, b.final_price_minor FROM new_ids n, bookings b WHERE b.id = :'seed';
INSERT INTO booking_personal SELECT n.id, p.passenger_name, p.passenger_phone, p.flight_number, p.notes FROM new_ids n, booking_personal p WHERE p.booking_id = :'seed';
INSERT INTO booking_history (booking_id, version, at, actor, actor_id, from_state, to_state, snapshot) SELECT n.id, h.version, h.at, h.actor, h.actor_id, h.from_state, h.to_state, h.snapshot FROM new_ids n, booking_history h WHERE h.booking_id = :'seed';
INSERT INTO idempotency_keys SELECT k.user_id, 'bulk-' || n.id, k.request_hash, k.response_status, k.response_body, n.id, k.created_at FROM new_ids n, idempotency_keys k WHERE k.booking_id = :'seed';
INSERT INTO events (booking_id, partner_id, kind, payload, at) SELECT n.id, e.partner_id, e.kind, e.payload, e.at FROM new_ids n, events e WHERE e.booking_id = :'seed';
SQL
  psql -At "$1" -c "SELECT count(*) FROM bookings" -c "SELECT count(*) FROM booking_history" | tr '\n' ' '
}

# bench NAME URL RESTORE_ARGS...: backup, verify, restore timings and sizes, then the booking
# rate without and with back-to-back backups.
bench() {
  local name="$1" url="$2"; shift 2
  local backups="$work/backups-$name" t0 t1 t2 t3 t4 t5 size payload
  mkdir -p "$backups"
  t0=$(now)
  "$bin" backup --database-url "$url" --out-dir "$backups" >/dev/null
  t1=$(now)
  payload=$(find "$backups" -maxdepth 1 \( -name '*.sqlite.gz' -o -name '*.pgdump' \) | head -1)
  size=$(stat -c %s "$payload")
  t2=$(now)
  "$bin" backup verify "$payload" "${VERIFY_ARGS[@]}" >/dev/null
  t3=$(now)
  "$bin" restore "$payload" "$@" >/dev/null
  t4=$(now)
  echo "$name: backup $(elapsed "$t0" "$t1") s, $size bytes; verify $(elapsed "$t2" "$t3") s; restore $(elapsed "$t3" "$t4") s" | tee -a "$work/results"

  local quiet busy taken=0
  quiet=$(wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" -s bench/bookings.lua "$base/v1/bookings" | rps)
  RIDER_TOKEN="$SECOND_TOKEN" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" -s bench/bookings.lua "$base/v1/bookings" > "$work/busy.txt" &
  local wrk_pid=$!
  while kill -0 "$wrk_pid" 2>/dev/null; do
    "$bin" backup --database-url "$url" --out-dir "$backups/busy" >/dev/null && taken=$((taken + 1))
  done
  wait "$wrk_pid"
  busy=$(rps < "$work/busy.txt")
  python3 -c "import sys; q, b = float(sys.argv[1]), float(sys.argv[2]); print(f'$name: bookings/s without a backup {q:.0f}, during back-to-back backups {b:.0f} ({b / q:.2f}x), backups taken meanwhile: $taken')" "$quiet" "$busy" | tee -a "$work/results"
}

echo "== SQLite"
sqlite_url="sqlite://$work/sqlite/chauffeur.db"
mkdir -p "$work/sqlite"
start_server "$sqlite_url"
seed_through_api
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
echo "bookings, history rows: $(multiply_sqlite "$work/sqlite/chauffeur.db")"
start_server "$sqlite_url"
VERIFY_ARGS=()
bench sqlite "$sqlite_url" --data-dir "$work/restored-sqlite"
kill "${pids[-1]}"

if [ -n "${CHAUFFEUR_TEST_POSTGRES_URL:-}" ]; then
  echo "== PostgreSQL"
  admin="$CHAUFFEUR_TEST_POSTGRES_URL"
  db="bench_$(date +%s)"
  psql -q "$admin" -c "CREATE DATABASE $db" -c "CREATE DATABASE ${db}_restored"
  pg_url="${admin%/*}/$db"
  start_server "$pg_url"
  seed_through_api
  echo "bookings, history rows: $(multiply_postgres "$pg_url")"
  VERIFY_ARGS=(--database-url "$admin")
  bench postgres "$pg_url" --database-url "${admin%/*}/${db}_restored"
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
  psql -q "$admin" -c "DROP DATABASE $db WITH (FORCE)" -c "DROP DATABASE ${db}_restored WITH (FORCE)"
fi

echo
echo "== results ($BOOKINGS bookings, wrk -t1 -c$CONNECTIONS -d${DURATION}s, one run, $(nproc) CPUs)"
cat "$work/results"
