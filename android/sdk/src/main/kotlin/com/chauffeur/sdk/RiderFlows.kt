// Idiomatic Kotlin over the generated bindings (chauffeur_ffi.kt and core/chauffeur_core.kt,
// produced by scripts/bindings.sh, never edited): listeners become Flows whose collection owns the
// subscription, so cancelling the collector stops the stream in Rust.
package com.chauffeur.sdk

import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.distinctUntilChanged
import kotlinx.coroutines.flow.mapNotNull

/**
 * Every state the rider flow goes through, starting with the current one. Screens collect this
 * and render; only one collector at a time is told of changes (the app has one screen tree).
 */
fun RiderApp.states(): Flow<RiderState> = callbackFlow {
    // Two changes made at once may be reported in either order: never go back to an older one.
    val shown = java.util.concurrent.atomic.AtomicLong(-1)
    fun offer(state: RiderState) {
        val revision = state.revision.toLong()
        if (shown.getAndAccumulate(revision) { a, b -> maxOf(a, b) } < revision) trySend(state)
    }
    setListener(object : StateListener {
        override fun onState(state: RiderState) = offer(state)
    })
    offer(state())
    awaitClose { setListener(null) }
}

/**
 * The events of a ride while collected: status changes (resumed after a reconnect, with a
 * polling fallback) and the chauffeur's position on the way. Cancelling the collector cancels
 * the Rust subscription and frees it.
 */
fun RiderApp.rideEvents(bookingId: String): Flow<RideEvent> = callbackFlow {
    val subscription = followRide(bookingId, object : RideListener {
        override fun onEvent(event: RideEvent) {
            trySend(event)
        }

        override fun onInterrupted(reason: String, retryInMs: ULong) {
            // The subscription retries by itself; the state's `offline` flag tells the UI.
        }
    })
    awaitClose {
        subscription.cancel()
        subscription.close()
    }
}

/** Just the ride's states (`PENDING`, `CONFIRMED`, …, `CANCELLED`), each once. */
fun RiderApp.rideStatuses(bookingId: String): Flow<BookingState> =
    rideEvents(bookingId).mapNotNull { it.state }.distinctUntilChanged()

/** A quote form with the usual defaults, for Kotlin callers. */
fun quoteForm(
    cityId: String,
    pickup: LatLon?,
    dropoff: LatLon? = null,
    hours: UInt? = null,
    pickupLocal: String = "",
    passengers: UInt = 1u,
    bags: UInt = 0u,
    meetAndGreet: Boolean = false,
    childSeats: UInt = 0u,
    flightNumber: String = "",
    notes: String = "",
    dstChoice: DstChoice? = null,
): QuoteForm = QuoteForm(
    cityId = cityId,
    pickup = pickup,
    dropoff = dropoff,
    hours = hours,
    pickupLocal = pickupLocal,
    dstChoice = dstChoice,
    passengers = passengers,
    bags = bags,
    meetAndGreet = meetAndGreet,
    childSeats = childSeats,
    flightNumber = flightNumber,
    notes = notes,
)
