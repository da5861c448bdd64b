#!/usr/bin/env bash
# The Kotlin/JVM module (android/sdk) against a real server: generates the bindings from the
# built library, compiles the module and its JUnit tests with the real Kotlin compiler and runs
# them with JNA loading libchauffeur_ffi. Installs what it needs when missing:
#   - kotlinc: the npm package kotlin-compiler, into $CHAUFFEUR_TOOLS_DIR (default ~/.cache/chauffeur-tools)
#   - JNA and JUnit 4: Debian packages libjna-java and junit4
# Without them (and no way to install them) it fails under CI=true and skips with a warning
# otherwise.
#
#   scripts/kotlin-test.sh            run the JUnit tests
#   scripts/kotlin-test.sh --bench    run the binding benchmark instead (release library)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
target="${CARGO_TARGET_DIR:-$root/target}"
tools="${CHAUFFEUR_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/chauffeur-tools}"
kotlin_version="2.4.20"
mode="${1:-test}"

missing() {
  if [ "${CI:-}" = "true" ]; then
    echo "kotlin: FAILED: $1 (CI=true: the Kotlin tests may not be skipped)" >&2
    exit 1
  fi
  echo "kotlin: WARNING: $1; Kotlin tests skipped" >&2
  exit 0
}

# --- tools ---------------------------------------------------------------------------------
command -v java >/dev/null || missing "no java (install a JDK 17, e.g. apt-get install openjdk-17-jdk-headless)"
kotlin_home="$tools/kotlin-$kotlin_version/node_modules/kotlin-compiler"
if [ ! -x "$kotlin_home/bin/kotlinc" ]; then
  command -v npm >/dev/null || missing "no kotlinc and no npm to install it"
  echo "kotlin: installing kotlin-compiler@$kotlin_version into $tools (once)" >&2
  mkdir -p "$tools"
  npm install --silent --no-audit --no-fund --prefix "$tools/kotlin-$kotlin_version" \
    "kotlin-compiler@$kotlin_version" >&2 || missing "npm could not install kotlin-compiler"
fi
jar_of() { # the jar a Debian package ships, by file name
  dpkg -L "$1" 2>/dev/null | grep -E "/usr/share/java/$2$" | head -1
}
if [ -z "$(jar_of libjna-java jna.jar)" ] || [ -z "$(jar_of junit4 junit4.jar)" ]; then
  echo "kotlin: installing JNA and JUnit 4 (apt-get install libjna-java junit4)" >&2
  if [ "$(id -u)" = 0 ]; then apt_get="apt-get"; else apt_get="sudo apt-get"; fi
  DEBIAN_FRONTEND=noninteractive $apt_get install -y -q libjna-java junit4 >&2 \
    || missing "could not install libjna-java and junit4"
fi
jna="$(jar_of libjna-java jna.jar)"
junit="$(jar_of junit4 junit4.jar)"
hamcrest="$(dpkg -L libhamcrest-java 2>/dev/null | grep -E '/usr/share/java/hamcrest(-core)?\.jar$' | head -1)"
kotlinc="$kotlin_home/bin/kotlinc"
lib_dir="$kotlin_home/lib"
coroutines="$lib_dir/kotlinx-coroutines-core-jvm.jar"
export JAVA_OPTS="${JAVA_OPTS:--Xmx1g}"

# --- bindings and the Rust side --------------------------------------------------------------
build="$target/kotlin"
mkdir -p "$build"
if [ "$mode" = "--bench" ]; then
  echo "kotlin: building the release library for the benchmark" >&2
  cargo build --release --locked -p chauffeur-ffi --lib >&2
  "$root/scripts/bindings.sh" "$build/generated" >/dev/null
  library="$target/release/libchauffeur_ffi.so"
else
  library="$("$root/scripts/bindings.sh" "$build/generated")"
fi
# The Swift bindings come from the same run; scripts/swift-test.sh compiles and tests them (in its
# Swift chroot). Here, check at least that they were generated and carry the SDK's API.
swift="$build/generated/swift"
for f in ChauffeurSDK.swift ChauffeurFFI.h ChauffeurFFI.modulemap ChauffeurCore.swift ChauffeurCoreFFI.h \
  ChauffeurCoreFFI.modulemap; do
  [ -s "$swift/$f" ] || { echo "kotlin: Swift binding $f was not generated" >&2; exit 1; }
done
grep -q 'open class RiderApp' "$swift/ChauffeurSDK.swift" \
  || { echo "kotlin: the Swift bindings lack RiderApp" >&2; exit 1; }
echo "kotlin: Swift bindings generated in $swift (compiled by scripts/swift-test.sh)" >&2
server="$target/debug/chauffeur-server"
[ -x "$server" ] || { echo "kotlin: $server was not built" >&2; exit 1; }

# --- compile -----------------------------------------------------------------------------------
# The SDK module and the plain-Kotlin presentation layer under the Compose screens
# (android/presentation): both are JVM code, compiled and tested here; android/app is not.
sdk_sources=("$build/generated/kotlin" android/sdk/src/main/kotlin android/presentation/src/main/kotlin)
echo "kotlin: compiling the SDK module ($("$kotlinc" -version 2>&1 | tail -1))" >&2
"$kotlinc" -nowarn -jvm-target 17 -cp "$jna:$coroutines" -d "$build/sdk.jar" "${sdk_sources[@]}" 2>&1 \
  | grep -v '^warning: ' >&2 || true
[ -f "$build/sdk.jar" ] || { echo "kotlin: the SDK module did not compile" >&2; exit 1; }

run_cp="$build/sdk.jar:$jna:$coroutines:$lib_dir/kotlin-stdlib.jar"
if [ "$mode" = "--bench" ]; then
  "$kotlinc" -nowarn -jvm-target 17 -cp "$build/sdk.jar:$jna:$coroutines" -d "$build/bench.jar" \
    android/sdk/src/bench/kotlin >&2
  exec java -Djna.library.path="$(dirname "$library")" -cp "$run_cp:$build/bench.jar" \
    com.chauffeur.sdk.BindingBenchmarkKt "${@:2}"
fi

test_cp="$build/sdk.jar:$jna:$coroutines:$junit:$hamcrest:$lib_dir/kotlin-test.jar:$lib_dir/kotlin-test-junit.jar"
rm -rf "$build/tests"
"$kotlinc" -nowarn -jvm-target 17 -cp "$test_cp" -d "$build/tests" android/sdk/src/test/kotlin \
  android/presentation/src/test/kotlin 2>&1 \
  | grep -v '^warning: ' >&2 || true
[ -d "$build/tests/com" ] || { echo "kotlin: the tests did not compile" >&2; exit 1; }

# --- run -----------------------------------------------------------------------------------------
classes=$(cd "$build/tests" && find . -name '*Test.class' ! -name '*$*' | sed 's|^\./||; s|\.class$||; s|/|.|g' | sort)
echo "kotlin: running $(echo "$classes" | wc -w) JUnit class(es) against $server" >&2
java -Djna.library.path="$(dirname "$library")" -Dchauffeur.server="$server" \
  -cp "$test_cp:$lib_dir/kotlin-stdlib.jar:$build/tests" org.junit.runner.JUnitCore $classes
