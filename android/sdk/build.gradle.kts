// The SDK as an Android library: the idiomatic Kotlin in src/main/kotlin, the UniFFI bindings
// generated from the Rust library, and libchauffeur_ffi.so for each ABI, built by cargo-ndk.
// The JVM tests in src/test run outside Gradle with scripts/kotlin-test.sh (they need the host
// library and a real server); see ../README.md.
plugins {
    alias(libs.plugins.android.library)
    alias(libs.plugins.kotlin.android)
}

val repoRoot: File = rootDir.parentFile
val abis = listOf("arm64-v8a", "armeabi-v7a", "x86_64")
val jniLibsDir = layout.buildDirectory.dir("rust/jniLibs")
val generatedDir = layout.buildDirectory.dir("generated/uniffi")

android {
    namespace = "com.chauffeur.sdk"
    compileSdk = 35
    defaultConfig {
        minSdk = 26
        consumerProguardFiles("consumer-rules.pro")
        ndk { abiFilters += abis }
    }
    sourceSets["main"].apply {
        jniLibs.srcDir(jniLibsDir)
        kotlin.srcDir(generatedDir.map { it.dir("kotlin") })
    }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
}

/** The Rust library for every ABI: `cargo ndk` (cargo install cargo-ndk; ANDROID_NDK_HOME set). */
val cargoNdk by tasks.registering(Exec::class) {
    group = "rust"
    description = "Builds libchauffeur_ffi.so for ${abis.joinToString()} with cargo-ndk"
    workingDir = repoRoot
    inputs.dir(File(repoRoot, "core/src"))
    inputs.dir(File(repoRoot, "bindings/src"))
    outputs.dir(jniLibsDir)
    commandLine(
        listOf("cargo", "ndk") + abis.flatMap { listOf("-t", it) } +
            listOf("-o", jniLibsDir.get().asFile.path, "build", "--release", "--locked", "-p", "chauffeur-ffi", "--lib"),
    )
}

/** The Kotlin bindings, generated from the host build of the same library (UniFFI library mode). */
val uniffiBindings by tasks.registering(Exec::class) {
    group = "rust"
    description = "Generates the UniFFI Kotlin bindings with scripts/bindings.sh"
    workingDir = repoRoot
    inputs.dir(File(repoRoot, "core/src"))
    inputs.dir(File(repoRoot, "bindings/src"))
    outputs.dir(generatedDir)
    commandLine("scripts/bindings.sh", generatedDir.get().asFile.path)
}

tasks.named("preBuild") { dependsOn(cargoNdk, uniffiBindings) }

dependencies {
    // JNA's Android AAR carries libjnidispatch.so for every ABI.
    api("${libs.jna.get()}@aar")
    api(libs.kotlinx.coroutines.core)
    testImplementation(libs.junit)
}
