package com.chauffeur.app

import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import com.chauffeur.app.ui.ChauffeurNavHost
import com.chauffeur.presentation.RiderPresenter

class MainActivity : ComponentActivity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val application = application as ChauffeurApplication
        setContent {
            MaterialTheme {
                var presenter by remember { mutableStateOf<RiderPresenter?>(null) }
                LaunchedEffect(Unit) { presenter = application.presenter.await() }
                when (val ready = presenter) {
                    null -> Box(Modifier.fillMaxSize(), contentAlignment = Alignment.Center) {
                        CircularProgressIndicator()
                    }
                    else -> ChauffeurNavHost(ready)
                }
            }
        }
    }
}
