package com.chauffeur.presentation

import com.chauffeur.sdk.BookingState
import com.chauffeur.sdk.LatLon
import com.chauffeur.sdk.LocalDateTime
import com.chauffeur.sdk.LogLevel
import com.chauffeur.sdk.Payment
import com.chauffeur.sdk.PaymentSetup
import com.chauffeur.sdk.PaymentStatus
import com.chauffeur.sdk.QuoteForm
import com.chauffeur.sdk.RiderApp
import com.chauffeur.sdk.RiderConfig
import com.chauffeur.sdk.TestServer
import com.chauffeur.sdk.VehicleClass
import com.chauffeur.sdk.initLogging
import com.chauffeur.sdk.memorySecureStorage
import com.chauffeur.sdk.openRiderApp
import com.chauffeur.sdk.quoteForm
import com.chauffeur.sdk.toPickupLocal
import java.io.File
import java.nio.file.Files
import java.time.LocalDate
import java.time.ZoneId
import java.util.Locale
import java.util.UUID
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.async
import kotlinx.coroutines.cancel
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.After
import org.junit.AfterClass
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.BeforeClass
import org.junit.Test

/**
 * The payment step as the rider taps through it, against a real `chauffeur-server dev` and its
 * test payment provider: the app never sets a card itself, the presenter takes it from the
 * payment source (here the test cards' picker) and hands it to the SDK's hook.
 */
class PaymentPresentationTest {
    companion object {
        private lateinit var server: TestServer

        @BeforeClass
        @JvmStatic
        fun startServer() {
            initLogging(LogLevel.WARN, null)
            server = TestServer()
        }

        @AfterClass
        @JvmStatic
        fun stopServer() = server.close()

        private fun nextWeek(): LocalDateTime = LocalDate.now(ZoneId.of("Europe/Berlin")).plusDays(7)
            .atTime(14, 30).toPickupLocal()

        private fun trip() = quoteForm(
            cityId = "berlin", pickup = LatLon(52.5163, 13.3777), dropoff = LatLon(52.5219, 13.4132),
            pickupLocal = nextWeek(), passengers = 2, bags = 1,
        )
    }

    private val dirs = mutableListOf<File>()
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.IO)

    private suspend fun openApp(): RiderApp = openRiderApp(
        RiderConfig(server.base, File(Files.createTempDirectory("rider-pay").toFile().also { dirs += it }, "cache.db").path),
        memorySecureStorage(),
    )

    @After
    fun cleanUp() {
        scope.cancel()
        dirs.forEach { it.deleteRecursively() }
    }

    /** Form → prices → "Book" → sign up: on the booking confirmation, with its quote's total. */
    private suspend fun atTheBookingConfirmation(form: QuoteForm = trip()): Pair<RiderPresenter, Long> {
        val p = RiderPresenter(openApp(), scope)
        assertTrue(p.onFormChanged(form).canRequestQuotes)
        assertTrue(p.onGetPrices())
        val total = p.state.value.quotes.first { it.`class` == VehicleClass.BUSINESS }.totalMinor
        assertTrue(p.onBook(VehicleClass.BUSINESS))
        assertTrue(p.onSignUp("pay-${UUID.randomUUID()}@example.com", "correct horse battery", null))
        assertEquals(Screen.ConfirmBooking(VehicleClass.BUSINESS), p.screen)
        return p to total
    }

    @Test
    fun theDevServersTestCardsAreOfferedOnTheBookingConfirmation() = runBlocking {
        withTimeout(60_000) {
            val (p, total) = atTheBookingConfirmation()
            assertEquals("test", p.paymentSetup.value?.provider)
            val model = p.confirmBookingModel(Locale.UK)!!
            assertEquals(VehicleClass.BUSINESS, model.vehicleClass)
            assertEquals(formatMoney(total, "EUR", Locale.UK), model.price)
            val cards = model.card as CardChoiceModel.TestCards
            assertEquals(listOf("pm_card_visa", "pm_card_threeDSecure2Required", "pm_card_chargeDeclined"), cards.cards.map { it.paymentMethodId })
            assertEquals(TestCard.VISA, cards.chosen)
            assertEquals("the dev server holds 20 % over the price", "20%", cards.allowance)
            assertNull(model.cardError)
            p.testCards.choose(TestCard.THREE_D_SECURE)
            assertEquals(TestCard.THREE_D_SECURE, (p.confirmBookingModel()!!.card as CardChoiceModel.TestCards).chosen)
        }
    }

    @Test
    fun aDeclinedCardShowsTheRefusalAtTheCardFieldAndBooksNothing() = runBlocking {
        withTimeout(60_000) {
            val (p, _) = atTheBookingConfirmation()
            p.testCards.choose(TestCard.DECLINED)
            assertFalse(p.onConfirmBooking())
            assertEquals("the rider stays on the confirmation to pick another card", Screen.ConfirmBooking(VehicleClass.BUSINESS), p.screen)
            val refusal = p.confirmBookingModel()!!.cardError!!
            assertEquals("card_declined", refusal.code)
            assertTrue(refusal.message, refusal.message.contains("declined"))
            assertNull("the refusal is at the card field, not a general error", p.error.value)
            assertTrue(p.onShowBookings())
            assertTrue("nothing was booked", p.state.value.upcoming.isEmpty())
        }
    }

    @Test
    fun twoTapsOnBookWhileTheFirstIsBookingMakeOneBooking() = runBlocking {
        withTimeout(60_000) {
            val (p, _) = atTheBookingConfirmation()
            val first = async(Dispatchers.IO) { p.onConfirmBooking() }
            val second = async(Dispatchers.IO) { p.onConfirmBooking() }
            val answers = listOf(first.await(), second.await())
            assertEquals("one tap books, the other is ignored: $answers", 1, answers.count { it })
            assertFalse(p.booking.value)
            assertTrue(p.onShowBookings())
            assertEquals("one booking made", 1, p.state.value.upcoming.size)
        }
    }

    @Test
    fun anApprovedCardBooksAndTheBookingScreenShowsTheHold() = runBlocking {
        withTimeout(60_000) {
            val (p, total) = atTheBookingConfirmation()
            assertTrue(p.onConfirmBooking())
            assertEquals(Screen.Confirmation, p.screen)
            assertNull("approved at once: no card step", p.cardStep.value)
            val booked = p.state.value.confirmation!!
            assertEquals(BookingState.PENDING, booked.state)

            assertTrue(p.onShowBookings())
            assertTrue(p.onOpenBooking(booked.id))
            val model = BookingModel.of(p.state.value.selected!!, Locale.UK)
            val payment = model.payment!!
            assertEquals(PaymentStatus.AUTHORIZED, payment.status)
            val held = p.state.value.selected!!.payment!!.heldMinor
            assertTrue("the price and the allowance are held", held > total)
            assertEquals(listOf(PaymentLine.HELD to formatMoney(held, "EUR", Locale.UK)), payment.lines)
            assertFalse(payment.cardStepWaiting)
            assertFalse("nothing charged: no invoice", model.hasInvoice)
            assertNull(p.onDownloadInvoice(booked.id, "en"))
            assertEquals("no_invoice_yet", (p.error.value as com.chauffeur.sdk.ChauffeurException.Refused).code)
        }
    }

    @Test
    fun aThreeDSecureCardLeavesTheBookingInPaymentPendingWithACardStepToRun() = runBlocking {
        withTimeout(60_000) {
            val (p, _) = atTheBookingConfirmation()
            p.testCards.choose(TestCard.THREE_D_SECURE)
            assertTrue(p.onConfirmBooking())
            assertEquals(Screen.Confirmation, p.screen)
            val booked = p.state.value.confirmation!!
            assertEquals(BookingState.PAYMENT_PENDING, booked.state)
            val step = p.cardStep.value!!
            assertEquals(booked.id, step.bookingId)
            assertTrue(step.clientSecret.isNotBlank())

            // The test provider's bank check is not done in the app: asking the server after the
            // step leaves the booking waiting, on its screen, with the step still to run.
            assertTrue(p.onRunCardStep(booked.id))
            assertEquals(Screen.Booking(booked.id), p.screen)
            val model = BookingModel.of(p.state.value.selected!!, Locale.UK)
            assertEquals(BookingState.PAYMENT_PENDING, model.booking.state)
            val payment = model.payment!!
            assertEquals(PaymentStatus.REQUIRES_ACTION, payment.status)
            assertTrue(payment.cardStepWaiting)
            assertEquals(listOf(PaymentLine.HELD), payment.lines.map { it.first })
            assertEquals(step, p.cardStep.value)
        }
    }

    @Test
    fun aChargedCancellationFeeComesWithAnInvoicePdf() = runBlocking {
        withTimeout(90_000) {
            // An hourly hire five hours ahead: cancelling costs 75 %, taken from the hold.
            val soon = java.time.LocalDateTime.now(ZoneId.of("Europe/Berlin")).plusHours(5).withSecond(0).withNano(0)
            val (p, _) = atTheBookingConfirmation(trip().copy(dropoff = null, hours = 3, pickupLocal = soon.toPickupLocal()))
            assertTrue(p.onConfirmBooking())
            val id = p.state.value.confirmation!!.id
            assertTrue(p.onShowBookings())
            assertTrue(p.onOpenBooking(id))
            assertTrue(p.onCancel(id))
            assertFalse(CancelModel.of(p.state.value)!!.free)
            assertTrue(p.onConfirmCancel())
            var model = BookingModel.of(p.state.value.selected!!, Locale.UK)
            // The fee is taken from the hold once the cancellation is settled with the provider.
            while (!model.hasInvoice || model.payment?.status != PaymentStatus.CAPTURED) {
                delay(200)
                p.onShowBookings()
                p.onOpenBooking(id)
                model = BookingModel.of(p.state.value.selected!!, Locale.UK)
            }
            val payment = model.payment!!
            val charged = p.state.value.selected!!.payment!!.capturedMinor
            assertTrue(charged > 0)
            assertTrue(payment.lines.contains(PaymentLine.CHARGED to formatMoney(charged, "EUR", Locale.UK)))
            val invoice = p.onDownloadInvoice(id, "de")
            assertNotNull(p.error.value?.message, invoice)
            assertEquals("invoice-$id.pdf", invoice!!.fileName)
            assertEquals("%PDF", String(invoice.pdf.copyOfRange(0, 4), Charsets.US_ASCII))
        }
    }

    @Test
    fun thePaymentLinesAreTheSdksAmountsAndTheCardChoiceFollowsTheProvider() {
        val refunded = Payment(
            status = PaymentStatus.PARTIALLY_REFUNDED, currency = "EUR", heldMinor = 11160, capturedMinor = 9300,
            extraChargedMinor = 1500, refundedMinor = 2000, clientSecret = null, failure = null,
        )
        val model = PaymentModel.of(refunded, BookingState.COMPLETED, Locale.UK)
        assertEquals(
            listOf(PaymentLine.CHARGED to "€93.00", PaymentLine.CHARGED_SEPARATELY to "€15.00", PaymentLine.REFUNDED to "€20.00"),
            model.lines,
        )
        assertFalse(model.cardStepWaiting)
        val failed = PaymentModel.of(refunded.copy(status = PaymentStatus.FAILED, capturedMinor = 0, extraChargedMinor = 0, refundedMinor = 0, failure = "The bank check was not completed."), BookingState.CANCELLED)
        assertTrue(failed.lines.isEmpty())
        assertEquals("The bank check was not completed.", failed.failure)

        assertEquals(CardChoiceModel.NoCard, CardChoiceModel.of(PaymentSetup("none", null, 2000), TestCard.VISA))
        assertEquals(CardChoiceModel.NoCard, CardChoiceModel.of(null, TestCard.VISA))
        assertEquals(CardChoiceModel.ProviderForm("stripe"), CardChoiceModel.of(PaymentSetup("stripe", "pk_live_x", 2000), TestCard.VISA))
        assertEquals("15 %", (CardChoiceModel.of(PaymentSetup("test", "pk_test_dev", 1500), TestCard.VISA, Locale.GERMANY) as CardChoiceModel.TestCards).allowance.replace('\u00a0', ' '))
    }
}
