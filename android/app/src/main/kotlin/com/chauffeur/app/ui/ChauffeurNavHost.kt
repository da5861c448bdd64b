package com.chauffeur.app.ui

import androidx.activity.compose.BackHandler
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.rememberCoroutineScope
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import androidx.navigation.compose.NavHost
import androidx.navigation.compose.composable
import androidx.navigation.compose.rememberNavController
import com.chauffeur.presentation.RiderPresenter
import com.chauffeur.presentation.Screen
import kotlinx.coroutines.launch

/** The presenter's back stack as Navigation routes: the presenter decides, Navigation animates. */
fun Screen.route(): String = when (this) {
    Screen.QuoteForm -> "form"
    Screen.Quotes -> "quotes"
    is Screen.SignIn -> "sign-in"
    is Screen.ConfirmBooking -> "confirm-booking"
    Screen.Confirmation -> "confirmation"
    Screen.Bookings -> "bookings"
    is Screen.Booking -> "booking"
    is Screen.LiveRide -> "live"
    is Screen.ConfirmCancel -> "cancel"
    is Screen.Receipt -> "receipt"
}

@Composable
fun ChauffeurNavHost(presenter: RiderPresenter) {
    val nav = rememberNavController()
    val stack by presenter.backStack.collectAsStateWithLifecycle()
    val state by presenter.state.collectAsStateWithLifecycle()
    val error by presenter.error.collectAsStateWithLifecycle()
    val cardStep by presenter.cardStep.collectAsStateWithLifecycle()
    val cardError by presenter.cardError.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    /** Runs a tap's action off the UI thread's frame (the SDK's calls suspend, never block). */
    val tap: (suspend RiderPresenter.() -> Unit) -> Unit = { action -> scope.launch { presenter.action() } }
    val saveInvoice = rememberInvoiceSaver()

    LaunchedEffect(stack) {
        val top = stack.last().route()
        if (nav.currentDestination?.route != top) {
            nav.navigate(top) { popUpTo("form") { inclusive = stack.size == 1 && top == "form" } }
        }
    }
    NavHost(nav, startDestination = "form") {
        composable("form") {
            QuoteFormScreen(
                state,
                error,
                presenter,
                onGetPrices = { numbers, byTheHour -> tap { onGetPrices(numbers, byTheHour) } },
                onMyBookings = { tap { onShowBookings() } },
            )
        }
        composable("quotes") { QuotesScreen(state, error) { c -> tap { onBook(c) } } }
        composable("sign-in") {
            SignInScreen(
                error = error,
                onSignIn = { e, p -> tap { onSignIn(e, p) } },
                onSignUp = { e, p, n -> tap { onSignUp(e, p, n) } },
            )
        }
        composable("confirm-booking") { ConfirmBookingScreen(presenter) { tap { onConfirmBooking() } } }
        composable("confirmation") {
            ConfirmationScreen(state, cardStep, error, cardError, onCardStep = { id -> tap { onRunCardStep(id) } }) { tap { onShowBookings() } }
        }
        composable("bookings") {
            BookingsScreen(state, onOpen = { id -> tap { onOpenBooking(id) } }, onDismiss = { seq -> tap { onDismissRefusal(seq) } })
        }
        composable("booking") {
            BookingScreen(
                state,
                error,
                cardError,
                onFollow = { id -> presenter.onFollowLive(id) },
                onCancel = { id -> tap { onCancel(id) } },
                onReceipt = presenter::onShowReceipt,
                onCardStep = { id -> tap { onRunCardStep(id) } },
                onInvoice = { id -> tap { onDownloadInvoice(id, invoiceLanguage())?.let(saveInvoice) } },
            )
        }
        composable("live") { (stack.last() as? Screen.LiveRide)?.let { LiveRideScreen(presenter, it.id) } }
        composable("cancel") { CancelScreen(state, error, onConfirm = { tap { onConfirmCancel() } }, onKeep = { presenter.onBack() }) }
        composable("receipt") { ReceiptScreen(state) }
    }
    // After the NavHost: the later back handler wins, and back must go through the presenter
    // (it keeps its own stack and closes the booking it leaves).
    BackHandler(enabled = stack.size > 1) { presenter.onBack() }
}
