#!/usr/bin/env bash
# The rider SDK's benchmarks (results go to BENCHMARKS.md by hand):
#   1. one fare estimate through the Kotlin binding vs the same call inside Rust, same process;
#      then the same through the Swift binding (scripts/swift-test.sh --bench: Swift 6 in its
#      Debian chroot, release build, needs root)
#   2. opening the offline cache and listing 10,000 bookings (criterion)
#   3. the size of the stripped app library built with the size-optimised profile
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"

printf '\n== 1. estimate through the Kotlin binding vs in Rust (release library)\n'
scripts/kotlin-test.sh --bench "${ITERATIONS:-20000}"

printf '\n== 1b. estimate through the Swift binding vs in Rust (release library and Swift build)\n'
scripts/swift-test.sh --bench "${ITERATIONS:-20000}"

printf '\n== 2. open the cache and list 10,000 bookings\n'
cargo bench --locked -p chauffeur-core --features client --bench cache -- --noplot 2>&1 \
  | grep -E '^[a-z_/0-9]+ +time:|time:' || true

printf '\n== 3. stripped library size, profile release-small (opt-level z, fat LTO, panic=abort)\n'
cargo build --locked -p chauffeur-ffi --lib --profile release-small
# The iOS input, as an iOS build would make it (on a Mac, with --target aarch64-apple-ios).
cargo rustc --locked -p chauffeur-ffi --lib --profile release-small --crate-type staticlib
for f in "$target/release-small/libchauffeur_ffi.so" "$target/release-small/libchauffeur_ffi.a"; do
  [ -f "$f" ] && printf '%-60s %6.2f MB\n' "$(basename "$f")" "$(echo "$(stat -c %s "$f") / 1048576" | bc -l)"
done
echo "(the .so is what an Android ABI ships; the .a is iOS's input to the app's own link)"
