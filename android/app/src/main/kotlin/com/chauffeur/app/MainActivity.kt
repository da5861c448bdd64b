package com.chauffeur.app

import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.Button
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.runtime.getValue
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import com.chauffeur.app.ui.ChauffeurNavHost
import com.chauffeur.presentation.Launch
import kotlinx.coroutines.launch

class MainActivity : ComponentActivity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val launcher = (application as ChauffeurApplication).launcher
        setContent {
            MaterialTheme {
                val launch by launcher.state.collectAsStateWithLifecycle()
                val scope = rememberCoroutineScope()
                when (val shown = launch) {
                    Launch.Opening -> Box(Modifier.fillMaxSize(), contentAlignment = Alignment.Center) {
                        CircularProgressIndicator()
                    }
                    is Launch.Failed -> Column(
                        Modifier.fillMaxSize().padding(24.dp),
                        verticalArrangement = Arrangement.spacedBy(12.dp, Alignment.CenterVertically),
                        horizontalAlignment = Alignment.CenterHorizontally,
                    ) {
                        Text(stringResource(R.string.launch_failed), style = MaterialTheme.typography.headlineSmall)
                        Text(shown.message, color = MaterialTheme.colorScheme.error)
                        Button({ scope.launch { launcher.open() } }) { Text(stringResource(R.string.launch_retry)) }
                    }
                    is Launch.Ready -> ChauffeurNavHost(shown.presenter)
                }
            }
        }
    }
}
