// The Android project: the SDK library (generated UniFFI bindings + the Rust library built by
// cargo-ndk), the plain-Kotlin presentation layer, and the Compose app. Open this directory in
// Android Studio. See README.md for what is built and tested outside Android Studio.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}
dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}
rootProject.name = "chauffeur-android"
include(":sdk", ":presentation", ":app")
