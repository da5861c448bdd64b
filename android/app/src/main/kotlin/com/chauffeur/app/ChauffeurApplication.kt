package com.chauffeur.app

import android.app.Application
import com.chauffeur.presentation.RiderLauncher
import com.chauffeur.sdk.LogLevel
import com.chauffeur.sdk.RiderConfig
import com.chauffeur.sdk.initLogging
import com.chauffeur.sdk.openRiderApp
import java.io.File
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.launch

/**
 * Opens the rider SDK once per process; every screen shares its one presenter. Opening may fail
 * (a cache file that cannot be opened, a broken Keystore, the native library missing): the
 * launcher turns that into an error screen with "Try again", never a crash.
 */
class ChauffeurApplication : Application() {
    val scope = CoroutineScope(SupervisorJob())
    lateinit var launcher: RiderLauncher
        private set

    override fun onCreate() {
        super.onCreate()
        // OpenStreetMap's tile servers refuse requests without an identifying user agent.
        org.osmdroid.config.Configuration.getInstance().userAgentValue = BuildConfig.APPLICATION_ID
        launcher = RiderLauncher(scope, StripeSource()) {
            try {
                initLogging(if (BuildConfig.DEBUG) LogLevel.DEBUG else LogLevel.WARN, null)
                openRiderApp(
                    RiderConfig(BuildConfig.CHAUFFEUR_SERVER, File(filesDir, "rider-cache.db").path),
                    KeystoreSecureStorage(this@ChauffeurApplication),
                )
            } catch (e: UnsatisfiedLinkError) {
                // The SDK's native library did not load (an unsupported ABI): an Error, shown as a failure.
                throw IllegalStateException(e.message ?: "the rider SDK's library did not load", e)
            }
        }
        scope.launch { launcher.open() }
    }
}
