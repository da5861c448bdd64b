package com.chauffeur.presentation

import com.chauffeur.sdk.ChauffeurException
import com.chauffeur.sdk.QuoteForm
import com.chauffeur.sdk.RideEvent
import com.chauffeur.sdk.RiderApp
import com.chauffeur.sdk.RiderState
import com.chauffeur.sdk.VehicleClass
import com.chauffeur.sdk.rideEvents
import com.chauffeur.sdk.states
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update

/**
 * What each button does, and where the app goes next. Every tap is a suspend function (the
 * Compose layer launches it in its scope); the SDK does the work, this class decides the
 * navigation and keeps the last error for the screen to show. No Android classes: tested on the
 * JVM against a real server.
 */
class RiderPresenter(private val app: RiderApp) {
    /** The SDK's state, shared with every screen. */
    val state: StateFlow<RiderState> = app.states()

    private val stack = MutableStateFlow<List<Screen>>(listOf(Screen.QuoteForm))

    /** The back stack; its last entry is on screen. */
    val backStack: StateFlow<List<Screen>> = stack.asStateFlow()
    val screen: Screen get() = stack.value.last()

    private val lastError = MutableStateFlow<ChauffeurException?>(null)

    /** The last action's failure, for a snackbar or the form; cleared by the next action. */
    val error: StateFlow<ChauffeurException?> = lastError.asStateFlow()

    private fun push(screen: Screen) = stack.update { it + screen }

    /** Replaces the top of the stack (a finished step is not returned to). */
    private fun replaceTop(screen: Screen) = stack.update { it.dropLast(1) + screen }

    /** Back: pops a screen; returns false on the first screen (the system closes the app). */
    fun onBack(): Boolean {
        if (stack.value.size <= 1) return false
        if (screen is Screen.Booking) app.closeBooking()
        stack.update { it.dropLast(1) }
        return true
    }

    private suspend fun attempt(action: suspend () -> Unit): Boolean {
        lastError.value = null
        return try {
            action()
            true
        } catch (e: ChauffeurException) {
            lastError.value = e
            false
        }
    }

    /** Every edit of the form: validated at once, the messages appear under their fields. */
    fun onFormChanged(form: QuoteForm): QuoteFormModel = QuoteFormModel.of(app.editForm(form))

    /** "Get prices": on success the quotes screen; invalid input stays on the form. */
    suspend fun onGetPrices(): Boolean = attempt {
        app.requestQuotes()
        push(Screen.Quotes)
    }

    /** "Book" on a quote row: signed out, first the sign-in screen, then the booking. */
    suspend fun onBook(vehicleClass: VehicleClass): Boolean {
        if (state.value.signedInAs == null) {
            push(Screen.SignIn(then = AfterSignIn.Book(vehicleClass)))
            return true
        }
        return attempt {
            app.book(vehicleClass)
            push(Screen.Confirmation)
        }
    }

    suspend fun onSignIn(email: String, password: String): Boolean = attempt {
        app.logIn(email, password)
        afterSignIn()
    }

    suspend fun onSignUp(email: String, password: String, name: String?): Boolean = attempt {
        app.signUp(email, password, name)
        afterSignIn()
    }

    private suspend fun afterSignIn() {
        val then = (screen as? Screen.SignIn)?.then
        stack.update { it.dropLast(1) }
        when (then) {
            is AfterSignIn.Book -> {
                app.book(then.vehicleClass)
                push(Screen.Confirmation)
            }
            null -> Unit
        }
    }

    /** "My bookings" (from the confirmation or the menu): refreshed from the server. */
    suspend fun onShowBookings(): Boolean {
        stack.value = listOf(Screen.QuoteForm, Screen.Bookings)
        return attempt { app.refresh() }
    }

    suspend fun onOpenBooking(id: String): Boolean = attempt {
        app.openBooking(id)
        push(Screen.Booking(id))
    }

    /** "Follow live": the map screen collects [rideEventsOf]; the state's active ride moves. */
    fun onFollowLive(id: String) = push(Screen.LiveRide(id))

    /**
     * The ride's events while collected (the live screen collects it for as long as it shows);
     * ends with [ChauffeurException.Refused] when the ride can no longer be followed.
     */
    fun rideEventsOf(id: String): Flow<RideEvent> = app.rideEvents(id)

    fun onShowReceipt(id: String) = push(Screen.Receipt(id))

    /** Cancel, step one: the fee to accept, on its own screen. */
    suspend fun onCancel(id: String): Boolean = attempt {
        app.cancellationTerms(id)
        push(Screen.ConfirmCancel(id))
    }

    /** Cancel, step two: accept the fee shown; back on the booking, reopened. */
    suspend fun onConfirmCancel(): Boolean {
        val id = (screen as? Screen.ConfirmCancel)?.id ?: return false
        return attempt {
            app.confirmCancellation()
            stack.update { it.dropLast(1) }
            app.openBooking(id)
        }
    }

    suspend fun onDismissRefusal(seq: Long): Boolean = attempt { app.dismissRefusal(seq) }

    suspend fun onSignOut(discardUnsent: Boolean = false): Boolean = attempt {
        app.logOut(discardUnsent)
        stack.value = listOf(Screen.QuoteForm)
    }
}
