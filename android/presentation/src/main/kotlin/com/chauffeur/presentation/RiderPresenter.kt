package com.chauffeur.presentation

import com.chauffeur.sdk.BookingState
import com.chauffeur.sdk.ChauffeurException
import com.chauffeur.sdk.DstChoice
import com.chauffeur.sdk.PaymentSetup
import com.chauffeur.sdk.Place
import com.chauffeur.sdk.QuoteForm
import com.chauffeur.sdk.RideEvent
import com.chauffeur.sdk.RiderApp
import com.chauffeur.sdk.RiderState
import com.chauffeur.sdk.VehicleClass
import com.chauffeur.sdk.rideEvents
import com.chauffeur.sdk.states
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.FlowPreview
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.collectLatest
import kotlinx.coroutines.flow.debounce
import kotlinx.coroutines.launch
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update

/**
 * What each button does, and where the app goes next. Every tap is a suspend function (the
 * Compose layer launches it in its scope); the SDK does the work, this class decides the
 * navigation and keeps the last error for the screen to show. No Android classes: tested on the
 * JVM against a real server.
 *
 * Payments: [providerSource] is the payment provider's SDK the app was built with (Stripe's, see
 * android/README.md), used when the server's provider is not the test one; the dev server's test
 * provider uses [testCards]. With provider `none` no card is asked.
 */
class RiderPresenter(
    private val app: RiderApp,
    scope: CoroutineScope,
    private val providerSource: PaymentMethodSource? = null,
) {
    /** The SDK's state, shared with every screen. */
    val state: StateFlow<RiderState> = app.states()

    /** The place search of the form's pickup and drop-off fields (runs in [scope]). */
    val places = PlaceSearch(app, scope)

    private val stack = MutableStateFlow<List<Screen>>(listOf(Screen.QuoteForm))

    /** The back stack; its last entry is on screen. */
    val backStack: StateFlow<List<Screen>> = stack.asStateFlow()
    val screen: Screen get() = stack.value.last()

    private val lastError = MutableStateFlow<ChauffeurException?>(null)

    /** The last action's failure, for a snackbar or the form; cleared by the next action. */
    val error: StateFlow<ChauffeurException?> = lastError.asStateFlow()

    /** The test provider's card picker (shown when the server's provider is `test`). */
    val testCards = TestCardSource()

    private val loadedSetup = MutableStateFlow<PaymentSetup?>(null)

    /** Which card payment the server takes; read when a booking is about to be confirmed. */
    val paymentSetup: StateFlow<PaymentSetup?> = loadedSetup.asStateFlow()

    /** The server's payment setup, read once per presenter. */
    private suspend fun setup(): PaymentSetup = loadedSetup.value ?: app.paymentsConfig().also { loadedSetup.value = it }

    private val lastCardError = MutableStateFlow<CardError?>(null)

    /** A refusal of the card, shown under the card field of the booking confirmation. */
    val cardError: StateFlow<CardError?> = lastCardError.asStateFlow()

    private val waitingStep = MutableStateFlow<CardStep?>(null)

    /** The last booking made waits for the card step (3-D Secure): run it with [onRunCardStep]. */
    val cardStep: StateFlow<CardStep?> = waitingStep.asStateFlow()

    private val bookingNow = MutableStateFlow(false)

    /**
     * A booking is being made: "Book" is disabled. Each book call is a new booking request (a
     * fresh Idempotency-Key), so a second tap meanwhile must not send another.
     */
    val booking: StateFlow<Boolean> = bookingNow.asStateFlow()

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
        lastCardError.value = null
        return try {
            action()
            true
        } catch (e: ChauffeurException) {
            val card = CardError.of(e)
            if (card != null) lastCardError.value = card else lastError.value = e
            false
        } catch (e: CardPaymentsUnavailable) {
            lastCardError.value = CardError(CardError.UNAVAILABLE, e.message.orEmpty())
            false
        }
    }

    /** Every edit of the form: validated at once, the messages appear under their fields. */
    fun onFormChanged(form: QuoteForm): QuoteFormModel = QuoteFormModel.of(app.editForm(form))

    /**
     * "Get prices": the number fields' text becomes the form's numbers first (when given), so
     * the SDK checks what the rider sees; on success the quotes screen, invalid input stays on
     * the form with the SDK's messages under each field.
     */
    suspend fun onGetPrices(numbers: NumberTexts? = null, byTheHour: Boolean? = null): Boolean {
        if (numbers != null) {
            val form = state.value.form
            app.editForm(numbers.applyTo(form, byTheHour ?: (form.hours != null)))
        }
        return attempt {
            app.requestQuotes()
            push(Screen.Quotes)
        }
    }

    /** A suggestion tapped under the pickup or drop-off field: its position goes into the form. */
    fun onPlacePicked(field: PlaceField, place: Place): QuoteFormModel {
        places.clear()
        val form = state.value.form
        val at = com.chauffeur.sdk.LatLon(place.lat, place.lon)
        return onFormChanged(
            when (field) {
                PlaceField.PICKUP -> form.copy(pickup = at)
                PlaceField.DROPOFF -> form.copy(dropoff = at, hours = null)
            },
        )
    }

    /** One of the two instants of a pickup time that happens twice. */
    fun onDstChoice(choice: DstChoice): QuoteFormModel = onFormChanged(state.value.form.copy(dstChoice = choice))

    /**
     * "Book" on a quote row: signed out, first the sign-in screen; then the booking confirmation
     * with the card to pay with, or (the server takes no card payments) the booking at once.
     */
    suspend fun onBook(vehicleClass: VehicleClass): Boolean {
        if (state.value.signedInAs == null) {
            push(Screen.SignIn(then = AfterSignIn.Book(vehicleClass)))
            return true
        }
        return attempt { toConfirmBooking(vehicleClass) }
    }

    private suspend fun toConfirmBooking(vehicleClass: VehicleClass) {
        val setup = app.paymentsConfig().also { loadedSetup.value = it }
        if (setup.provider == "none") {
            app.usePaymentMethod(null)
            book(vehicleClass)
            push(Screen.Confirmation)
        } else {
            push(Screen.ConfirmBooking(vehicleClass))
        }
    }

    /** The booking confirmation as shown: the class, its quoted price, the card choice and its refusal. */
    fun confirmBookingModel(locale: java.util.Locale = java.util.Locale.getDefault()): ConfirmBookingModel? {
        val vehicleClass = (screen as? Screen.ConfirmBooking)?.vehicleClass ?: return null
        val quote = state.value.quotes.find { it.`class` == vehicleClass }
        return ConfirmBookingModel(
            vehicleClass = vehicleClass,
            price = quote?.let { formatMoney(it.totalMinor, it.currency, locale) },
            card = CardChoiceModel.of(loadedSetup.value, testCards.chosen.value, locale),
            cardError = cardError.value,
        )
    }

    private fun sourceFor(setup: PaymentSetup): PaymentMethodSource? = when (setup.provider) {
        "none" -> null
        "test" -> testCards
        else -> providerSource ?: throw CardPaymentsUnavailable(
            "Card payments need the ${setup.provider} SDK, which this build of the app does not include.",
        )
    }

    /**
     * "Book" on the booking confirmation: the card from the payment source goes to the SDK's
     * payment hook, then the booking (true once booked). A refused card stays on this screen with the refusal under
     * the card field (nothing is booked); a booking whose card needs the bank's check shows the
     * confirmation with [cardStep] set.
     */
    suspend fun onConfirmBooking(): Boolean {
        val vehicleClass = (screen as? Screen.ConfirmBooking)?.vehicleClass ?: return false
        // A second tap while the first is still booking books nothing.
        if (!bookingNow.compareAndSet(expect = false, update = true)) return false
        try {
            return confirmBooking(vehicleClass)
        } finally {
            bookingNow.value = false
        }
    }

    private suspend fun confirmBooking(vehicleClass: VehicleClass): Boolean {
        var booked = false
        attempt {
            val setup = setup()
            val source = sourceFor(setup)
            if (source != null) {
                val quote = state.value.quotes.find { it.`class` == vehicleClass }
                val card = source.paymentMethodFor(setup, quote?.totalMinor ?: 0, quote?.currency.orEmpty())
                    ?: return@attempt // the rider closed the provider's card form: nothing booked
                app.usePaymentMethod(card)
            } else {
                app.usePaymentMethod(null)
            }
            book(vehicleClass)
            replaceTop(Screen.Confirmation)
            booked = true
        }
        return booked
    }

    /** Books, and remembers the card step when the provider asks for one. */
    private suspend fun book(vehicleClass: VehicleClass) {
        waitingStep.value = null
        val booked = app.book(vehicleClass).confirmation ?: return
        if (booked.state == BookingState.PAYMENT_PENDING) {
            val secret = app.openBooking(booked.id).selected?.payment?.clientSecret
            app.closeBooking()
            if (secret != null) waitingStep.value = CardStep(booked.id, secret)
        }
    }

    /**
     * The card step of a booking waiting in `payment_pending` (from the confirmation, or the
     * booking screen's "Check the card step again"): the provider's SDK runs it with the client
     * secret, then the server is asked how it ended. The booking screen shows the answer.
     */
    suspend fun onRunCardStep(bookingId: String): Boolean = attempt {
        val secret = waitingStep.value?.takeIf { it.bookingId == bookingId }?.clientSecret
            ?: app.openBooking(bookingId).selected?.payment?.clientSecret
        val source = sourceFor(setup())
        if (secret != null && source != null && !source.handleCardStep(secret)) return@attempt
        app.confirmPayment(bookingId)
        val after = app.openBooking(bookingId).selected
        if (after?.booking?.state != BookingState.PAYMENT_PENDING) {
            waitingStep.value = null
        }
        if (screen != Screen.Booking(bookingId)) push(Screen.Booking(bookingId))
    }

    /**
     * "Download invoice" on the booking screen: the PDF in `language` (`de`, `en`) for the
     * platform to save or share; null (with [error] set) when there is none yet or it failed.
     */
    suspend fun onDownloadInvoice(bookingId: String, language: String): Invoice? {
        var invoice: Invoice? = null
        attempt { invoice = Invoice("invoice-$bookingId.pdf", app.invoicePdf(bookingId, language)) }
        return invoice
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
            is AfterSignIn.Book -> toConfirmBooking(then.vehicleClass)
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

    /**
     * "Follow live": the map screen collects [rideEventsOf]; the state's active ride moves. Only
     * for a booking the SDK says can be followed (not a finished one); false otherwise.
     */
    fun onFollowLive(id: String): Boolean {
        val shown = state.value
        val booking = shown.selected?.booking?.takeIf { it.id == id }
            ?: (shown.upcoming + shown.past).find { it.id == id }
        if (booking?.canFollowLive != true) return false
        push(Screen.LiveRide(id))
        return true
    }

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

/** The form's place fields. */
enum class PlaceField { PICKUP, DROPOFF }

/** The suggestions under one place field, for what the rider typed there. */
data class PlaceSuggestions(
    val field: PlaceField? = null,
    val query: String = "",
    val places: List<Place> = emptyList(),
    /** The search failed (offline): the field still takes a tap on the map. */
    val error: String? = null,
)

/**
 * Place search as the rider types, as the iOS app does it: each keystroke goes to [onType]; the
 * search runs once the typing pauses for [debounceMs], a newer query cancels an older one still
 * running, and [suggestions] holds the answer of the last query only. The Compose field renders
 * [suggestions] and forwards taps to [RiderPresenter.onPlacePicked].
 */
class PlaceSearch(private val app: RiderApp, scope: CoroutineScope, debounceMs: Long = 250) {
    private data class Query(val field: PlaceField, val cityId: String, val text: String)

    private val queries = MutableStateFlow<Query?>(null)
    private val found = MutableStateFlow(PlaceSuggestions())

    /** The last query's answer (empty while nothing is typed). */
    val suggestions: StateFlow<PlaceSuggestions> = found.asStateFlow()

    init {
        scope.launch {
            @OptIn(FlowPreview::class)
            queries.debounce(debounceMs).collectLatest { query ->
                found.value = when {
                    query == null -> PlaceSuggestions()
                    query.text.trim().length < MIN_LENGTH -> PlaceSuggestions(query.field, query.text)
                    else -> try {
                        PlaceSuggestions(query.field, query.text, app.searchPlaces(query.cityId, query.text.trim()))
                    } catch (e: ChauffeurException) {
                        PlaceSuggestions(query.field, query.text, error = e.message)
                    }
                }
            }
        }
    }

    /** The rider typed in [field]: `text` is the field's whole text. */
    fun onType(field: PlaceField, cityId: String, text: String) {
        queries.value = Query(field, cityId, text)
    }

    /** The field lost its suggestions (a place was picked, or the form left). */
    fun clear() {
        queries.value = null
        found.value = PlaceSuggestions()
    }

    companion object {
        /** Fewer characters than this are not searched (too many matches to be useful). */
        const val MIN_LENGTH = 2
    }
}

/** Opening the rider app at launch, as the first screen shows it. */
sealed interface Launch {
    data object Opening : Launch
    data class Ready(val presenter: RiderPresenter) : Launch
    /** Opening failed (the cache file cannot be opened, the secure storage broke): show why, offer a retry. */
    data class Failed(val message: String) : Launch
}

/**
 * Opens the rider app without crashing the process when that fails: [state] says what the first
 * screen shows, [open] (again, for "Retry") tries once more.
 */
class RiderLauncher(
    private val scope: CoroutineScope,
    /** The payment provider's SDK for the presenter (see [RiderPresenter]); null: none in this build. */
    private val providerSource: PaymentMethodSource? = null,
    private val openApp: suspend () -> RiderApp,
) {
    private val current = MutableStateFlow<Launch>(Launch.Opening)
    val state: StateFlow<Launch> = current.asStateFlow()

    /** Opens the app; a failure becomes [Launch.Failed], never an exception. */
    suspend fun open(): Launch {
        current.value = Launch.Opening
        current.value = try {
            Launch.Ready(RiderPresenter(openApp(), scope, providerSource))
        } catch (e: ChauffeurException) {
            Launch.Failed(e.message ?: e.toString())
        } catch (e: RuntimeException) {
            // The native library missing or refusing to load (UnsatisfiedLinkError is an Error,
            // caught by the Android layer); anything else the SDK threw.
            Launch.Failed(e.message ?: e.toString())
        }
        return current.value
    }
}
