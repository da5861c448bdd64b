#!/usr/bin/env bash
# The robustness run: requests generated from the server's own /openapi.json by schemathesis
# (PyPI, pinned, installed into $CHAUFFEUR_TOOLS_DIR/schemathesis-venv), against
# `chauffeur-server dev` on SQLite and on the suite's private PostgreSQL, once with each role's
# token (rider, partner, chauffeur, operator) and once without one. Fails on any 5xx, on any
# answer whose status, content type or body the document does not declare, and on any network
# error (a crash or a hang). Bounded: --max-examples per operation, and a timeout per run.
#
#   scripts/robustness.sh                uses $CARGO_TARGET_DIR/debug/chauffeur-server (builds it)
#   ROBUSTNESS_MAX_EXAMPLES=200 scripts/robustness.sh   a longer run
#
# PostgreSQL: CHAUFFEUR_TEST_POSTGRES_URL (scripts/postgres.sh start exports it); without it the
# PostgreSQL half is skipped with a warning, and under CI=true that is a failure. Likewise a
# missing schemathesis: installed when missing, and a failure under CI=true if it cannot be.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
target="${CARGO_TARGET_DIR:-$root/target}"
tools="${CHAUFFEUR_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/chauffeur-tools}"
schemathesis_version="4.32.5"
venv="$tools/schemathesis-venv"
max_examples="${ROBUSTNESS_MAX_EXAMPLES:-25}"
# Seconds one schemathesis run (one role on one backend) may take before it is stopped and
# counted as failed: a safety net against a hang. (Not schemathesis's --max-time, which keeps
# fuzzing until the time is spent.)
run_timeout="${ROBUSTNESS_RUN_TIMEOUT:-120}"
seed="${ROBUSTNESS_SEED:-$RANDOM}"

missing() {
  if [ "${CI:-}" = "true" ]; then
    echo "robustness: FAILED: $1 (CI=true: the robustness run may not be skipped)" >&2
    exit 1
  fi
  echo "robustness: WARNING: $1; robustness run skipped" >&2
  exit 0
}

# --- tools ---------------------------------------------------------------------------------
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$schemathesis_version"; then
  echo "robustness: installing schemathesis==$schemathesis_version into $venv (once)" >&2
  mkdir -p "$tools"
  python3 -m venv "$venv" || missing "python3 cannot create a venv (apt-get install python3-venv)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$schemathesis_version" >&2 \
    || missing "pip could not install schemathesis==$schemathesis_version"
fi
command -v curl >/dev/null || missing "no curl"
# The same features as the test run, so this reuses its build instead of making another.
cargo build -q --workspace --all-features --locked --bins
server="$target/debug/chauffeur-server"

work="$(mktemp -d /tmp/chauffeur-robustness.XXXXXX)"
server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
    # `dev` leaves its throwaway data directory behind; this run has no use for it.
    local data
    data="$(sed -n 's/^Chauffeur dev environment (throwaway data in \(.*\))$/\1/p' "$work"/server-*.out 2>/dev/null || true)"
    for dir in $data; do
      case "$dir" in */chauffeur-dev-*) rm -rf "$dir" ;; esac
    done
  fi
}
cleanup() {
  stop_server
  [ -n "${ROBUSTNESS_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts `chauffeur-server dev` on a free loopback port (extra arguments passed on); sets $base.
start_server() {
  local log="$work/server-$1.out"
  shift
  CHAUFFEUR_LOG=warn "$server" dev --listen 127.0.0.1:0 --hashing-permits 2 "$@" >"$log" 2>"$log.err" &
  server_pid=$!
  base=""
  for _ in $(seq 1 300); do
    base="$(sed -n 's/^listening on //p' "$log" | head -1)"
    [ -n "$base" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$log.err" >&2; echo "robustness: the server did not start" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$base" ] || { echo "robustness: the server did not say where it listens" >&2; exit 1; }
}

# A bearer token for e-mail/password (log-in through the API).
token_for() {
  curl -fsS -X POST "$base/v1/sessions" -H 'content-type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"$2\"}" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}

# A fresh rider: signs up, logs in; its token.
rider_token() {
  local email="robust-rider-$RANDOM$RANDOM@example.com"
  curl -fsS -o /dev/null -X POST "$base/v1/accounts" -H 'content-type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"robustness password\",\"name\":\"Robust Rider\",\"phone\":\"+49 30 1234567\"}"
  token_for "$email" "robustness password"
}

# Real ids for the {id} path parameters, so that half of the generated requests to those
# operations reach their logic instead of a 404: the rider books three rides in Berlin, the
# dispatcher offers them to the demo partner (whose offer ids we read), and the operator lists
# the partners. Writes a schemathesis config that draws `id` from these half of the time.
write_config() {
  python3 - "$base" "$rider" "$partner" "$operator" >"$work/schemathesis.toml" <<'EOF_PY'
import datetime, json, sys, time, urllib.request, uuid

base, rider, partner, operator = sys.argv[1:5]

def call(method, path, token=None, body=None, headers=None):
    request = urllib.request.Request(base + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", "Bearer " + token)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.load(response)

pickup = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=7)).isoformat()
quote = call("POST", "/v1/quotes", body={
    "city_id": "berlin", "pickup": {"lat": 52.5163, "lon": 13.3777},
    "product": {"type": "transfer", "dropoff": {"lat": 52.5219, "lon": 13.4132}},
    "pickup_time": {"kind": "instant", "at": pickup}, "passengers": 2, "bags": 1,
})["quotes"][0]["quote_token"]
ids = [call("POST", "/v1/bookings", rider, {"quote_token": quote, "payment_method_id": "pm_card_visa"},
            {"idempotency-key": str(uuid.uuid4())})["id"] for _ in range(3)]
# The dispatcher makes its offers within a few of its rounds (one a second in dev).
offers = []
for _ in range(50):
    offers = call("GET", "/v1/partner/offers", partner)["offers"]
    if offers:
        break
    time.sleep(0.2)
ids += [offer["id"] for offer in offers]
partners = call("GET", "/v1/operator/partners", operator)
partners = partners["partners"] if isinstance(partners, dict) else partners  # paged or not
ids += [p["id"] for p in partners]
print("[dictionaries.known-ids]")
print("values = " + json.dumps(ids))
print("[parameters]")
print('"path.id" = { dictionary = "known-ids", probability = 0.5 }')
print(f"# {len(ids)} ids: 3 bookings, {len(offers)} offers, the partners", file=sys.stderr)
EOF_PY
}

# Adds up the requests and 5xx answers of one run from its HAR report.
count_har() {
  python3 - "$1" <<'EOF'
import json, sys
entries = json.load(open(sys.argv[1]))["log"]["entries"]
server_errors = sum(1 for e in entries if e["response"]["status"] >= 500)
print(len(entries), server_errors)
EOF
}

# Which operations each run fuzzes. Every operation is fuzzed with the token of the role that
# reaches its logic (a rider's bookings with a rider's token, and so on), the public ones
# without a token; the DELETEs run last (they end the session they are called with: log-out,
# erase the account). Not fuzzed at all: the two server-sent-event streams — a stream found
# stays open until the client goes, so a generated request that reaches one hangs until its
# timeout and says nothing about the answer; their refusals (bad id, no token, another's
# booking) are tested in server/tests/live.rs.
streams='^/v1/(bookings/[^/]+/events|partner/events)$'
public='^/(healthz|readyz|metrics|openapi\.json|v1/(cities|quotes|accounts|sessions)($|/))'
rider_paths='^/v1/(bookings|me)($|/)'
checks="not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"

# One schemathesis run; its name, then schemathesis's own arguments. Adds its figures to the
# totals; a failed run is reported and makes the whole script fail at the end. One worker:
# with two, Python 3.11's compiler trips over itself in hypothesis's threads ("AST constructor
# recursion depth mismatch"), and the machine has two cores for the server and the client.
failed_runs=()
run_schemathesis() {
  local name="$1"
  shift
  local har="$work/$name.har"
  local status=0
  timeout "$run_timeout" "$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" \
    run "$base/openapi.json" \
    --checks "$checks" \
    --phases examples,coverage,fuzzing \
    --max-examples "$max_examples" --seed "$seed" \
    --workers 1 --request-timeout 20 --generation-database none \
    --suppress-health-check all --no-color --output-truncate true \
    --report har --report-har-path "$har" \
    "$@" >"$work/$name.log" 2>&1 || status=$?
  local counts requests server_errors
  counts="$(count_har "$har" 2>/dev/null || echo "0 0")"
  read -r requests server_errors <<<"$counts"
  total_requests=$((total_requests + requests))
  total_server_errors=$((total_server_errors + server_errors))
  printf '  %-30s %6d requests  %3d 5xx  %s\n' "$name" "$requests" "$server_errors" \
    "$([ "$status" = 0 ] && echo ok || echo "FAILED (exit $status)")"
  if [ "$status" != 0 ]; then
    failed_runs+=("$name")
    # schemathesis's own report: each failure with the curl command that reproduces it.
    sed -n '/^=* \(FAILURES\|ERRORS\) =*$/,/^=* WARNINGS =*$/p' "$work/$name.log" | cut -c1-400 | head -120 >&2
  fi
}

# The whole run against one backend (extra arguments go to `chauffeur-server dev`).
run_backend() {
  local backend="$1"
  shift
  start_server "$backend" "$@"
  local rider partner chauffeur operator
  rider="$(rider_token)"
  partner="$(token_for partner@demo.chauffeur.test demo-partner-pass)"
  chauffeur="$(token_for chauffeur@demo.chauffeur.test demo-chauffeur-pass)"
  operator="$(token_for operator@demo.chauffeur.test demo-operator-pass)"
  write_config
  operations="$(curl -fsS "$base/openapi.json" | python3 -c '
import json, re, sys
doc = json.load(sys.stdin)
print(sum(1 for path, item in doc["paths"].items() for method in item
          if method in ("get", "post", "put", "patch", "delete")
          and not re.search(sys.argv[1], path)))' "$streams")"
  total_requests=0
  total_server_errors=0
  echo "robustness: $backend at $base: $operations operations (seed $seed, ≤ $max_examples examples each)"
  run_schemathesis "$backend-public" --include-path-regex "$public"
  run_schemathesis "$backend-rider" -H "Authorization: Bearer $rider" \
    --include-path-regex "$rider_paths" --exclude-path-regex "$streams" --exclude-method DELETE
  run_schemathesis "$backend-partner" -H "Authorization: Bearer $partner" \
    --include-path-regex '^/v1/partner/' --exclude-path-regex "$streams"
  run_schemathesis "$backend-chauffeur" -H "Authorization: Bearer $chauffeur" \
    --include-path-regex '^/v1/chauffeur/'
  run_schemathesis "$backend-operator" -H "Authorization: Bearer $operator" \
    --include-path-regex '^/v1/operator/'
  local role
  for role in partner chauffeur operator rider; do
    run_schemathesis "$backend-$role-delete" -H "Authorization: Bearer ${!role}" --include-method DELETE
  done
  stop_server
  echo "robustness: $backend: $operations operations, $total_requests requests, $total_server_errors 5xx"
  [ "$total_server_errors" = 0 ] || failed_runs+=("$backend: $total_server_errors answers were 5xx")
}

run_backend sqlite

if [ -n "${CHAUFFEUR_TEST_POSTGRES_URL:-}" ]; then
  psql_bin="$(command -v psql || echo "${PG_TEST_BINDIR:-/usr/lib/postgresql/15/bin}/psql")"
  database="robustness_$(date +%s)_$$"
  "$psql_bin" -q "$CHAUFFEUR_TEST_POSTGRES_URL" -c "CREATE DATABASE $database" >/dev/null
  run_backend postgres --database-url "${CHAUFFEUR_TEST_POSTGRES_URL%/*}/$database"
  "$psql_bin" -q "$CHAUFFEUR_TEST_POSTGRES_URL" -c "DROP DATABASE $database WITH (FORCE)" >/dev/null || true
elif [ "${CI:-}" = "true" ]; then
  echo "robustness: FAILED: CHAUFFEUR_TEST_POSTGRES_URL is not set; under CI=true PostgreSQL is required" >&2
  exit 1
else
  echo "robustness: WARNING: CHAUFFEUR_TEST_POSTGRES_URL not set; the PostgreSQL half is SKIPPED" >&2
fi

if [ "${#failed_runs[@]}" -gt 0 ]; then
  echo "robustness: FAILED: ${failed_runs[*]}" >&2
  exit 1
fi
echo "robustness: passed"
