#!/usr/bin/env bash
# For a macOS developer with Xcode (it cannot run on Linux; scripts/swift-test.sh is the Linux
# half): builds the Rust library for iOS devices and simulators, packs it with the generated C
# headers into ios/Generated/ChauffeurRust.xcframework, puts the generated Swift bindings where
# ios/Package.swift expects them, then generates the app's Xcode project (XcodeGen) and builds the
# app for the simulator.
#
#   ios/build-xcframework.sh            XCFramework + app (Debug, iOS Simulator)
#   ios/build-xcframework.sh --no-app   XCFramework only
#
# Needs: Xcode (xcodebuild, lipo), rustup, and XcodeGen for the app (`brew install xcodegen`).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
[ "$(uname -s)" = "Darwin" ] || { echo "build-xcframework: needs macOS with Xcode" >&2; exit 1; }
for tool in xcodebuild lipo rustup cargo; do
  command -v "$tool" >/dev/null || { echo "build-xcframework: missing $tool" >&2; exit 1; }
done
target_dir="${CARGO_TARGET_DIR:-$root/target}"
work="$target_dir/ios"
generated="$root/ios/Generated"
profile="${PROFILE:-release-small}" # the size-optimised profile the app ships (Cargo.toml)

# --- the Rust library, one static library per slice ---------------------------------------
slices=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios)
rustup target add "${slices[@]}"
for slice in "${slices[@]}"; do
  echo "build-xcframework: cargo ($profile) for $slice" >&2
  cargo rustc --locked -p chauffeur-ffi --lib --profile "$profile" --target "$slice" \
    --crate-type staticlib
done
lib() { echo "$target_dir/$1/$profile/libchauffeur_ffi.a"; }
mkdir -p "$work/simulator"
# The simulator's two architectures become one library (an XCFramework takes one per platform).
lipo -create "$(lib aarch64-apple-ios-sim)" "$(lib x86_64-apple-ios)" \
  -output "$work/simulator/libchauffeur_ffi.a"

# --- the bindings: generated from the host build (same exports), never committed -------------
"$root/scripts/bindings.sh" "$work/generated" >/dev/null
swift="$work/generated/swift"
rm -rf "$generated" "$work/headers"
mkdir -p "$generated/ChauffeurSDK" "$work/headers"
cp "$swift/ChauffeurSDK.swift" "$swift/ChauffeurCore.swift" "$generated/ChauffeurSDK/"
cp "$swift/ChauffeurFFI.h" "$swift/ChauffeurCoreFFI.h" "$work/headers/"
# Both C modules in the one framework's module map.
cat "$swift/ChauffeurFFI.modulemap" "$swift/ChauffeurCoreFFI.modulemap" >"$work/headers/module.modulemap"

xcodebuild -create-xcframework \
  -library "$(lib aarch64-apple-ios)" -headers "$work/headers" \
  -library "$work/simulator/libchauffeur_ffi.a" -headers "$work/headers" \
  -output "$generated/ChauffeurRust.xcframework"
echo "build-xcframework: $generated/ChauffeurRust.xcframework" >&2

[ "${1:-}" = "--no-app" ] && exit 0

# --- the app -------------------------------------------------------------------------------
command -v xcodegen >/dev/null || { echo "build-xcframework: install XcodeGen (brew install xcodegen) to build the app" >&2; exit 1; }
(cd "$root/ios/App" && xcodegen generate)
xcodebuild -project "$root/ios/App/Chauffeur.xcodeproj" -scheme ChauffeurRider \
  -destination 'generic/platform=iOS Simulator' -configuration Debug build
