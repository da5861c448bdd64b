package com.chauffeur.app

import com.chauffeur.presentation.CardPaymentsUnavailable
import com.chauffeur.presentation.PaymentMethodSource
import com.chauffeur.sdk.PaymentSetup

/**
 * The payment source for a server whose provider is Stripe (`paymentsConfig().provider ==
 * "stripe"`). NOT WIRED: this build does not include the Stripe Android SDK (it could not be
 * downloaded where this app was written, and a stand-in that pretends to take cards would book
 * rides nobody can pay for). Until a developer with the SDK wires it here, it refuses: the rider
 * is told "card payments need the Stripe SDK" on the booking confirmation and nothing is booked.
 *
 * To wire it (android/README.md, "Payments"):
 * - add `com.stripe:stripe-android` to android/app/build.gradle.kts and call
 *   `PaymentConfiguration.init(context, setup.publishableKey)` with the server's publishable key;
 * - [paymentMethodFor]: show Stripe's card form (e.g. `CardFormView`, or PaymentSheet with an
 *   `IntentConfiguration` in manual-capture mode) and return the `PaymentMethod.id` (`pm_…`) it
 *   creates, or null when the rider closes it. Never pass card numbers to our code: only the id;
 *   the server creates and confirms the PaymentIntent with it at booking;
 * - [handleCardStep]: `PaymentLauncher.handleNextActionForPaymentIntent(clientSecret)` (3-D
 *   Secure in Stripe's own UI); return true once it finished, false if the rider closed it. The
 *   presenter then asks our server how it ended (`confirmPayment`).
 */
class StripeSource : PaymentMethodSource {
    override suspend fun paymentMethodFor(setup: PaymentSetup, amountMinor: Long, currency: String): String? =
        throw CardPaymentsUnavailable(MISSING)

    override suspend fun handleCardStep(clientSecret: String): Boolean = throw CardPaymentsUnavailable(MISSING)

    private companion object {
        const val MISSING = "Card payments need the Stripe SDK, which this build of the app does not include."
    }
}
