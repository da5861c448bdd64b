#!/usr/bin/env bash
# The web pages in a real browser, against a real `chauffeur-server dev` on a free loopback port:
#   1. the API types: generated from the running server's /openapi.json (openapi-typescript) and
#      checked against web/js with `tsc --noEmit --checkJs`, so a server change that breaks the
#      pages fails here;
#   2. the Playwright tests in tests/web (playwright-core driving Debian's Chromium, headless),
#      with an axe-core check and a screenshot of every screen under $target/web-screenshots.
# Installs what it needs when missing: the npm packages into $CHAUFFEUR_TOOLS_DIR (default
# ~/.cache/chauffeur-tools), Chromium with apt. Without them it fails under CI=true and skips
# with a warning otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
target="${CARGO_TARGET_DIR:-$root/target}"
tools="${CHAUFFEUR_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/chauffeur-tools}"
packages="playwright-core@1.65.1 axe-core@4.14.1 typescript@5.9.3 openapi-typescript@7.13.0"
web_tools="$tools/web-$(echo "$packages" | sha256sum | cut -c1-12)"
chromium="${CHAUFFEUR_CHROMIUM:-/usr/bin/chromium}"

missing() {
  if [ "${CI:-}" = "true" ]; then
    echo "web: FAILED: $1 (CI=true: the browser tests may not be skipped)" >&2
    exit 1
  fi
  echo "web: WARNING: $1; browser tests skipped" >&2
  exit 0
}

# --- tools -----------------------------------------------------------------------------------
command -v node >/dev/null || missing "no node (install Node.js 20 or newer)"
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] || missing "node is older than 20"
if [ ! -f "$web_tools/.complete" ]; then
  command -v npm >/dev/null || missing "no npm to install $packages"
  echo "web: installing $packages into $web_tools (once)" >&2
  mkdir -p "$web_tools"
  # shellcheck disable=SC2086
  npm install --silent --no-audit --no-fund --prefix "$web_tools" $packages >&2 \
    || missing "npm could not install $packages"
  touch "$web_tools/.complete"
fi
if [ ! -x "$chromium" ]; then
  echo "web: installing Chromium (apt-get install chromium)" >&2
  if [ "$(id -u)" = 0 ]; then apt_get="apt-get"; else apt_get="sudo apt-get"; fi
  DEBIAN_FRONTEND=noninteractive $apt_get install -y -q chromium >&2 || missing "could not install chromium"
  [ -x "$chromium" ] || missing "no Chromium at $chromium"
fi

# --- the server ------------------------------------------------------------------------------
# The same features as the test run, so this reuses its build instead of making another.
cargo build -q --workspace --all-features --locked --bins
server="$target/debug/chauffeur-server"
out="$target/web-test"
screenshots="$target/web-screenshots"
rm -rf "$out" "$screenshots"
mkdir -p "$out" "$screenshots"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log="$out/server.log"
# --test-clock lets the journey move the server's clock to the pickup hour.
"$server" dev --listen "127.0.0.1:$port" --test-clock --dispatch-interval-ms 200 >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  curl -sf "$base/readyz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
curl -sf "$base/readyz" >/dev/null || { echo "web: the server did not become ready" >&2; cat "$log" >&2; exit 1; }

# --- the contract: API types from /openapi.json, checked against the pages' JSDoc --------------
curl -sf "$base/openapi.json" >"$out/openapi.json"
"$web_tools/node_modules/.bin/openapi-typescript" "$out/openapi.json" -o "$out/api-types.d.ts" >&2
cat >"$out/tsconfig.json" <<EOF
{
  "compilerOptions": {
    "allowJs": true,
    "checkJs": true,
    "noEmit": true,
    "strict": true,
    "noImplicitAny": false,
    "target": "ES2022",
    "module": "ES2022",
    "moduleResolution": "bundler",
    "lib": ["ES2023", "DOM", "DOM.Iterable"],
    "types": [],
    "skipLibCheck": true,
    "paths": { "api-types": ["./api-types.d.ts"] }
  },
  "files": ["$root/web/js/rider.js", "$root/web/js/console.js"]
}
EOF
echo "web: tsc --checkJs over web/js against the server's OpenAPI types" >&2
"$web_tools/node_modules/.bin/tsc" -p "$out/tsconfig.json"

# --- the browser tests -----------------------------------------------------------------------
echo "web: Playwright tests (Chromium $("$chromium" --version 2>/dev/null | awk '{print $2}')) against $base" >&2
CHAUFFEUR_WEB_TOOLS="$web_tools" CHAUFFEUR_BASE_URL="$base" CHAUFFEUR_CHROMIUM="$chromium" \
  CHAUFFEUR_SCREENSHOTS="$screenshots" \
  node --test --test-concurrency=1 --test-reporter=spec "$root"/tests/web/*.test.mjs
echo "web: screenshots in $screenshots" >&2
