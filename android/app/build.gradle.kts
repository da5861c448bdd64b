plugins {
    alias(libs.plugins.android.application)
    alias(libs.plugins.kotlin.android)
    alias(libs.plugins.kotlin.compose)
}

android {
    namespace = "com.chauffeur.app"
    compileSdk = 35
    defaultConfig {
        applicationId = "com.chauffeur.app"
        minSdk = 26
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        // The API the app talks to; override with -PchauffeurServer=https://… .
        val server = (project.findProperty("chauffeurServer") as String?) ?: "https://api.chauffeur.example"
        buildConfigField("String", "CHAUFFEUR_SERVER", "\"$server\"")
        // The emulator reaches the host's `chauffeur-server dev` at 10.0.2.2.
    }
    buildFeatures {
        compose = true
        buildConfig = true
    }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
}

dependencies {
    implementation(project(":presentation"))
    implementation(platform(libs.compose.bom))
    implementation(libs.compose.material3)
    implementation(libs.compose.ui)
    implementation(libs.compose.ui.tooling.preview)
    implementation(libs.activity.compose)
    implementation(libs.navigation.compose)
    implementation(libs.lifecycle.viewmodel.compose)
    implementation(libs.lifecycle.runtime.compose)
    implementation(libs.kotlinx.coroutines.android)
    implementation(libs.osmdroid)
    debugImplementation(libs.compose.ui.tooling)
}
