package com.chauffeur.app.ui

import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.height
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.Button
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.produceState
import androidx.compose.runtime.rememberUpdatedState
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import androidx.compose.ui.viewinterop.AndroidView
import com.chauffeur.app.R
import com.chauffeur.presentation.BookingModel
import com.chauffeur.presentation.BookingRow
import com.chauffeur.presentation.BookingsModel
import com.chauffeur.presentation.CancelModel
import com.chauffeur.presentation.CardError
import com.chauffeur.presentation.CardStep
import com.chauffeur.presentation.ReceiptModel
import com.chauffeur.presentation.RiderPresenter
import com.chauffeur.presentation.formatMoney
import com.chauffeur.sdk.BookingState
import com.chauffeur.sdk.ChauffeurException
import com.chauffeur.sdk.LatLon
import com.chauffeur.sdk.RiderState
import com.chauffeur.sdk.rideEvents
import kotlinx.coroutines.flow.collect
import org.osmdroid.util.GeoPoint
import org.osmdroid.views.MapView
import org.osmdroid.views.overlay.Marker

@Composable
fun stateName(state: BookingState): String = stringResource(
    when (state) {
        BookingState.PAYMENT_PENDING -> R.string.state_payment_pending
        BookingState.PENDING -> R.string.state_pending
        BookingState.CONFIRMED -> R.string.state_confirmed
        BookingState.CHAUFFEUR_ASSIGNED -> R.string.state_assigned
        BookingState.EN_ROUTE -> R.string.state_en_route
        BookingState.ARRIVED -> R.string.state_arrived
        BookingState.ON_BOARD -> R.string.state_on_board
        BookingState.COMPLETED -> R.string.state_completed
        BookingState.CANCELLED -> R.string.state_cancelled
        BookingState.NO_SHOW -> R.string.state_no_show
        BookingState.UNFULFILLED -> R.string.state_unfulfilled
    },
)

@Composable
fun BookingListItem(row: BookingRow, onOpen: (String) -> Unit) {
    ListItem(
        headlineContent = { Text("${className(row.vehicleClass)} · ${row.price}") },
        supportingContent = { Text(if (row.pendingSync) stringResource(R.string.bookings_waiting) else stateName(row.state)) },
        modifier = Modifier.clickable { onOpen(row.id) },
    )
}

@Composable
fun ConfirmationScreen(
    state: RiderState,
    cardStep: CardStep?,
    error: ChauffeurException?,
    cardError: CardError?,
    onCardStep: (String) -> Unit,
    onMyBookings: () -> Unit,
) {
    Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Text(stringResource(R.string.confirmation_title), style = MaterialTheme.typography.headlineSmall)
        state.confirmation?.let {
            // The currency is empty while not known yet (formatMoney would throw): the SDK's text then.
            val price = if (it.currency.isEmpty()) it.price else formatMoney(it.priceMinor, it.currency)
            Text("${className(it.`class`)} · $price")
            Text(if (it.pendingSync) stringResource(R.string.bookings_waiting) else stateName(it.state))
            // The provider asked for the bank's check: the booking waits until it is done.
            cardStep?.takeIf { step -> step.bookingId == it.id }?.let { step -> CardStepPrompt(step, onCardStep) }
        }
        ActionError(error, cardError)
        Button(onMyBookings, Modifier.fillMaxWidth()) { Text(stringResource(R.string.my_bookings)) }
    }
}

@Composable
fun BookingsScreen(state: RiderState, onOpen: (String) -> Unit, onDismiss: (Long) -> Unit) {
    val model = BookingsModel.of(state)
    LazyColumn(Modifier.padding(8.dp)) {
        items(model.refused) { (seq, explanation) ->
            ListItem(headlineContent = { Text(explanation) }, trailingContent = {
                OutlinedButton({ onDismiss(seq) }) { Text(stringResource(R.string.dismiss)) }
            })
        }
        if (model.waitingToSync.isNotEmpty()) item { Text(stringResource(R.string.bookings_waiting), style = MaterialTheme.typography.titleMedium) }
        items(model.waitingToSync) { BookingListItem(it, onOpen) }
        item { Text(stringResource(R.string.bookings_upcoming), style = MaterialTheme.typography.titleMedium) }
        items(model.upcoming) { BookingListItem(it, onOpen) }
        item { Text(stringResource(R.string.bookings_past), style = MaterialTheme.typography.titleMedium) }
        items(model.past) { BookingListItem(it, onOpen) }
    }
}

@Composable
fun BookingScreen(
    state: RiderState,
    error: ChauffeurException?,
    cardError: CardError?,
    onFollow: (String) -> Unit,
    onCancel: (String) -> Unit,
    onReceipt: (String) -> Unit,
    onCardStep: (String) -> Unit,
    onInvoice: (String) -> Unit,
) {
    val details = state.selected ?: return
    val model = BookingModel.of(details)
    LazyColumn(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        item {
            Text("${className(model.booking.vehicleClass)} · ${model.booking.price}", style = MaterialTheme.typography.headlineSmall)
            Text(stateName(model.booking.state))
            if (model.fromCache) Text(stringResource(R.string.booking_from_cache))
        }
        model.payment?.let { payment -> item { PaymentSection(payment, model.booking.id, onCardStep) } }
        item { Text(stringResource(R.string.booking_history), style = MaterialTheme.typography.titleMedium) }
        items(model.history) { step -> ListItem(headlineContent = { Text(stateName(step.toState)) }, supportingContent = { Text(step.at.toString()) }) }
        item {
            if (model.canFollowLive) Button({ onFollow(model.booking.id) }, Modifier.fillMaxWidth()) { Text(stringResource(R.string.booking_follow)) }
            if (model.hasReceipt) OutlinedButton({ onReceipt(model.booking.id) }, Modifier.fillMaxWidth()) { Text(stringResource(R.string.booking_receipt)) }
            if (model.hasInvoice) OutlinedButton({ onInvoice(model.booking.id) }, Modifier.fillMaxWidth()) { Text(stringResource(R.string.booking_invoice)) }
            if (model.canCancel) OutlinedButton({ onCancel(model.booking.id) }, Modifier.fillMaxWidth()) { Text(stringResource(R.string.booking_cancel)) }
            // The card step, the invoice or cancelling failed: said here, not silently.
            ActionError(error, cardError)
        }
    }
}

/** The live ride: the chauffeur on an OpenStreetMap map while the ride's Flow is collected. */
@Composable
fun LiveRideScreen(presenter: RiderPresenter, bookingId: String) {
    val state by presenter.state.collectAsState()
    // Collecting the ride's events keeps the SDK's subscription open; leaving the screen ends it.
    val ended by produceState<ChauffeurException?>(null, bookingId) {
        try {
            presenter.rideEventsOf(bookingId).collect()
        } catch (e: ChauffeurException) {
            value = e
        }
    }
    val ride = state.activeRide
    Column(Modifier.fillMaxSize()) {
        Text(ride?.state?.let { stateName(it) } ?: stringResource(R.string.live_waiting), Modifier.padding(16.dp))
        ended?.let { Text(it.message ?: "", color = MaterialTheme.colorScheme.error, modifier = Modifier.padding(16.dp)) }
        AndroidView(
            factory = { context -> MapView(context).apply { setMultiTouchControls(true); controller.setZoom(15.0) } },
            update = { map -> ride?.chauffeurPosition?.let { map.showChauffeur(it) } },
            modifier = Modifier.fillMaxWidth().height(480.dp),
            onRelease = { it.onDetach() },
        )
    }
}

private fun MapView.showChauffeur(at: LatLon) {
    val point = GeoPoint(at.lat, at.lon)
    overlays.removeAll { it is Marker }
    overlays += Marker(this).apply { position = point }
    controller.animateTo(point)
    invalidate()
}

@Composable
fun CancelScreen(state: RiderState, error: ChauffeurException?, onConfirm: () -> Unit, onKeep: () -> Unit) {
    val model = CancelModel.of(state) ?: return
    Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Text(stringResource(R.string.cancel_title), style = MaterialTheme.typography.headlineSmall)
        Text(if (model.free) stringResource(R.string.cancel_free) else stringResource(R.string.cancel_fee, model.fee))
        if (model.fromCache) Text(stringResource(R.string.cancel_from_cache))
        error?.let { Text(it.message ?: "", color = MaterialTheme.colorScheme.error) }
        Button(onConfirm, Modifier.fillMaxWidth()) { Text(stringResource(R.string.cancel_confirm)) }
        OutlinedButton(onKeep, Modifier.fillMaxWidth()) { Text(stringResource(R.string.cancel_keep)) }
    }
}

@Composable
fun ReceiptScreen(state: RiderState) {
    // Every amount and the VAT rate come formatted from the presentation model (the rate is the SDK's).
    val receipt = state.selected?.receipt?.let { ReceiptModel.of(it) }
    LazyColumn(Modifier.padding(16.dp)) {
        item { Text(stringResource(R.string.receipt_title), style = MaterialTheme.typography.headlineSmall) }
        if (receipt == null) {
            item { Text(stringResource(R.string.receipt_none)) }
            return@LazyColumn
        }
        items(receipt.lines) { (kind, amount) ->
            ListItem(headlineContent = { Text(kind) }, trailingContent = { Text(amount) })
        }
        item {
            Text(stringResource(R.string.receipt_net, receipt.net))
            Text(stringResource(R.string.receipt_vat, receipt.vatRate, receipt.vat))
            Text(stringResource(R.string.receipt_total, receipt.total), style = MaterialTheme.typography.titleLarge)
        }
    }
}

/** A place chosen by tapping the map (the search field above it finds one by name). */
@Composable
fun PlacePicker(title: String, place: LatLon?, onPick: (LatLon) -> Unit) {
    // The map's tap listener is made once; it must call the latest onPick (the current form).
    val currentOnPick by rememberUpdatedState(onPick)
    Text(title + (place?.let { " · %.4f, %.4f".format(it.lat, it.lon) } ?: ""))
    AndroidView(
        factory = { context ->
            MapView(context).apply {
                controller.setZoom(12.0)
                controller.setCenter(GeoPoint(place?.lat ?: 52.52, place?.lon ?: 13.405))
                overlays += org.osmdroid.views.overlay.MapEventsOverlay(object : org.osmdroid.events.MapEventsReceiver {
                    override fun singleTapConfirmedHelper(p: GeoPoint): Boolean {
                        currentOnPick(LatLon(p.latitude, p.longitude))
                        return true
                    }
                    override fun longPressHelper(p: GeoPoint): Boolean = false
                })
            }
        },
        modifier = Modifier.fillMaxWidth().height(160.dp),
        onRelease = { it.onDetach() },
    )
}
