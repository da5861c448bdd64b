// The payment step, in plain Kotlin: which card choice the booking confirmation shows, the seam to
// the platform's payment provider SDK (which produces the card's payment method id; card data never
// reaches the app's code, the SDK or our server), the booking screen's payment lines and the
// invoice. The SDK decides (what is held, charged, refunded; whether a card step waits); this layer
// only renders and forwards.
package com.chauffeur.presentation

import com.chauffeur.sdk.BookingDetails
import com.chauffeur.sdk.BookingState
import com.chauffeur.sdk.ChauffeurException
import com.chauffeur.sdk.Payment
import com.chauffeur.sdk.PaymentSetup
import com.chauffeur.sdk.PaymentStatus
import java.util.Locale
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow

/**
 * Where the payment method id for a booking comes from: the payment provider's own SDK in
 * production (Stripe's PaymentSheet), the test provider's named cards with `chauffeur-server dev`.
 * The presenter calls it; it never sees card data.
 */
interface PaymentMethodSource {
    /**
     * The payment method id (`pm_…`) to book `amountMinor` of `currency` with, or `null` when the
     * rider closed the provider's card form without choosing a card (nothing is booked). Throws
     * [CardPaymentsUnavailable] when this build cannot take cards at all.
     */
    suspend fun paymentMethodFor(setup: PaymentSetup, amountMinor: Long, currency: String): String?

    /**
     * The card step (3-D Secure) the provider asked for, run with the booking's
     * `payment.clientSecret` in the provider's SDK. Returns once the rider is done with it (true)
     * or closed it (false); how it ended is the server's answer to `confirmPayment`, never this.
     */
    suspend fun handleCardStep(clientSecret: String): Boolean
}

/** This build cannot take card payments (the provider's SDK is not wired in): nothing is booked. */
class CardPaymentsUnavailable(message: String) : RuntimeException(message)

/** The dev server's test provider's cards (server/src/payments/double.rs), offered by name. */
enum class TestCard(val paymentMethodId: String) {
    /** Authorised. */
    VISA("pm_card_visa"),
    /** Asks for the bank's check (3-D Secure): the booking waits in `payment_pending`. */
    THREE_D_SECURE("pm_card_threeDSecure2Required"),
    /** Declined: 402 `card_declined`, nothing booked. */
    DECLINED("pm_card_chargeDeclined"),
}

/**
 * The source for `provider == "test"`: a picker of the test cards by name (no real card is ever
 * charged). Its card step has nothing to run in the app: the test provider's bank check is
 * settled at the provider itself (the tests do it over its HTTP), so the step returns at once
 * and the server's answer to `confirmPayment` says whether it was done.
 */
class TestCardSource(initial: TestCard = TestCard.VISA) : PaymentMethodSource {
    private val picked = MutableStateFlow(initial)

    /** The card the picker shows as chosen. */
    val chosen: StateFlow<TestCard> = picked.asStateFlow()

    fun choose(card: TestCard) {
        picked.value = card
    }

    override suspend fun paymentMethodFor(setup: PaymentSetup, amountMinor: Long, currency: String): String =
        picked.value.paymentMethodId

    override suspend fun handleCardStep(clientSecret: String): Boolean = true
}

/** What the booking confirmation shows for the card, by the server's payment setup. */
sealed interface CardChoiceModel {
    /** The server takes no card payments: no card is asked. */
    data object NoCard : CardChoiceModel

    /** The test provider: its cards by name, and how much over the price is held. */
    data class TestCards(val cards: List<TestCard>, val chosen: TestCard, val allowance: String) : CardChoiceModel

    /** A real provider (`stripe`): its own card form opens on "Book". */
    data class ProviderForm(val provider: String) : CardChoiceModel

    companion object {
        fun of(setup: PaymentSetup?, chosen: TestCard, locale: Locale = Locale.getDefault()): CardChoiceModel =
            when {
                setup == null || setup.provider == "none" -> NoCard
                setup.provider == "test" -> TestCards(TestCard.entries, chosen, formatPercent(setup.allowanceBp / 10_000.0, locale))
                else -> ProviderForm(setup.provider)
            }
    }
}

/**
 * A refusal that belongs under the card field (the card was declined, is missing or unusable, or
 * this build takes no cards), with the SDK's words; the screen may put its own for known codes.
 */
data class CardError(val code: String, val message: String) {
    companion object {
        /** The server's codes that are about the card (the web page puts them on the same field). */
        val CARD_CODES = setOf("card_declined", "payment_method_required", "payment_method_invalid")

        /** This build's own code: no provider SDK to take the card. */
        const val UNAVAILABLE = "card_payments_unavailable"

        fun of(e: ChauffeurException): CardError? =
            (e as? ChauffeurException.Refused)?.takeIf { it.code in CARD_CODES }?.let { CardError(it.code, it.detail) }
    }
}

/** A booking waiting for the card step, with the client secret the provider's SDK needs. */
data class CardStep(val bookingId: String, val clientSecret: String)

/** The booking confirmation: what is booked, for how much, with which card. */
data class ConfirmBookingModel(
    val vehicleClass: com.chauffeur.sdk.VehicleClass,
    /** The quoted price, in the device's locale ("Book for €93.00"). */
    val price: String?,
    val card: CardChoiceModel,
    /** Shown under the card field. */
    val cardError: CardError?,
)

/** One amount of the booking's payment, as the SDK gives it. */
enum class PaymentLine {
    /** On hold on the card (shown while authorised or waiting for the card step). */
    HELD,
    CHARGED,
    /** Charged beyond the hold, as a second charge. */
    CHARGED_SEPARATELY,
    REFUNDED,
}

/** The booking screen's payment section. */
data class PaymentModel(
    val status: PaymentStatus,
    val lines: List<Pair<PaymentLine, String>>,
    /** Why nothing (or less) was charged, in the SDK's words. */
    val failure: String?,
    /** The booking waits for the card step: the screen offers to run (or check) it. */
    val cardStepWaiting: Boolean,
) {
    companion object {
        fun of(payment: Payment, bookingState: BookingState, locale: Locale = Locale.getDefault()): PaymentModel {
            val money = { minor: Long -> formatMoney(minor, payment.currency, locale) }
            val lines = buildList {
                if (payment.status == PaymentStatus.AUTHORIZED || payment.status == PaymentStatus.REQUIRES_ACTION) {
                    add(PaymentLine.HELD to money(payment.heldMinor))
                }
                if (payment.capturedMinor > 0) add(PaymentLine.CHARGED to money(payment.capturedMinor))
                if (payment.extraChargedMinor > 0) add(PaymentLine.CHARGED_SEPARATELY to money(payment.extraChargedMinor))
                if (payment.refundedMinor > 0) add(PaymentLine.REFUNDED to money(payment.refundedMinor))
            }
            return PaymentModel(payment.status, lines, payment.failure, bookingState == BookingState.PAYMENT_PENDING)
        }

        fun of(details: BookingDetails, locale: Locale = Locale.getDefault()): PaymentModel? =
            details.payment?.let { of(it, details.booking.state, locale) }
    }
}

/** An invoice's PDF, for the platform to save, share or show. */
class Invoice(val fileName: String, val pdf: ByteArray)
