#!/usr/bin/env bash
# Generates the Kotlin and Swift bindings of chauffeur-ffi from the built library (UniFFI library
# mode, using the workspace's own uniffi-bindgen binary). Generated code is never edited by hand
# and never committed: this script produces it for the builds that need it.
#
#   scripts/bindings.sh [out-dir]     default out-dir: $CARGO_TARGET_DIR/bindings
#
# Two UniFFI components, both in the one library: chauffeur-ffi (the SDK) and chauffeur-core (the
# records and enums of the rider state, feature `uniffi`). Writes
#   <out-dir>/kotlin/com/chauffeur/sdk/chauffeur_ffi.kt, <out-dir>/kotlin/com/chauffeur/sdk/core/chauffeur_core.kt
#   <out-dir>/swift/{ChauffeurSDK.swift, ChauffeurFFI.h, ChauffeurFFI.modulemap,
#                    ChauffeurCore.swift, ChauffeurCoreFFI.h, ChauffeurCoreFFI.modulemap}
# Both Swift files belong in the one Swift module ChauffeurSDK (UniFFI's multi-crate model: the SDK's
# file uses the core's types without an import). Prints the path of the library it used, last.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-$PWD/target}"
out="${1:-$target/bindings}"

# The same feature set as the test suite, so this build shares its artifacts.
echo "bindings: building chauffeur-ffi and uniffi-bindgen" >&2
cargo build --workspace --all-features --locked --lib --bins >&2

case "$(uname -s)" in
  Darwin) lib="$target/debug/libchauffeur_ffi.dylib" ;;
  *) lib="$target/debug/libchauffeur_ffi.so" ;;
esac
[ -f "$lib" ] || { echo "bindings: $lib was not built" >&2; exit 1; }

rm -rf "$out/kotlin" "$out/swift"
for language in kotlin swift; do
  echo "bindings: generating $language into $out/$language" >&2
  "$target/debug/uniffi-bindgen" generate --library "$lib" --language "$language" \
    --out-dir "$out/$language" --no-format >&2
done
echo "$lib"
