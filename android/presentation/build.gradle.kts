// The plain-Kotlin presentation layer under the Compose screens: screen models, navigation,
// what each button does. No Android classes, so it is compiled and tested on the JVM by
// scripts/kotlin-test.sh as well as here.
plugins {
    alias(libs.plugins.android.library)
    alias(libs.plugins.kotlin.android)
}

android {
    namespace = "com.chauffeur.presentation"
    compileSdk = 35
    defaultConfig { minSdk = 26 }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
}

dependencies {
    api(project(":sdk"))
    testImplementation(libs.junit)
}
