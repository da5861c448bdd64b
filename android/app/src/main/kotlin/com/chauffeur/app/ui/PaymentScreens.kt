package com.chauffeur.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.selection.selectable
import androidx.compose.foundation.selection.selectableGroup
import androidx.compose.material3.Button
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.RadioButton
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.remember
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.semantics.Role
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import com.chauffeur.app.R
import com.chauffeur.presentation.CardChoiceModel
import com.chauffeur.presentation.CardError
import com.chauffeur.presentation.CardStep
import com.chauffeur.presentation.PaymentLine
import com.chauffeur.presentation.PaymentModel
import com.chauffeur.presentation.RiderPresenter
import com.chauffeur.presentation.TestCard
import com.chauffeur.sdk.ChauffeurException
import com.chauffeur.sdk.PaymentStatus

/**
 * The booking confirmation: the class and price, the card (the test provider's cards by name, or
 * a note that the provider's own card form opens), its refusal under it, and "Book for …".
 */
@Composable
fun ConfirmBookingScreen(presenter: RiderPresenter, onBook: () -> Unit) {
    // Collected so the screen recomposes when any of them changes; the model reads them.
    val state by presenter.state.collectAsStateWithLifecycle()
    val chosen by presenter.testCards.chosen.collectAsStateWithLifecycle()
    val cardError by presenter.cardError.collectAsStateWithLifecycle()
    val setup by presenter.paymentSetup.collectAsStateWithLifecycle()
    // A failure that is not about the card (offline, the quote expired): shown, or "Book" seems to do nothing.
    val error by presenter.error.collectAsStateWithLifecycle()
    val booking by presenter.booking.collectAsStateWithLifecycle()
    val model = remember(state, chosen, cardError, setup) { presenter.confirmBookingModel() } ?: return
    Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Text(stringResource(R.string.confirm_title), style = MaterialTheme.typography.headlineSmall)
        Text(listOfNotNull(className(model.vehicleClass), model.price).joinToString(" · "), style = MaterialTheme.typography.titleMedium)
        when (val card = model.card) {
            CardChoiceModel.NoCard -> Unit
            is CardChoiceModel.TestCards -> {
                Text(stringResource(R.string.pay_card), style = MaterialTheme.typography.titleSmall)
                Column(Modifier.selectableGroup()) {
                    card.cards.forEach { testCard ->
                        Row(
                            Modifier.fillMaxWidth().selectable(
                                selected = testCard == card.chosen,
                                onClick = { presenter.testCards.choose(testCard) },
                                role = Role.RadioButton,
                            ).padding(vertical = 4.dp),
                        ) {
                            RadioButton(selected = testCard == card.chosen, onClick = null)
                            Text(testCardName(testCard), Modifier.padding(start = 8.dp))
                        }
                    }
                }
                Text(stringResource(R.string.pay_test_hint, card.allowance), style = MaterialTheme.typography.bodySmall)
            }
            is CardChoiceModel.ProviderForm -> Text(stringResource(R.string.pay_provider_form), style = MaterialTheme.typography.bodySmall)
        }
        ActionError(error, model.cardError)
        Button(onBook, Modifier.fillMaxWidth(), enabled = !booking) {
            Text(model.price?.let { stringResource(R.string.confirm_book_for, it) } ?: stringResource(R.string.quotes_book))
        }
    }
}

@Composable
fun testCardName(card: TestCard): String = stringResource(
    when (card) {
        TestCard.VISA -> R.string.pay_test_visa
        TestCard.THREE_D_SECURE -> R.string.pay_test_3ds
        TestCard.DECLINED -> R.string.pay_test_declined
    },
)

/** The app's words for the card refusals it knows (as the web page has them); else the SDK's. */
@Composable
fun cardErrorText(error: CardError): String = when (error.code) {
    "card_declined" -> stringResource(R.string.pay_error_declined)
    "payment_method_required" -> stringResource(R.string.pay_error_required)
    "payment_method_invalid" -> stringResource(R.string.pay_error_invalid)
    CardError.UNAVAILABLE -> stringResource(R.string.pay_error_sdk_missing)
    else -> error.message
}

/**
 * The last action's failure, under a screen's buttons: a refusal of the card in the app's words
 * (it also comes from the card step, outside the booking confirmation), else the SDK's message.
 */
@Composable
fun ActionError(error: ChauffeurException?, cardError: CardError?) {
    val text = cardError?.let { cardErrorText(it) } ?: error?.message ?: return
    Text(text, color = MaterialTheme.colorScheme.error, style = MaterialTheme.typography.bodySmall)
}

/** On the confirmation of a booking whose card needs the bank's check: the step, run by the provider's SDK. */
@Composable
fun CardStepPrompt(step: CardStep, onRun: (String) -> Unit) {
    Text(stringResource(R.string.pay_card_step))
    Button({ onRun(step.bookingId) }, Modifier.fillMaxWidth()) { Text(stringResource(R.string.pay_card_step_run)) }
}

@Composable
fun paymentStatusText(status: PaymentStatus): String = stringResource(
    when (status) {
        PaymentStatus.REQUIRES_ACTION -> R.string.pay_status_requires_action
        PaymentStatus.AUTHORIZED -> R.string.pay_status_authorized
        PaymentStatus.CAPTURED -> R.string.pay_status_captured
        PaymentStatus.RELEASED -> R.string.pay_status_released
        PaymentStatus.FAILED -> R.string.pay_status_failed
        PaymentStatus.PARTIALLY_REFUNDED -> R.string.pay_status_partially_refunded
        PaymentStatus.REFUNDED -> R.string.pay_status_refunded
    },
)

@Composable
fun paymentLineText(line: PaymentLine): String = stringResource(
    when (line) {
        PaymentLine.HELD -> R.string.pay_held
        PaymentLine.CHARGED -> R.string.pay_captured
        PaymentLine.CHARGED_SEPARATELY -> R.string.pay_extra
        PaymentLine.REFUNDED -> R.string.pay_refund
    },
)

/** The booking screen's payment section: status, the SDK's amounts, the card step when one waits. */
@Composable
fun PaymentSection(payment: PaymentModel, bookingId: String, onCardStep: (String) -> Unit) {
    Column(verticalArrangement = Arrangement.spacedBy(4.dp)) {
        Text(stringResource(R.string.booking_payment), style = MaterialTheme.typography.titleMedium)
        Text(stringResource(R.string.booking_payment_status, paymentStatusText(payment.status)))
        payment.lines.forEach { (line, amount) -> Text("${paymentLineText(line)}: $amount") }
        payment.failure?.let { Text("${stringResource(R.string.pay_failure)}: $it", style = MaterialTheme.typography.bodySmall) }
        if (payment.cardStepWaiting) {
            OutlinedButton({ onCardStep(bookingId) }, Modifier.fillMaxWidth()) { Text(stringResource(R.string.booking_payment_check)) }
        }
    }
}
