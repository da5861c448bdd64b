package com.chauffeur.sdk

import java.io.File
import java.nio.file.Files
import java.time.ZoneId
import java.util.UUID
import java.util.concurrent.ConcurrentHashMap
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.collect
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.After
import org.junit.AfterClass
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.BeforeClass
import org.junit.Test

/** A secure storage the test can wipe, like a cleared Android Keystore. */
class WipeableStorage : SecureStorage {
    val entries = ConcurrentHashMap<String, String>()
    override fun load(key: String): String? = entries[key]
    override fun save(key: String, value: String) {
        entries[key] = value
    }
    override fun delete(key: String) {
        entries.remove(key)
    }
}

/** The SDK polish of issue 13, one test per item, through the bindings against a real server. */
class SdkPolishTest {
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

        private val berlin = ZoneId.of("Europe/Berlin")
        private fun berlinIn(minutes: Long): LocalDateTime = java.time.LocalDateTime.now(berlin).plusMinutes(minutes).toPickupLocal()
        private fun trip(passengers: Int = 2, bags: Int = 1) = quoteForm(
            cityId = "berlin", pickup = LatLon(52.5163, 13.3777), dropoff = LatLon(52.5219, 13.4132),
            pickupLocal = berlinIn(7 * 24 * 60), passengers = passengers, bags = bags,
        )
    }

    private val dirs = mutableListOf<File>()

    private suspend fun openApp(storage: SecureStorage = memorySecureStorage(), dir: File? = null): RiderApp {
        val home = dir ?: Files.createTempDirectory("rider-polish").toFile().also { dirs += it }
        return openRiderApp(RiderConfig(server.base, File(home, "cache.db").path), storage)
            .also { it.usePaymentMethod(TEST_CARD) }
    }

    @After
    fun removeDirs() = dirs.forEach { it.deleteRecursively() }

    @Test
    fun statesIsOneStateFlowThatAnyNumberOfCollectorsShare() = runBlocking {
        withTimeout(30_000) {
            val app = openApp()
            val flow = app.states()
            assertEquals(app.state(), flow.value)
            // Two collectors at once: both see the quotes arrive (one listener slot used to
            // give the updates to the last collector only).
            val first = async(Dispatchers.IO) { app.states().first { it.quotes.isNotEmpty() } }
            val second = async(Dispatchers.IO) { app.states().first { it.quotes.isNotEmpty() } }
            app.editForm(trip())
            app.requestQuotes()
            assertEquals(first.await().quotes, second.await().quotes)
            assertTrue(app.states().value.quotes.isNotEmpty())
        }
    }

    @Test
    fun theRideFlowOfAMissingBookingEndsWithTheServersTypedRefusal() = runBlocking {
        withTimeout(60_000) {
            val app = openApp()
            app.signUp("ended-${UUID.randomUUID()}@example.com", "correct horse battery", null)
            try {
                app.rideEvents(UUID.randomUUID().toString()).collect { }
                fail("the flow of a missing booking must end with an error, not go on")
            } catch (e: ChauffeurException.Refused) {
                assertEquals(404, e.status)
                assertEquals("not_found", e.code)
            }
            assertNull(app.state().activeRide)
        }
    }

    @Test
    fun aRiderIsSignedInOnlyWhileTheSecureStorageHoldsTheToken() = runBlocking {
        val storage = WipeableStorage()
        val dir = Files.createTempDirectory("rider-wipe").toFile().also { dirs += it }
        val email = "wiped-${UUID.randomUUID()}@example.com"
        val app = openApp(storage, dir)
        app.signUp(email, "correct horse battery", null)
        assertEquals(email, app.state().signedInAs)
        app.close()
        assertEquals(email, openApp(storage, dir).state().signedInAs)

        storage.entries.clear() // a wiped Keystore, a restored backup
        val reopened = openApp(storage, dir)
        assertNull("the cache remembers the e-mail, but there is no token", reopened.state().signedInAs)
        reopened.logIn(email, "correct horse battery")
        assertEquals(email, reopened.state().signedInAs)
    }

    @Test
    fun tenBagsAreReportedOnTheBagsField() = runBlocking {
        val app = openApp()
        val state = app.editForm(trip(bags = 10))
        assertEquals(listOf(FormField.BAGS), state.formErrors.map { it.field })
        assertEquals("capacity_exceeded", state.formErrors.single().code)
        try {
            app.requestQuotes()
            fail("ten bags fit no class")
        } catch (e: ChauffeurException.InvalidInput) {
            assertEquals("bags", e.field)
        }
    }

    @Test
    fun aFormWithHoursAndADropOffIsRefusedWithAClearMessage() = runBlocking {
        val app = openApp()
        val state = app.editForm(trip().copy(hours = 3))
        val error = state.formErrors.single()
        assertEquals(FormField.HOURS, error.field)
        assertEquals("hours_with_dropoff", error.code)
        assertTrue(error.message, error.message.contains("not both"))
        // Either one alone is fine.
        assertTrue(app.editForm(trip()).formErrors.isEmpty())
        assertTrue(app.editForm(trip().copy(dropoff = null, hours = 3)).formErrors.isEmpty())
    }

    @Test
    fun classesLeftOutForCapacityAreListedWithTheReason() = runBlocking {
        val app = openApp()
        app.editForm(trip(passengers = 4))
        val state = app.requestQuotes()
        val quoted = state.quotes.map { it.`class` }.toSet()
        assertTrue("four passengers leave some class out", state.excludedClasses.isNotEmpty())
        for (excluded in state.excludedClasses) {
            assertFalse(excluded.`class` in quoted)
            assertEquals("capacity_exceeded", excluded.code)
            assertTrue(excluded.reason, excluded.reason.contains("at most"))
        }
        assertTrue(app.editForm(trip()).excludedClasses.isEmpty())
    }

    @Test
    fun theDstChoiceIsShownInLocalTimeWithItsOffset() = runBlocking {
        val app = openApp()
        // 31 October 2027: 02:30 happens twice in Berlin.
        val twice = java.time.LocalDateTime.of(2027, 10, 31, 2, 30).toPickupLocal()
        val asked = app.editForm(trip().copy(pickupLocal = twice))
        val error = asked.formErrors.single()
        assertEquals(FormField.PICKUP_LOCAL, error.field)
        assertEquals("pickup_time_ambiguous", error.code)
        assertTrue(error.message, error.message.contains("earlier 02:30 (UTC+2)"))
        assertTrue(error.message, error.message.contains("later 02:30 (UTC+1)"))
        // The two choices as the form shows them: local time with the offset, not UTC.
        assertEquals(
            listOf(Triple(DstChoice.EARLIER, "02:30 (UTC+2)", 120), Triple(DstChoice.LATER, "02:30 (UTC+1)", 60)),
            asked.dstOptions.map { Triple(it.choice, it.label, it.utcOffsetMinutes) },
        )
        assertEquals(java.time.Duration.ofHours(1), java.time.Duration.between(asked.dstOptions[0].at, asked.dstOptions[1].at))
        val chosen = app.editForm(trip().copy(pickupLocal = twice, dstChoice = DstChoice.LATER))
        assertTrue(chosen.formErrors.isEmpty())
        assertEquals("the choice stays on screen", 2, chosen.dstOptions.size)
        assertTrue(app.editForm(trip()).dstOptions.isEmpty())
    }

    @Test
    fun countsAreIntsAndANegativeOneIsAMessageOnItsOwnField() = runBlocking {
        val app = openApp()
        for ((form, field) in listOf(
            trip(bags = -1) to FormField.BAGS,
            trip(passengers = -2) to FormField.PASSENGERS,
            trip().copy(childSeats = -1) to FormField.CHILD_SEATS,
            trip().copy(dropoff = null, hours = -3) to FormField.HOURS,
        )) {
            val error = app.editForm(form).formErrors.single()
            assertEquals(field to "invalid_request", error.field to error.code)
        }
        try {
            app.requestQuotes()
            fail("negative hours are refused before any request")
        } catch (e: ChauffeurException.InvalidInput) {
            assertEquals("hours", e.field)
        }
        // A date no calendar has is a message on the pickup time, not an exception.
        val error = app.editForm(trip().copy(pickupLocal = LocalDateTime(2027, 2, 30, 10, 0))).formErrors.single()
        assertEquals(FormField.PICKUP_LOCAL to "invalid_time", error.field to error.code)
        assertEquals(null, LocalDateTime(2027, 2, 30, 10, 0).toJavaLocalDateTime())
        assertTrue(app.state().revision > 0L)
    }

    @Test
    fun whatABookingAllowsIsDecidedByTheSdk() = runBlocking {
        withTimeout(60_000) {
            val app = openApp()
            app.editForm(trip())
            app.requestQuotes()
            app.signUp("allowed-${UUID.randomUUID()}@example.com", "correct horse battery", null)
            val booked = app.book(VehicleClass.BUSINESS).confirmation!!
            // Pending: cancellable, nothing to follow yet.
            assertEquals(BookingState.PENDING, booked.state)
            assertTrue(booked.canCancel)
            assertFalse(booked.canFollowLive)
            server.partnerAccepts(booked.id)
            val confirmed = app.refresh().upcoming.single { it.id == booked.id }
            assertEquals(BookingState.CONFIRMED, confirmed.state)
            assertTrue(confirmed.canCancel && confirmed.canFollowLive)
            val opened = app.openBooking(booked.id).selected!!.booking
            assertTrue(opened.canCancel && opened.canFollowLive)
            app.cancellationTerms(booked.id)
            app.confirmCancellation()
            val cancelled = app.openBooking(booked.id).selected!!.booking
            assertEquals(BookingState.CANCELLED, cancelled.state)
            assertFalse(cancelled.canCancel)
            assertFalse(cancelled.canFollowLive)
        }
    }

    @Test
    fun messagesAreRiderReadyWithoutSecondsOrNanoseconds() = runBlocking {
        val app = openApp()
        val error = app.editForm(trip().copy(pickupLocal = berlinIn(5))).formErrors.single()
        assertEquals("pickup_too_soon", error.code)
        assertEquals(FormField.PICKUP_LOCAL, error.field)
        assertFalse(error.message, Regex("\\d{2}:\\d{2}:\\d{2}").containsMatchIn(error.message))
        assertTrue(error.message, Regex("\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC").containsMatchIn(error.message))
    }

    @Test
    fun citiesAndVersionsComeFromTheSdk() = runBlocking {
        val info = sdkInfo()
        assertTrue(info.version.matches(Regex("\\d+\\.\\d+\\.\\d+.*")))
        assertEquals("${info.version} (catalog ${info.shippedCatalogVersion})", sdkVersion())
        val app = openApp()
        assertEquals(info.shippedCatalogVersion, app.catalogVersion())
        val cities = app.cities()
        assertEquals(shippedCities(), cities)
        val berlinCity = cities.single { it.id == "berlin" }
        assertEquals("Europe/Berlin", berlinCity.timeZone)
        assertEquals("EUR", berlinCity.currency)
        assertNotNull(berlinCity.airports.find { it.iata == "BER" })
    }

    @Test
    fun bookingSummariesCarryTheAmountInMinorUnitsAndTheCurrency() = runBlocking {
        val app = openApp()
        app.editForm(trip())
        val quote = app.requestQuotes().quotes.first { it.`class` == VehicleClass.BUSINESS }
        app.signUp("amount-${UUID.randomUUID()}@example.com", "correct horse battery", null)
        val booked = app.book(VehicleClass.BUSINESS).confirmation!!
        assertEquals(quote.totalMinor, booked.priceMinor)
        assertEquals("EUR", booked.currency)
        val listed = app.refresh().upcoming.single { it.id == booked.id }
        assertEquals(booked.priceMinor to booked.currency, listed.priceMinor to listed.currency)
    }

    @Test
    fun theCardIsHeldAtBookingADeclineIsARefusalAndTheInvoiceComesAsPdf() = runBlocking {
        withTimeout(60_000) {
            val app = openApp()
            val setup = app.paymentsConfig()
            assertEquals("the dev server takes payments through its test provider", "test", setup.provider)
            assertEquals(2000, setup.allowanceBp)
            app.editForm(trip())
            val quote = app.requestQuotes().quotes.first { it.`class` == VehicleClass.BUSINESS }
            app.signUp("paying-${UUID.randomUUID()}@example.com", "correct horse battery", null)

            // A declined card: the outbox's refusal says so in the rider's words; nothing booked.
            app.usePaymentMethod("pm_card_chargeDeclined")
            try {
                app.book(VehicleClass.BUSINESS)
                fail("a declined card books nothing")
            } catch (e: ChauffeurException.Refused) {
                assertEquals(402, e.status)
                assertEquals("card_declined", e.code)
                assertTrue(e.detail, e.detail.contains("declined"))
            }
            val afterDecline = app.refresh()
            assertTrue(afterDecline.upcoming.isEmpty())
            afterDecline.refused.forEach { app.dismissRefusal(it.seq) }
            app.editForm(trip())
            app.requestQuotes()

            // The test provider's approved card: the price plus the 20 % allowance is held.
            app.usePaymentMethod(TEST_CARD)
            val booked = app.book(VehicleClass.BUSINESS).confirmation!!
            val payment = app.openBooking(booked.id).selected!!.payment!!
            assertEquals(PaymentStatus.AUTHORIZED, payment.status)
            assertEquals(quote.totalMinor + (quote.totalMinor * 2000 + 9_999) / 10_000, payment.heldMinor)
            assertEquals(0L, payment.capturedMinor)
            assertNull(payment.clientSecret)

            // Nothing charged yet: no invoice, refused with the server's code.
            try {
                app.invoicePdf(booked.id, "en")
                fail("no invoice before anything is charged")
            } catch (e: ChauffeurException.Refused) {
                assertEquals("no_invoice_yet", e.code)
            }
            // Cancelled inside the fee window would be charged; a week ahead it is free and the
            // hold is released.
            app.cancellationTerms(booked.id)
            app.confirmCancellation()
            val released = withTimeout(20_000) {
                var p = app.openBooking(booked.id).selected!!.payment!!
                while (p.status != PaymentStatus.RELEASED) {
                    kotlinx.coroutines.delay(100)
                    app.refresh() // the opened booking shows the booking as last listed
                    p = app.openBooking(booked.id).selected!!.payment!!
                }
                p
            }
            assertEquals(0L, released.capturedMinor)
        }
    }
}
