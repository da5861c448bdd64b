#!/usr/bin/env bash
# Runs the core's criterion benchmarks and prints each result as a ratio to one great-circle
# distance computation measured in the same run (see BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== cargo bench -p chauffeur-core --bench fare (a few minutes on 2 cores)"
cargo bench -p chauffeur-core --bench fare -- --noplot "$@"
target="${CARGO_TARGET_DIR:-target}/criterion"
python3 - "$target" <<'PY'
import json, pathlib, sys
root = pathlib.Path(sys.argv[1])
def ns(group, name):
    est = json.loads((root / group / name / "new" / "estimates.json").read_text())
    return est["median"]["point_estimate"]
base = ns("fare", "great_circle_distance")
print(f"\n{'benchmark':28} {'median':>12} {'× distance':>11}")
for name in ["great_circle_distance", "price_transfer", "price_hourly", "quote_transfer", "quote_hourly"]:
    t = ns("fare", name)
    print(f"{name:28} {t:10.1f} ns {t / base:10.2f}×")
load = ns("catalog", "load_shipped_catalog")
print(f"{'load_shipped_catalog':28} {load / 1e6:10.2f} ms")
PY
