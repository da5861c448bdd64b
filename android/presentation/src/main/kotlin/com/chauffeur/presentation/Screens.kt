// The presentation layer under the Compose screens, in plain Kotlin (no Android classes): what
// each screen shows, derived from the SDK's RiderState, and the navigation decisions. The
// Compose code in android/app only renders these models and forwards taps to RiderPresenter.
package com.chauffeur.presentation

import com.chauffeur.sdk.BookingDetails
import com.chauffeur.sdk.BookingState
import com.chauffeur.sdk.BookingSummary
import com.chauffeur.sdk.FormField
import com.chauffeur.sdk.HistoryStep
import com.chauffeur.sdk.QuoteForm
import com.chauffeur.sdk.RiderState
import com.chauffeur.sdk.VehicleClass
import java.math.BigDecimal
import java.text.NumberFormat
import java.time.Instant
import java.time.ZoneId
import java.time.format.DateTimeFormatter
import java.time.format.FormatStyle
import java.util.Currency
import java.util.Locale

/** Where the app is. The back stack is a list of these; its last one is shown. */
sealed interface Screen {
    data object QuoteForm : Screen
    data object Quotes : Screen
    /** Sign in or up; [then] is what to do once signed in (book the class tapped). */
    data class SignIn(val then: AfterSignIn? = null) : Screen
    data object Confirmation : Screen
    data object Bookings : Screen
    data class Booking(val id: String) : Screen
    data class LiveRide(val id: String) : Screen
    /** Step two of cancelling: the fee to accept. */
    data class ConfirmCancel(val id: String) : Screen
    data class Receipt(val id: String) : Screen
}

/** An action interrupted by the sign-in screen, resumed after it. */
sealed interface AfterSignIn {
    data class Book(val vehicleClass: VehicleClass) : AfterSignIn
}

/** Formats money in the device's locale from minor units and an ISO 4217 code. */
fun formatMoney(minor: Long, currencyCode: String, locale: Locale = Locale.getDefault()): String {
    val currency = Currency.getInstance(currencyCode)
    val format = NumberFormat.getCurrencyInstance(locale).apply { this.currency = currency }
    return format.format(BigDecimal.valueOf(minor, currency.defaultFractionDigits))
}

/** An instant on the city's wall clock, in the device's locale. */
fun formatLocal(at: Instant, timeZone: String, locale: Locale = Locale.getDefault()): String =
    DateTimeFormatter.ofLocalizedDateTime(FormatStyle.MEDIUM, FormatStyle.SHORT)
        .withLocale(locale)
        .format(at.atZone(ZoneId.of(timeZone)))

/** The quote form: its values, each field's messages, and whether "Get prices" may be tapped. */
data class QuoteFormModel(
    val form: QuoteForm,
    val errors: Map<FormField, List<String>>,
    val canRequestQuotes: Boolean,
    val notice: String?,
) {
    fun errorsOf(field: FormField): List<String> = errors[field].orEmpty()

    companion object {
        fun of(state: RiderState) = QuoteFormModel(
            form = state.form,
            errors = state.formErrors.groupBy({ it.field }, { it.message }),
            canRequestQuotes = state.formErrors.isEmpty(),
            notice = state.notice,
        )
    }
}

/** One row of the quotes screen. */
data class QuoteRow(
    val vehicleClass: VehicleClass,
    val price: String,
    /** An estimate made offline: shown, but its Book button is disabled. */
    val estimate: Boolean,
    val bookable: Boolean,
)

/** A class the party does not fit, greyed out with the reason. */
data class ExcludedRow(val vehicleClass: VehicleClass, val reason: String)

data class QuotesModel(val rows: List<QuoteRow>, val excluded: List<ExcludedRow>, val offline: Boolean) {
    companion object {
        fun of(state: RiderState, locale: Locale = Locale.getDefault()) = QuotesModel(
            rows = state.quotes.map {
                QuoteRow(it.`class`, formatMoney(it.totalMinor, it.currency, locale), it.estimate, !it.estimate)
            },
            excluded = state.excludedClasses.map { ExcludedRow(it.`class`, it.reason) },
            offline = state.offline,
        )
    }
}

/** A booking in a list. */
data class BookingRow(val id: String, val state: BookingState, val vehicleClass: VehicleClass, val price: String, val pendingSync: Boolean)

private fun BookingSummary.row(locale: Locale) =
    BookingRow(id, state, `class`, if (currency.isEmpty()) price else formatMoney(priceMinor, currency, locale), pendingSync)

data class BookingsModel(
    val upcoming: List<BookingRow>,
    val past: List<BookingRow>,
    val waitingToSync: List<BookingRow>,
    /** Refusals to explain, each with its dismiss key. */
    val refused: List<Pair<Long, String>>,
    val signedIn: Boolean,
) {
    companion object {
        fun of(state: RiderState, locale: Locale = Locale.getDefault()) = BookingsModel(
            upcoming = state.upcoming.map { it.row(locale) },
            past = state.past.map { it.row(locale) },
            waitingToSync = state.pendingSync.map { it.row(locale) },
            refused = state.refused.map { it.seq to it.explanation },
            signedIn = state.signedInAs != null,
        )
    }
}

/** The booking screen: the booking, its history, and which buttons it shows. */
data class BookingModel(
    val booking: BookingRow,
    val history: List<HistoryStep>,
    val canFollowLive: Boolean,
    val canCancel: Boolean,
    val hasReceipt: Boolean,
    val fromCache: Boolean,
) {
    companion object {
        private val cancellable = setOf(BookingState.PENDING, BookingState.CONFIRMED, BookingState.CHAUFFEUR_ASSIGNED, BookingState.EN_ROUTE, BookingState.ARRIVED)
        private val live = setOf(BookingState.CONFIRMED, BookingState.CHAUFFEUR_ASSIGNED, BookingState.EN_ROUTE, BookingState.ARRIVED, BookingState.ON_BOARD)
        private val charged = setOf(BookingState.COMPLETED, BookingState.CANCELLED, BookingState.NO_SHOW)

        fun of(details: BookingDetails, locale: Locale = Locale.getDefault()) = BookingModel(
            booking = details.booking.row(locale),
            history = details.history,
            canFollowLive = details.booking.state in live,
            canCancel = details.booking.state in cancellable && !details.booking.pendingSync,
            hasReceipt = details.booking.state in charged,
            fromCache = details.fromCache,
        )
    }
}

/** Step two of cancelling: the fee the rider accepts with the second tap. */
data class CancelModel(val bookingId: String, val fee: String, val free: Boolean, val fromCache: Boolean) {
    companion object {
        fun of(state: RiderState, locale: Locale = Locale.getDefault()): CancelModel? = state.cancellation?.let {
            val currency = state.selected?.booking?.currency?.takeIf { c -> c.isNotEmpty() }
            CancelModel(
                bookingId = it.bookingId,
                fee = if (currency != null) formatMoney(it.feeMinor, currency, locale) else it.fee,
                free = it.feeMinor == 0L,
                fromCache = it.fromCache,
            )
        }
    }
}
