package com.chauffeur.presentation

import com.chauffeur.sdk.BookingState
import com.chauffeur.sdk.FormField
import com.chauffeur.sdk.LatLon
import com.chauffeur.sdk.LogLevel
import com.chauffeur.sdk.RiderConfig
import com.chauffeur.sdk.TestServer
import com.chauffeur.sdk.VehicleClass
import com.chauffeur.sdk.initLogging
import com.chauffeur.sdk.memorySecureStorage
import com.chauffeur.sdk.openRiderApp
import com.chauffeur.sdk.quoteForm
import java.io.File
import java.nio.file.Files
import java.time.LocalDate
import java.time.ZoneId
import java.time.format.DateTimeFormatter
import java.util.Locale
import java.util.UUID
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.After
import org.junit.AfterClass
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
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

        private fun nextWeek(): String = LocalDate.now(ZoneId.of("Europe/Berlin")).plusDays(7)
            .atTime(14, 30).format(DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm"))

        private fun trip() = quoteForm(
            cityId = "berlin", pickup = LatLon(52.5163, 13.3777), dropoff = LatLon(52.5219, 13.4132),
            pickupLocal = nextWeek(), passengers = 2u, bags = 1u,
        )
    }

    private val dirs = mutableListOf<File>()

    private suspend fun presenter(): RiderPresenter {
        val dir = Files.createTempDirectory("rider-presenter").toFile().also { dirs += it }
        return RiderPresenter(openRiderApp(RiderConfig(server.base, File(dir, "cache.db").path), memorySecureStorage()))
    }

    @After
    fun removeDirs() = dirs.forEach { it.deleteRecursively() }

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

            assertTrue(p.onBack())
            assertEquals(Screen.Bookings, p.screen)
            assertTrue(p.onBack())
            assertFalse("the first screen: the system closes the app", p.onBack())
        }
    }

    @Test
    fun theFormModelPutsEachMessageUnderItsOwnFieldAndAFailedTapStaysOnTheForm() = runBlocking {
        val p = presenter()
        val model = p.onFormChanged(trip().copy(bags = 10u, hours = 3u))
        assertFalse(model.canRequestQuotes)
        assertEquals(setOf(FormField.HOURS), model.errors.keys)
        val bags = p.onFormChanged(trip().copy(bags = 10u))
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
}
