package com.chauffeur.presentation

import com.chauffeur.sdk.BookingState
import com.chauffeur.sdk.FormField
import com.chauffeur.sdk.LatLon
import com.chauffeur.sdk.LocalDateTime
import com.chauffeur.sdk.LogLevel
import com.chauffeur.sdk.RiderConfig
import com.chauffeur.sdk.TEST_CARD
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
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.After
import org.junit.AfterClass
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.BeforeClass
import org.junit.Test

/** The plain-Kotlin layer under the Compose screens, driven like a rider's taps, on a real server. */
class PresentationTest {
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

    private suspend fun openApp(serverUrl: String = server.base) = openRiderApp(
        RiderConfig(serverUrl, File(Files.createTempDirectory("rider-presenter").toFile().also { dirs += it }, "cache.db").path),
        memorySecureStorage(),
    ).also { it.usePaymentMethod(TEST_CARD) }

    private suspend fun presenter(): RiderPresenter = RiderPresenter(openApp(), scope)

    @After
    fun removeDirs() {
        scope.cancel()
        dirs.forEach { it.deleteRecursively() }
    }

    @Test
    fun aRiderGoesFromTheFormThroughSignUpToABookingAndCancelsItInTwoSteps() = runBlocking {
        withTimeout(60_000) {
            val p = presenter()
            assertEquals(Screen.QuoteForm, p.screen)
            assertTrue(p.onFormChanged(trip()).canRequestQuotes)
            assertTrue(p.onGetPrices())
            assertEquals(Screen.Quotes, p.screen)
            val quotes = QuotesModel.of(p.state.value, Locale.GERMANY)
            assertTrue(quotes.rows.all { it.bookable && it.price.endsWith("€") })

            // Booking signed out goes to sign-in first, and books once signed up.
            assertTrue(p.onBook(VehicleClass.BUSINESS))
            assertEquals(Screen.SignIn(AfterSignIn.Book(VehicleClass.BUSINESS)), p.screen)
            assertTrue(p.onSignUp("journey-${UUID.randomUUID()}@example.com", "correct horse battery", "Ada"))
            // The dev server takes cards: the booking confirmation asks for one (the test Visa).
            assertEquals(Screen.ConfirmBooking(VehicleClass.BUSINESS), p.screen)
            assertTrue(p.onConfirmBooking())
            assertEquals(Screen.Confirmation, p.screen)
            assertEquals(listOf(Screen.QuoteForm, Screen.Quotes, Screen.Confirmation), p.backStack.value)
            val booked = p.state.value.confirmation!!

            assertTrue(p.onShowBookings())
            val bookings = BookingsModel.of(p.state.value, Locale.UK)
            assertTrue(bookings.signedIn)
            assertEquals(booked.id, bookings.upcoming.single().id)
            assertTrue(bookings.upcoming.single().price.startsWith("€"))

            assertTrue(p.onOpenBooking(booked.id))
            assertEquals(Screen.Booking(booked.id), p.screen)
            val opened = BookingModel.of(p.state.value.selected!!)
            assertTrue(opened.canCancel)
            assertFalse("pending: no chauffeur to follow yet", opened.canFollowLive)
            assertFalse(opened.hasReceipt)
            assertTrue(opened.history.isNotEmpty())

            // Two-step cancel: the fee first, then the confirmation brings the booking back.
            assertTrue(p.onCancel(booked.id))
            assertEquals(Screen.ConfirmCancel(booked.id), p.screen)
            val terms = CancelModel.of(p.state.value, Locale.UK)!!
            assertTrue("a week ahead it is free", terms.free)
            assertTrue(p.onConfirmCancel())
            assertEquals(Screen.Booking(booked.id), p.screen)
            val cancelled = BookingModel.of(p.state.value.selected!!)
            assertEquals(BookingState.CANCELLED, cancelled.booking.state)
            assertFalse(cancelled.canCancel)
            assertFalse(cancelled.canFollowLive)
            assertFalse("a finished booking opens no live ride", p.onFollowLive(booked.id))
            assertEquals(Screen.Booking(booked.id), p.screen)

            assertTrue(p.onBack())
            assertEquals(Screen.Bookings, p.screen)
            assertTrue(p.onBack())
            assertFalse("the first screen: the system closes the app", p.onBack())
        }
    }

    @Test
    fun theFormModelPutsEachMessageUnderItsOwnFieldAndAFailedTapStaysOnTheForm() = runBlocking {
        val p = presenter()
        val model = p.onFormChanged(trip().copy(bags = 10, hours = 3))
        assertFalse(model.canRequestQuotes)
        assertEquals(setOf(FormField.HOURS), model.errors.keys)
        val bags = p.onFormChanged(trip().copy(bags = 10))
        assertEquals(1, bags.errorsOf(FormField.BAGS).size)
        assertTrue(bags.errorsOf(FormField.PASSENGERS).isEmpty())
        assertFalse(p.onGetPrices())
        assertEquals(Screen.QuoteForm, p.screen)
        assertEquals("capacity_exceeded", p.error.value?.let { (it as com.chauffeur.sdk.ChauffeurException.InvalidInput).code })
    }

    @Test
    fun moneyAndTimesAreFormattedInTheDevicesLocale() {
        assertEquals("93,00 €", formatMoney(9300, "EUR", Locale.GERMANY).replace('\u00a0', ' '))
        assertEquals("€93.00", formatMoney(9300, "EUR", Locale.UK))
        val francs = formatMoney(123450, "CHF", Locale.US)
        assertTrue(francs, francs.contains("CHF") && francs.contains("1,234.50"))
        val at = java.time.Instant.parse("2026-12-08T13:30:00Z")
        assertTrue(formatLocal(at, "Europe/Berlin", Locale.UK).contains("14:30"))
    }

    @Test
    fun thePlaceSearchAnswersTheLastQueryTypedAndATapPutsThePlaceInTheForm() = runBlocking {
        withTimeout(30_000) {
            val p = presenter()
            p.onFormChanged(trip().copy(pickup = null))
            // Typed key by key: only the last query's answer stays.
            for (text in listOf("h", "ha", "hau", "hauptbahnhof")) p.places.onType(PlaceField.PICKUP, "berlin", text)
            val found = p.places.suggestions.first { it.query == "hauptbahnhof" && it.places.isNotEmpty() }
            assertEquals(PlaceField.PICKUP, found.field)
            assertNull(found.error)
            p.places.onType(PlaceField.DROPOFF, "berlin", "BER")
            val airport = p.places.suggestions.first { it.query == "BER" }.places.first { it.airportCode == "BER" }
            // One character is not searched.
            p.places.onType(PlaceField.DROPOFF, "berlin", "B")
            assertTrue(p.places.suggestions.first { it.query == "B" }.places.isEmpty())

            val model = p.onPlacePicked(PlaceField.DROPOFF, airport)
            assertEquals(airport.lat, model.form.dropoff!!.lat, 0.0)
            assertEquals(PlaceSuggestions(), p.places.suggestions.value)
            val pickup = p.onPlacePicked(PlaceField.PICKUP, found.places.first())
            assertEquals(found.places.first().lon, pickup.form.pickup!!.lon, 0.0)
        }
    }

    @Test
    fun numberFieldsKeepTheirTextAndTheSdkChecksItOnSubmit() = runBlocking {
        val p = presenter()
        p.onFormChanged(trip())
        // The rider emptied the passengers field and tapped "Get prices".
        val typed = NumberTexts.of(p.state.value.form).copy(passengers = "")
        assertEquals("", typed.passengers)
        assertFalse(p.onGetPrices(typed, byTheHour = false))
        assertEquals(Screen.QuoteForm, p.screen)
        assertEquals(listOf(FormField.PASSENGERS), p.state.value.formErrors.map { it.field })
        // An hourly hire with an emptied hours field: the SDK's message is on hours.
        assertFalse(p.onGetPrices(typed.copy(passengers = "2", hours = ""), byTheHour = true))
        assertEquals(setOf(FormField.HOURS), p.state.value.formErrors.map { it.field }.toSet())
        assertEquals(Int.MAX_VALUE, NumberTexts.numberOf("99999999999"))
        assertEquals(-1, NumberTexts.numberOf("-1"))
        assertTrue(p.onGetPrices(typed.copy(passengers = "3"), byTheHour = false))
        assertEquals(3, p.state.value.form.passengers)
        assertNull(p.state.value.form.hours)
    }

    @Test
    fun theDstChoiceAndThePickupTextAreTheSdksLocalTimes() = runBlocking {
        val p = presenter()
        val twice = (PickupText.parse("2027-10-31 02:30") as PickupText.Time).local!!
        assertEquals(PickupText.Time(null), PickupText.parse(" "))
        assertEquals(PickupText.Unreadable, PickupText.parse("2027-10-31 02"))
        assertEquals("2027-10-31 02:30", pickupTextOf(twice))
        val asked = p.onFormChanged(trip().copy(pickupLocal = twice))
        assertEquals(listOf("02:30 (UTC+2)", "02:30 (UTC+1)"), asked.dstChoices.map { it.label })
        assertTrue(asked.dstChoices.none { it.selected })
        val chosen = p.onDstChoice(com.chauffeur.sdk.DstChoice.LATER)
        assertTrue(chosen.canRequestQuotes)
        assertEquals(listOf(false, true), chosen.dstChoices.map { it.selected })
    }

    @Test
    fun theReceiptShowsTheSdksVatRateInTheDevicesLocale() {
        val receipt = com.chauffeur.sdk.Receipt(
            currency = "EUR", totalMinor = 10300, netMinor = 8655, vatMinor = 1645, vatRateBp = 1900, vatRate = 0.19,
            quotedTotalMinor = 9300, extrasTotalMinor = 1000,
            lines = listOf(com.chauffeur.sdk.ReceiptLine("base", 1, 9300)),
            extras = listOf(com.chauffeur.sdk.ReceiptLine("waiting", 20, 1000)),
        )
        val model = ReceiptModel.of(receipt, Locale.UK)
        assertEquals("19%", model.vatRate)
        assertEquals(listOf("base" to "€93.00", "waiting" to "€10.00"), model.lines)
        assertEquals("€86.55" to "€103.00", model.net to model.total)
        assertEquals("19 %", ReceiptModel.of(receipt, Locale.GERMANY).vatRate.replace('\u00a0', ' '))
    }

    @Test
    fun aFailedLaunchIsAnErrorScreenWithRetryNotACrash() = runBlocking {
        // A cache path under a regular file cannot be opened.
        val file = Files.createTempFile("not-a-dir", ".txt").toFile().also { dirs += it }
        var cachePath = File(file, "cache.db").path
        val launcher = RiderLauncher(scope) { openRiderApp(RiderConfig(server.base, cachePath), memorySecureStorage()) }
        val failed = launcher.open()
        assertTrue("$failed", failed is Launch.Failed && failed.message.isNotBlank())
        assertEquals(failed, launcher.state.value)
        // Retry once the cause is gone.
        cachePath = File(Files.createTempDirectory("rider-retry").toFile().also { dirs += it }, "cache.db").path
        val ready = launcher.open()
        assertTrue("$ready", ready is Launch.Ready)
        assertEquals(Screen.QuoteForm, (ready as Launch.Ready).presenter.screen)
    }
}
