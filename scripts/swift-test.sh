#!/usr/bin/env bash
# The Swift package (ios/) against a real server, with a real Swift compiler: Debian 13's
# `swiftlang` in a minimal trixie chroot (Debian 12 has no Swift). Generates the Swift bindings
# from the built library, starts `chauffeur-server dev` on a free loopback port, runs
# `swift build` and `swift test` of the package in the chroot (the XCTests call the real Rust
# library and the real server), then swift-format and SwiftLint over ios/.
#
# Installs what it needs when missing, into $CHAUFFEUR_TOOLS_DIR (default ~/.cache/chauffeur-tools):
#   - swift-trixie/: `debootstrap --variant=minbase trixie`, then `apt-get install swiftlang
#     libc6-dev` in it (~3.4 GB; needs root for debootstrap, chroot and mount)
#   - swiftlint-<version>/: the npm package @expo/swiftlint (a Linux SwiftLint binary)
# Without them (and no way to install them) it fails under CI=true and skips with a warning
# otherwise. Everything it mounts is unmounted on every exit path.
#
#   scripts/swift-test.sh            build, test and lint
#   scripts/swift-test.sh --bench    run the binding benchmark instead (release library)
#   scripts/swift-test.sh --format   rewrite ios/ with swift-format (what the lint step checks)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
target="${CARGO_TARGET_DIR:-$root/target}"
tools="${CHAUFFEUR_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/chauffeur-tools}"
jail="$tools/swift-trixie"
mirror="${CHAUFFEUR_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
swiftlint_version="0.57.1"
mode="${1:-test}"
work="$target/swift" # build products, the library, the server's data: outside the checkout

missing() {
  if [ "${CI:-}" = "true" ]; then
    echo "swift: FAILED: $1 (CI=true: the Swift tests may not be skipped)" >&2
    exit 1
  fi
  echo "swift: WARNING: $1; Swift tests skipped" >&2
  exit 0
}

# --- cleanup: every mount (innermost last in the list, so unmounted first) and the server ------
mounts=()
server_pid=""
cleanup() {
  local i
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    umount "${mounts[$i]}" 2>/dev/null || umount -l "${mounts[$i]}" 2>/dev/null \
      || echo "swift: WARNING: could not unmount ${mounts[$i]}" >&2
  done
  mounts=()
  [ -z "${server_dir:-}" ] || rm -rf "$server_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mount_into() { # mount_into <source> <path inside the jail> [ro] — a bind mount, remembered
  local at="$jail_dir$2"
  if [ -d "$1" ]; then mkdir -p "$at"; else mkdir -p "$(dirname "$at")" && touch "$at"; fi
  mount --bind "$1" "$at"
  mounts+=("$at")
  if [ "${3:-}" = "ro" ]; then mount -o remount,bind,ro "$at"; fi
}

# --- toolchain: the trixie chroot -------------------------------------------------------------
[ "$(uname -s)" = "Linux" ] || missing "this script runs Swift in a Linux chroot; on macOS use Xcode (ios/README.md)"
[ "$(id -u)" = 0 ] || missing "building and entering the Swift chroot needs root (debootstrap, chroot, mount)"
# One run at a time per tools dir: runs share the chroot and its mount points.
mkdir -p "$tools"
exec 9>"$tools/swift-trixie.lock"
flock 9
# Written once the toolchain is installed (the chroot's /usr/bin/swift is an absolute symlink,
# meaningless from outside).
ready="$jail/.chauffeur-swift-ready"
if [ ! -f "$ready" ]; then
  echo "swift: making the Swift toolchain chroot in $jail (once; ~3.4 GB)" >&2
  started=$(date +%s)
  if ! command -v debootstrap >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >&2 \
      || missing "no debootstrap, and apt-get could not install it"
  fi
  partial="$jail.partial"
  # Never delete through a mount left by a killed run (the checkout is bind-mounted in there).
  if findmnt -rn -o TARGET | grep -q "^$jail"; then
    echo "swift: something is still mounted under $jail; unmount it first" >&2
    exit 1
  fi
  rm -rf --one-file-system "$partial"
  mkdir -p "$tools"
  debootstrap --variant=minbase trixie "$partial" "$mirror" >&2 \
    || missing "debootstrap of Debian trixie from $mirror failed"
  jail_dir="$partial"
  mount -t proc proc "$partial/proc"
  mounts+=("$partial/proc")
  cp /etc/resolv.conf "$partial/etc/resolv.conf"
  chroot "$partial" /usr/bin/env DEBIAN_FRONTEND=noninteractive /bin/sh -c \
    'apt-get update -q && apt-get install -y -q --no-install-recommends swiftlang libc6-dev' >&2 \
    || missing "apt-get install swiftlang in the trixie chroot failed"
  cleanup
  touch "$partial/.chauffeur-swift-ready"
  rm -rf --one-file-system "$jail"
  mv "$partial" "$jail"
  echo "swift: toolchain chroot made in $(($(date +%s) - started)) s" >&2
fi
jail_dir="$jail"

# -L/-rpath: the Rust library; --allow-shlib-undefined: Debian's libswiftObservation.so links
# against symbols its own build leaves undefined (the package builds and runs without it
# otherwise, but cannot link a binary that uses @Observable).
flags=(--package-path /src/ios --scratch-path /work/build -Xlinker -L/work/lib
  -Xlinker -rpath=/work/lib -Xlinker --allow-shlib-undefined)
in_jail() {
  chroot "$jail" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/work/home LANG=C.UTF-8 \
    CHAUFFEUR_SERVER_URL="${server_url:-}" "$@"
}

# The formatter, for a developer: rewrites ios/ in place the way the lint below wants it.
lint_paths="Package.swift Sources/ChauffeurKit Tests App Bench"
if [ "$mode" = "--format" ]; then
  mount -t proc proc "$jail/proc"
  mounts+=("$jail/proc")
  mount_into "$root/ios" /src/ios
  in_jail /bin/sh -c "cd /src/ios && swift format format -i -r --configuration .swift-format $lint_paths"
  echo "swift: formatted ios/ with swift-format" >&2
  exit 0
fi

# --- SwiftLint (npm @expo/swiftlint: a Linux binary, run inside the chroot) -------------------
swiftlint_home="$tools/swiftlint-$swiftlint_version"
swiftlint_bin() { # prints the Linux binary's path when installed
  local bin="$swiftlint_home/node_modules/@expo/swiftlint/bin/linux-x64/swiftlint"
  if [ -x "$bin" ]; then echo "$bin"; fi
}
if [ "$mode" != "--bench" ] && [ -z "$(swiftlint_bin)" ]; then
  command -v npm >/dev/null || missing "no SwiftLint and no npm to install it"
  echo "swift: installing @expo/swiftlint@$swiftlint_version into $tools (once)" >&2
  npm install --silent --no-audit --no-fund --prefix "$swiftlint_home" \
    "@expo/swiftlint@$swiftlint_version" >&2 || missing "npm could not install @expo/swiftlint"
  [ -n "$(swiftlint_bin)" ] || missing "@expo/swiftlint carries no Linux swiftlint binary"
fi

# --- the library, its bindings and the server ---------------------------------------------------
mkdir -p "$work/lib" "$work/home"
if [ "$mode" = "--bench" ]; then
  echo "swift: building the release library for the benchmark" >&2
  cargo build --release --locked -p chauffeur-ffi --lib >&2
  scripts/bindings.sh "$work/generated" >/dev/null
  library="$target/release/libchauffeur_ffi.so"
else
  library="$(scripts/bindings.sh "$work/generated")"
fi
# The package's generated targets (ios/Generated is gitignored; see ios/Package.swift).
generated="$root/ios/Generated"
rm -rf "$generated"
mkdir -p "$generated/ChauffeurSDK" "$generated/ChauffeurFFI/include" "$generated/ChauffeurCoreFFI/include"
cp "$work/generated/swift/ChauffeurSDK.swift" "$work/generated/swift/ChauffeurCore.swift" "$generated/ChauffeurSDK/"
for module in ChauffeurFFI ChauffeurCoreFFI; do
  cp "$work/generated/swift/$module.h" "$generated/$module/include/"
  cp "$work/generated/swift/$module.modulemap" "$generated/$module/include/module.modulemap"
  # SwiftPM wants a source file in a C target, even one that only carries headers.
  echo "/* headers only: see include/ */" >"$generated/$module/$module.c"
done
cp "$library" "$work/lib/libchauffeur_ffi.so"

server="$target/debug/chauffeur-server"
if [ "$mode" != "--bench" ]; then
  [ -x "$server" ] || { echo "swift: $server was not built" >&2; exit 1; }
  server_dir="$(mktemp -d)"
  # Port 0: the server picks a free port and prints it first ("listening on http://...").
  # --test-clock: the refusal journey moves the server's clock past a quote's validity.
  TMPDIR="$server_dir" CHAUFFEUR_LOG=warn "$server" dev --listen 127.0.0.1:0 --hashing-permits 2 \
    --dispatch-batch-size 10 --dispatch-interval-ms 200 --test-clock >"$server_dir/stdout" &
  server_pid=$!
  for _ in $(seq 1 300); do
    server_url="$(sed -n '1s/^listening on //p' "$server_dir/stdout" 2>/dev/null)"
    [ -n "$server_url" ] && break
    kill -0 "$server_pid" 2>/dev/null || { echo "swift: the server exited before listening" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "${server_url:-}" ] || { echo "swift: the server did not start listening within 30 s" >&2; exit 1; }
  echo "swift: chauffeur-server dev at $server_url" >&2
fi

# --- into the chroot -------------------------------------------------------------------------
mount -t proc proc "$jail/proc"
mounts+=("$jail/proc")
mount_into "$root" /src ro
mount_into "$work" /work
if [ "$mode" != "--bench" ]; then
  mount_into "$(dirname "$(swiftlint_bin)")" /opt/swiftlint ro
fi

if [ "$mode" = "--bench" ]; then
  in_jail swift build -c release "${flags[@]}" --product ChauffeurBench >&2
  in_jail /work/build/release/ChauffeurBench "${@:2}"
  exit 0
fi

echo "swift: $(in_jail swift --version 2>&1 | head -1)" >&2
in_jail swift build "${flags[@]}" --build-tests >&2
in_jail swift test "${flags[@]}" --skip-build 2>&1

echo "swift: swift-format lint (ios/.swift-format)" >&2
in_jail /bin/sh -c "cd /src/ios && swift format lint --strict -r --configuration .swift-format $lint_paths"
# SwiftLint is linked against the toolchain's Foundation and SourceKit, which Debian keeps under
# /usr/libexec/swift.
swiftlint=(/usr/bin/env LD_LIBRARY_PATH=/usr/libexec/swift/lib/swift/linux:/usr/libexec/swift/lib
  LINUX_SOURCEKIT_LIB_PATH=/usr/libexec/swift/lib /opt/swiftlint/swiftlint)
echo "swift: SwiftLint $(in_jail "${swiftlint[@]}" version) (ios/.swiftlint.yml)" >&2
in_jail "${swiftlint[@]}" lint --strict --quiet --no-cache --config /src/ios/.swiftlint.yml /src/ios
echo "swift: swift-format and SwiftLint report nothing on ios/" >&2
