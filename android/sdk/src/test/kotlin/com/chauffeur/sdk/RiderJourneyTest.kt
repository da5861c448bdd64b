package com.chauffeur.sdk

import java.io.File
import java.nio.file.Files
import java.time.Instant
import java.time.LocalDate
import java.time.ZoneId
import java.util.UUID
import java.util.concurrent.CopyOnWriteArrayList
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.launch
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

/** The rider SDK from Kotlin, through the generated bindings, against a real server. */
class RiderJourneyTest {
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

        private val brandenburgGate = LatLon(52.5163, 13.3777)
        private val alexanderplatz = LatLon(52.5219, 13.4132)
        private val munich = LatLon(48.1374, 11.5755)

        /** 14:30 Berlin time, a week from today. */
        fun nextWeek(): LocalDateTime = LocalDate.now(ZoneId.of("Europe/Berlin")).plusDays(7)
            .atTime(14, 30).toPickupLocal()

        fun berlinTrip() = quoteForm(
            cityId = "berlin", pickup = brandenburgGate, dropoff = alexanderplatz,
            pickupLocal = nextWeek(), passengers = 2, bags = 1,
        )
    }

    private val dirs = mutableListOf<File>()

    private suspend fun openApp(serverUrl: String = server.base): RiderApp {
        val dir = Files.createTempDirectory("rider-app").toFile().also { dirs += it }
        return openRiderApp(RiderConfig(serverUrl, File(dir, "cache.db").path), memorySecureStorage())
            .also { it.usePaymentMethod(TEST_CARD) }
    }

    @After
    fun removeDirs() = dirs.forEach { it.deleteRecursively() }

    @Test
    fun aRiderQuotesSignsUpBooksFollowsTheRideAndCancels() = runBlocking {
        withTimeout(90_000) {
            val app = openApp()
            assertTrue(app.editForm(berlinTrip()).formErrors.isEmpty())

            // Quotes without an account: binding, signed by the server.
            val quoted = app.requestQuotes()
            val business = quoted.quotes.first()
            assertEquals(VehicleClass.BUSINESS, business.`class`)
            assertFalse(business.estimate)
            assertTrue(business.total, business.total.startsWith("EUR "))

            val email = "kotlin-${UUID.randomUUID()}@example.com"
            assertEquals(email, app.signUp(email, "correct horse battery", "Kotlin Rider").signedInAs)

            val booked = app.book(VehicleClass.BUSINESS)
            val confirmation = booked.confirmation ?: error("no confirmation: $booked")
            assertFalse(confirmation.pendingSync)
            assertEquals(BookingState.PENDING, confirmation.state)
            assertEquals(listOf(confirmation.id), booked.upcoming.map { it.id })

            // The ride's statuses arrive through the Flow while the partner and rider act.
            val statuses = Channel<BookingState>(Channel.UNLIMITED)
            val following = launch(Dispatchers.IO) {
                app.rideStatuses(confirmation.id).collect { statuses.send(it) }
            }
            assertEquals(BookingState.PENDING, statuses.receive())
            server.partnerAccepts(confirmation.id)
            assertEquals(BookingState.CONFIRMED, statuses.receive())
            assertEquals(BookingState.CONFIRMED, app.state().activeRide?.state)

            // Cancelling a week ahead is free; the fee is shown first, then confirmed.
            val terms = app.cancellationTerms(confirmation.id).cancellation
                ?: error("no cancellation terms")
            assertEquals(0L, terms.feeMinor)
            assertFalse(terms.fromCache)
            val cancelled = app.confirmCancellation()
            assertEquals(BookingState.CANCELLED, statuses.receive())
            assertEquals(listOf(BookingState.CANCELLED), cancelled.past.map { it.state })
            assertTrue(cancelled.upcoming.isEmpty())
            following.cancel()
            following.join()

            // The booking's screen shows its whole life, and who did what.
            val history = app.openBooking(confirmation.id).selected?.history ?: error("not opened")
            assertEquals(
                listOf(
                    Actor.RIDER to BookingState.PENDING,
                    Actor.PARTNER to BookingState.CONFIRMED,
                    Actor.RIDER to BookingState.CANCELLED,
                ),
                history.map { it.actor to it.toState },
            )
        }
    }

    @Test
    fun invalidInputRaisesTheTypedExceptionWithItsCode() = runBlocking {
        val app = openApp()
        app.editForm(quoteForm("berlin", brandenburgGate, munich, pickupLocal = nextWeek()))
        try {
            app.requestQuotes()
            fail("a dropoff in Munich is outside Berlin")
        } catch (e: ChauffeurException.InvalidInput) {
            assertEquals("outside_service_area", e.code)
            assertEquals("dropoff", e.field)
        }
        assertEquals(listOf(FormField.DROPOFF), app.state().formErrors.map { it.field })

        // The form says everything that is missing, field by field, without any network.
        val empty = app.editForm(quoteForm("", null, passengers = 0))
        assertEquals(
            listOf(FormField.CITY_ID, FormField.PICKUP, FormField.DROPOFF, FormField.PASSENGERS),
            empty.formErrors.map { it.field },
        )

        // Booking needs an account; the server's own codes come through as `Refused`.
        app.editForm(berlinTrip())
        app.requestQuotes()
        try {
            app.book(VehicleClass.BUSINESS)
            fail("not signed in")
        } catch (e: ChauffeurException.NotSignedIn) {
            assertEquals("not_signed_in", e.code)
        }
        try {
            app.logIn("nobody-${UUID.randomUUID()}@example.com", "wrong password!")
            fail("unknown account")
        } catch (e: ChauffeurException.Refused) {
            assertEquals(401, e.status)
            assertEquals("invalid_credentials", e.code)
        }
    }

    @Test
    fun placesAreFoundByNameAndByAPointOnTheMap() = runBlocking {
        val app = openApp()
        // The rider types the German name without its umlaut.
        val found = app.searchPlaces("munich", "flughafen munchen")
        assertEquals(PlaceKind.AIRPORT, found.first().kind)
        assertEquals("MUC", found.first().airportCode)
        // A tap at Berlin's main station: served by Berlin, the station nearest.
        val near = app.placesNear(52.5251, 13.3694)
        assertEquals("berlin", near.cityId)
        assertEquals("Berlin Hauptbahnhof", near.places.first().name)
        assertEquals(PlaceKind.STATION, near.places.first().kind)
        try {
            app.searchPlaces("atlantis", "x")
            fail("no such city")
        } catch (e: ChauffeurException.Refused) {
            assertEquals(404, e.status)
            assertEquals("not_found", e.code)
        }
    }

    @Test
    fun offlineTheAppShowsEstimatesFromTheSameFareEngineAndWillNotBookThem() = runBlocking {
        val app = openApp("http://127.0.0.1:9") // nothing listens there
        app.editForm(berlinTrip())
        val state = app.requestQuotes()
        assertTrue(state.offline)
        assertTrue(state.quotes.isNotEmpty() && state.quotes.all { it.estimate })
        val direct = estimateFares(berlinTrip(), Instant.now())
        assertEquals(direct.map { it.`class` to it.totalMinor }, state.quotes.map { it.`class` to it.totalMinor })
        try {
            app.book(VehicleClass.BUSINESS)
            fail("not signed in, and an estimate")
        } catch (e: ChauffeurException) {
            assertTrue(e is ChauffeurException.NotSignedIn || e is ChauffeurException.NotAllowed)
        }
    }

    @Test
    fun theStateFlowShowsEachChangeOnceAndInOrder() = runBlocking {
        withTimeout(30_000) {
            val app = openApp()
            val seen = Channel<RiderState>(Channel.UNLIMITED)
            val watching = launch(Dispatchers.IO) { app.states().collect { seen.send(it) } }
            val first = seen.receive() // the current state, at once
            assertTrue(first.quotes.isEmpty())
            app.editForm(berlinTrip())
            app.requestQuotes()
            var last = first
            while (last.quotes.isEmpty()) {
                val next = seen.receive()
                assertTrue("revisions only go up", next.revision > last.revision)
                last = next
            }
            assertEquals(app.state(), last)
            watching.cancel()
            watching.join()
        }
    }

    @Test
    fun aCancelledListenerHearsNothingMoreAndTheFlowLetsGo() = runBlocking {
        withTimeout(60_000) {
            val app = openApp()
            app.editForm(berlinTrip())
            app.requestQuotes()
            app.signUp("listener-${UUID.randomUUID()}@example.com", "correct horse battery", null)
            val id = app.book(VehicleClass.BUSINESS).confirmation!!.id

            val heard = CopyOnWriteArrayList<RideEvent>()
            val subscription = app.followRide(id, object : RideListener {
                override fun onEvent(event: RideEvent) { heard += event }
                override fun onInterrupted(reason: String, retryInMs: Long) {}
                override fun onEnded(ended: RideEnded) {}
            })
            while (heard.none { it.state == BookingState.PENDING }) delay(50)
            val lastId = subscription.lastEventId()
            assertNotNull(lastId)
            subscription.cancel()
            subscription.close()
            val before = heard.size

            app.cancellationTerms(id)
            app.confirmCancellation()
            delay(2_500) // longer than the server's two-second safety poll
            assertEquals("no events after cancel", before, heard.size)

            // A new subscription replays the ride's history; a collector that stops (here: at
            // the state it waits for) cancels its subscription.
            val ended = async(Dispatchers.IO) { app.rideStatuses(id).first { it == BookingState.CANCELLED } }
            assertEquals(BookingState.CANCELLED, ended.await())
            // The state Flow: its listener is removed when collection ends.
            assertEquals(app.state(), app.states().first())
            assertNull(app.state().cancellation)
        }
    }
}
