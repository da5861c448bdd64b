// The presentation layer under the Compose screens, in plain Kotlin (no Android classes): what
// each screen shows, derived from the SDK's RiderState, and the navigation decisions. The
// Compose code in android/app only renders these models and forwards taps to RiderPresenter.
package com.chauffeur.presentation

import com.chauffeur.sdk.BookingDetails
import com.chauffeur.sdk.BookingState
import com.chauffeur.sdk.BookingSummary
import com.chauffeur.sdk.DstChoice
import com.chauffeur.sdk.DstOption
import com.chauffeur.sdk.FormField
import com.chauffeur.sdk.HistoryStep
import com.chauffeur.sdk.LocalDateTime
import com.chauffeur.sdk.QuoteForm
import com.chauffeur.sdk.Receipt
import com.chauffeur.sdk.RiderState
import com.chauffeur.sdk.VehicleClass
import com.chauffeur.sdk.toJavaLocalDateTime
import com.chauffeur.sdk.toPickupLocal
import java.math.BigDecimal
import java.text.NumberFormat
import java.time.Instant
import java.time.ZoneId
import java.time.format.DateTimeFormatter
import java.time.format.DateTimeParseException
import java.time.format.FormatStyle
import java.util.Currency
import java.util.Locale

/** Where the app is. The back stack is a list of these; its last one is shown. */
sealed interface Screen {
    data object QuoteForm : Screen
    data object Quotes : Screen
    /** Sign in or up; [then] is what to do once signed in (book the class tapped). */
    data class SignIn(val then: AfterSignIn? = null) : Screen
    /** The booking confirmation: the class and price, the card to pay with, "Book". */
    data class ConfirmBooking(val vehicleClass: VehicleClass) : Screen
    /** Booked (or waiting for the card step, see [RiderPresenter.cardStep]). */
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

/** A percentage from the SDK's fraction (0.19), in the device's locale: `19 %`, `19%`. */
fun formatPercent(fraction: Double, locale: Locale = Locale.getDefault()): String =
    NumberFormat.getPercentInstance(locale).apply { maximumFractionDigits = 2 }.format(fraction)

private val pickupTextFormat = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm")

/** The pickup time field's text for the form's wall-clock time (`2026-12-08 14:30`); empty for as soon as possible. */
fun pickupTextOf(local: LocalDateTime?): String = local?.toJavaLocalDateTime()?.format(pickupTextFormat).orEmpty()

/**
 * What the rider typed in the pickup time field, as the form's wall-clock time: `null` for an
 * empty field (as soon as possible), [PickupText.Unreadable] for text that is not (yet) a date and
 * time, so the field keeps it and the form keeps its last time.
 */
sealed interface PickupText {
    data class Time(val local: LocalDateTime?) : PickupText
    data object Unreadable : PickupText

    companion object {
        fun parse(text: String): PickupText {
            val trimmed = text.trim()
            if (trimmed.isEmpty()) return Time(null)
            return try {
                Time(java.time.LocalDateTime.parse(trimmed.replace('T', ' '), pickupTextFormat).toPickupLocal())
            } catch (e: DateTimeParseException) {
                Unreadable
            }
        }
    }
}

/**
 * The form's number fields as the rider typed them: kept as text, so a field can be emptied while
 * typing. Nothing is checked here: on "Get prices" the text becomes the form's numbers (an empty
 * field is 0) and the SDK answers with its messages on each field (no passenger, negative, too
 * many for any class, hours out of range).
 */
data class NumberTexts(val passengers: String, val bags: String, val childSeats: String, val hours: String) {
    /** [form] with these numbers; hours only for an hourly hire (no drop-off). */
    fun applyTo(form: QuoteForm, byTheHour: Boolean = form.hours != null): QuoteForm = form.copy(
        passengers = numberOf(passengers),
        bags = numberOf(bags),
        childSeats = numberOf(childSeats),
        hours = if (byTheHour) numberOf(hours) else null,
    )

    companion object {
        fun of(form: QuoteForm) = NumberTexts(
            passengers = form.passengers.toString(),
            bags = form.bags.toString(),
            childSeats = form.childSeats.toString(),
            hours = (form.hours ?: 2).toString(),
        )

        /**
         * The number a field's text stands for: empty is 0; a number too long for an Int is
         * Int.MAX_VALUE or Int.MIN_VALUE (the SDK refuses it on its field); `-1` as written (the
         * SDK says it cannot be negative). Text that is no number at all (the field's keyboard
         * types digits only) counts as empty.
         */
        fun numberOf(text: String): Int {
            val trimmed = text.trim()
            if (trimmed.isEmpty()) return 0
            return trimmed.toIntOrNull() ?: if (trimmed.trimStart('-').all { it.isDigit() }) {
                if (trimmed.startsWith('-')) Int.MIN_VALUE else Int.MAX_VALUE
            } else {
                0
            }
        }
    }
}

/** One of the two instants of a time that happens twice, as a choice: `02:30 (UTC+2)`. */
data class DstChoiceRow(val choice: DstChoice, val label: String, val selected: Boolean)

/** The quote form: its values, each field's messages, and whether "Get prices" may be tapped. */
data class QuoteFormModel(
    val form: QuoteForm,
    val errors: Map<FormField, List<String>>,
    val canRequestQuotes: Boolean,
    val notice: String?,
    /** Shown when the pickup time happens twice: the SDK's labels, in local time with the offset. */
    val dstChoices: List<DstChoiceRow> = emptyList(),
) {
    fun errorsOf(field: FormField): List<String> = errors[field].orEmpty()

    companion object {
        fun of(state: RiderState) = QuoteFormModel(
            form = state.form,
            errors = state.formErrors.groupBy({ it.field }, { it.message }),
            canRequestQuotes = state.formErrors.isEmpty(),
            notice = state.notice,
            dstChoices = state.dstOptions.map { o: DstOption -> DstChoiceRow(o.choice, o.label, o.choice == state.form.dstChoice) },
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

/** The booking screen: the booking, its history, and which buttons it shows (as the SDK decides). */
data class BookingModel(
    val booking: BookingRow,
    val history: List<HistoryStep>,
    val canFollowLive: Boolean,
    val canCancel: Boolean,
    val hasReceipt: Boolean,
    val fromCache: Boolean,
    /** The card payment, when the server takes payments. */
    val payment: PaymentModel? = null,
    /** An invoice can be downloaded (something was charged: the SDK has a receipt). */
    val hasInvoice: Boolean = false,
) {
    companion object {
        fun of(details: BookingDetails, locale: Locale = Locale.getDefault()) = BookingModel(
            booking = details.booking.row(locale),
            history = details.history,
            canFollowLive = details.booking.canFollowLive,
            canCancel = details.booking.canCancel,
            hasReceipt = details.receipt != null,
            fromCache = details.fromCache,
            payment = PaymentModel.of(details, locale),
            hasInvoice = details.receipt != null && !details.fromCache,
        )
    }
}

/** The receipt screen: every amount formatted in the device's locale; the VAT rate is the SDK's. */
data class ReceiptModel(
    /** (the fare line's kind, e.g. `base`, `waiting`; its amount). */
    val lines: List<Pair<String, String>>,
    val net: String,
    /** `19 %` from the SDK's rate, not computed here. */
    val vatRate: String,
    val vat: String,
    val total: String,
) {
    companion object {
        fun of(receipt: Receipt, locale: Locale = Locale.getDefault()): ReceiptModel {
            val money = { minor: Long -> formatMoney(minor, receipt.currency, locale) }
            return ReceiptModel(
                lines = (receipt.lines + receipt.extras).map { it.kind to money(it.amountMinor) },
                net = money(receipt.netMinor),
                vatRate = formatPercent(receipt.vatRate, locale),
                vat = money(receipt.vatMinor),
                total = money(receipt.totalMinor),
            )
        }
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
