package com.chauffeur.app

import android.app.Application
import com.chauffeur.presentation.RiderPresenter
import com.chauffeur.sdk.LogLevel
import com.chauffeur.sdk.RiderConfig
import com.chauffeur.sdk.initLogging
import com.chauffeur.sdk.openRiderApp
import java.io.File
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.async

/** Opens the rider SDK once per process; every screen shares its one presenter. */
class ChauffeurApplication : Application() {
    val scope = CoroutineScope(SupervisorJob())
    lateinit var presenter: Deferred<RiderPresenter>
        private set

    override fun onCreate() {
        super.onCreate()
        // OpenStreetMap's tile servers refuse requests without an identifying user agent.
        org.osmdroid.config.Configuration.getInstance().userAgentValue = BuildConfig.APPLICATION_ID
        initLogging(if (BuildConfig.DEBUG) LogLevel.DEBUG else LogLevel.WARN, null)
        presenter = scope.async {
            val app = openRiderApp(
                RiderConfig(BuildConfig.CHAUFFEUR_SERVER, File(filesDir, "rider-cache.db").path),
                KeystoreSecureStorage(this@ChauffeurApplication),
            )
            RiderPresenter(app)
        }
    }
}
