// Idiomatic Kotlin over the generated bindings (chauffeur_ffi.kt and core/chauffeur_core.kt,
// produced by scripts/bindings.sh, never edited): listeners become Flows whose collection owns the
// subscription, so cancelling the collector stops the stream in Rust.
package com.chauffeur.sdk

import java.util.Collections
import java.util.WeakHashMap
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.distinctUntilChanged
import kotlinx.coroutines.flow.mapNotNull
import kotlinx.coroutines.flow.update

/**
 * The SDK's one state listener of a [RiderApp], held in a [MutableStateFlow] that any number of
 * collectors share (screens, view models, tests). Set once per app, on the first [states] call.
 */
private class StateHub(app: RiderApp) : StateListener {
    val flow = MutableStateFlow(app.state())

    override fun onState(state: RiderState) {
        // Two changes made at once may be reported in either order: never go back to an older one.
        flow.update { shown -> if (state.revision > shown.revision) state else shown }
    }
}

/** One hub per app; weak, so a closed and dropped app takes its hub with it. */
private val hubs: MutableMap<RiderApp, StateHub> = Collections.synchronizedMap(WeakHashMap())

/**
 * The rider state as a [StateFlow]: its `value` is the current state, and every collector (any
 * number, at once) sees each newer state, never an older one after a newer one. The first call
 * installs the SDK's state listener for good; do not call [RiderApp.setListener] yourself too.
 */
fun RiderApp.states(): StateFlow<RiderState> {
    var installed: StateHub? = null
    val hub = synchronized(hubs) {
        hubs.getOrPut(this) { StateHub(this).also { installed = it } }
    }
    installed?.let { fresh ->
        setListener(fresh)
        // A change made between reading the first state and setting the listener.
        fresh.onState(state())
    }
    return hub.flow.asStateFlow()
}

/**
 * The events of a ride while collected: status changes (resumed after a reconnect, with a
 * polling fallback) and the chauffeur's position on the way. A broken stream is retried by the
 * SDK; a permanent refusal (the booking is unknown or not the rider's, the session is gone) ends
 * the Flow with [ChauffeurException.Refused] carrying the server's status and code. Cancelling the
 * collector cancels the Rust subscription and frees it.
 */
fun RiderApp.rideEvents(bookingId: String): Flow<RideEvent> = callbackFlow {
    val subscription = followRide(bookingId, object : RideListener {
        override fun onEvent(event: RideEvent) {
            trySend(event)
        }

        override fun onInterrupted(reason: String, retryInMs: Long) {
            // The subscription retries by itself; the state's `offline` flag tells the UI.
        }

        override fun onEnded(ended: RideEnded) {
            close(ChauffeurException.Refused(ended.code, ended.status, ended.message))
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

/** A java.time wall-clock time (a date and time picker's) as the form's pickup time, to the minute. */
fun java.time.LocalDateTime.toPickupLocal(): LocalDateTime =
    LocalDateTime(year = year, month = monthValue, day = dayOfMonth, hour = hour, minute = minute)

/** The form's pickup time as java.time, or null when a part is out of range (the SDK says why). */
fun LocalDateTime.toJavaLocalDateTime(): java.time.LocalDateTime? =
    try {
        java.time.LocalDateTime.of(year, month, day, hour, minute)
    } catch (e: java.time.DateTimeException) {
        null
    }

/** A quote form with the usual defaults (no pickup time: as soon as possible), for Kotlin callers. */
fun quoteForm(
    cityId: String,
    pickup: LatLon?,
    dropoff: LatLon? = null,
    hours: Int? = null,
    pickupLocal: LocalDateTime? = null,
    passengers: Int = 1,
    bags: Int = 0,
    meetAndGreet: Boolean = false,
    childSeats: Int = 0,
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
