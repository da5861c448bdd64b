package com.chauffeur.app.ui

import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.platform.LocalContext
import com.chauffeur.presentation.Invoice
import java.io.IOException
import java.util.Locale
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext

/** The invoice's language: German on a German device, English otherwise (the server has both). */
fun invoiceLanguage(locale: Locale = Locale.getDefault()): String = if (locale.language == "de") "de" else "en"

/**
 * Hands an invoice's PDF to the platform: the system's "save as" picker (Storage Access
 * Framework) asks where, then the bytes are written there off the main thread. Returns the
 * function the booking screen calls with the presenter's [Invoice].
 */
@Composable
fun rememberInvoiceSaver(): (Invoice) -> Unit {
    val context = LocalContext.current
    val scope = rememberCoroutineScope()
    var pending by remember { mutableStateOf<Invoice?>(null) }
    val picker = rememberLauncherForActivityResult(ActivityResultContracts.CreateDocument("application/pdf")) { uri ->
        val invoice = pending
        pending = null
        if (uri != null && invoice != null) {
            scope.launch {
                withContext(Dispatchers.IO) {
                    try {
                        context.contentResolver.openOutputStream(uri)?.use { it.write(invoice.pdf) }
                    } catch (e: IOException) {
                        // The chosen place refused the file; the rider can download it again.
                        android.util.Log.w("Chauffeur", "the invoice could not be saved", e)
                    } catch (e: SecurityException) {
                        // The chosen place refused the file; the rider can download it again.
                        android.util.Log.w("Chauffeur", "the invoice could not be saved", e)
                    }
                }
            }
        }
    }
    return { invoice ->
        pending = invoice
        picker.launch(invoice.fileName)
    }
}
