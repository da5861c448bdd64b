package com.chauffeur.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.FilterChip
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Switch
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.text.input.PasswordVisualTransformation
import androidx.compose.ui.unit.dp
import com.chauffeur.app.R
import com.chauffeur.presentation.QuoteFormModel
import com.chauffeur.presentation.QuotesModel
import com.chauffeur.sdk.ChauffeurException
import com.chauffeur.sdk.FormField
import com.chauffeur.sdk.QuoteForm
import com.chauffeur.sdk.RiderState
import com.chauffeur.sdk.VehicleClass

/** The messages of one form field, under it. */
@Composable
fun FieldMessages(model: QuoteFormModel, field: FormField) {
    model.errorsOf(field).forEach {
        Text(it, color = MaterialTheme.colorScheme.error, style = MaterialTheme.typography.bodySmall)
    }
}

@Composable
fun QuoteFormScreen(
    state: RiderState,
    error: ChauffeurException?,
    onEdit: (QuoteForm) -> QuoteFormModel,
    onGetPrices: () -> Unit,
    onMyBookings: () -> Unit,
) {
    val model = QuoteFormModel.of(state)
    val form = model.form
    var byTheHour by remember { mutableStateOf(form.hours != null) }
    Column(Modifier.padding(16.dp).verticalScroll(rememberScrollState()), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Text(stringResource(R.string.form_title), style = MaterialTheme.typography.headlineSmall)
        OutlinedTextField(form.cityId, { onEdit(form.copy(cityId = it)) }, label = { Text(stringResource(R.string.form_city)) })
        FieldMessages(model, FormField.CITY_ID)
        // TODO(places): the SDK's place search once GET /v1/places is merged; until then the map
        // picker (PlacePicker) sets coordinates.
        PlacePicker(stringResource(R.string.form_pickup), form.pickup) { onEdit(form.copy(pickup = it)) }
        FieldMessages(model, FormField.PICKUP)
        Row {
            FilterChip(!byTheHour, { byTheHour = false; onEdit(form.copy(hours = null)) }, { Text(stringResource(R.string.form_transfer)) })
            FilterChip(byTheHour, { byTheHour = true; onEdit(form.copy(dropoff = null, hours = form.hours ?: 2u)) }, { Text(stringResource(R.string.form_hourly)) })
        }
        if (byTheHour) {
            OutlinedTextField((form.hours ?: 2u).toString(), { onEdit(form.copy(hours = it.toUIntOrNull())) }, label = { Text(stringResource(R.string.form_hours)) })
            FieldMessages(model, FormField.HOURS)
        } else {
            PlacePicker(stringResource(R.string.form_dropoff), form.dropoff) { onEdit(form.copy(dropoff = it)) }
            FieldMessages(model, FormField.DROPOFF)
        }
        OutlinedTextField(form.pickupLocal, { onEdit(form.copy(pickupLocal = it)) }, label = { Text(stringResource(R.string.form_pickup_time)) })
        FieldMessages(model, FormField.PICKUP_LOCAL)
        OutlinedTextField(form.passengers.toString(), { onEdit(form.copy(passengers = it.toUIntOrNull() ?: 0u)) }, label = { Text(stringResource(R.string.form_passengers)) })
        FieldMessages(model, FormField.PASSENGERS)
        OutlinedTextField(form.bags.toString(), { onEdit(form.copy(bags = it.toUIntOrNull() ?: 0u)) }, label = { Text(stringResource(R.string.form_bags)) })
        FieldMessages(model, FormField.BAGS)
        OutlinedTextField(form.childSeats.toString(), { onEdit(form.copy(childSeats = it.toUIntOrNull() ?: 0u)) }, label = { Text(stringResource(R.string.form_child_seats)) })
        FieldMessages(model, FormField.CHILD_SEATS)
        Row { Text(stringResource(R.string.form_meet_and_greet)); Switch(form.meetAndGreet, { onEdit(form.copy(meetAndGreet = it)) }) }
        OutlinedTextField(form.flightNumber, { onEdit(form.copy(flightNumber = it)) }, label = { Text(stringResource(R.string.form_flight)) })
        FieldMessages(model, FormField.FLIGHT_NUMBER)
        FieldMessages(model, FormField.FORM)
        model.notice?.let { Text(it) }
        if (error != null && error !is ChauffeurException.InvalidInput) Text(error.message ?: "", color = MaterialTheme.colorScheme.error)
        Button(onGetPrices, enabled = model.canRequestQuotes, modifier = Modifier.fillMaxWidth()) { Text(stringResource(R.string.form_get_prices)) }
        OutlinedButton(onMyBookings, modifier = Modifier.fillMaxWidth()) { Text(stringResource(R.string.my_bookings)) }
    }
}

@Composable
fun QuotesScreen(state: RiderState, onBook: (VehicleClass) -> Unit) {
    val model = QuotesModel.of(state)
    LazyColumn(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        if (model.offline) item { Text(stringResource(R.string.quotes_offline)) }
        items(model.rows) { row ->
            Card(Modifier.fillMaxWidth()) {
                Column(Modifier.padding(16.dp)) {
                    Text(className(row.vehicleClass), style = MaterialTheme.typography.titleMedium)
                    Text(row.price, style = MaterialTheme.typography.headlineSmall)
                    if (row.estimate) Text(stringResource(R.string.quotes_estimate))
                    Button({ onBook(row.vehicleClass) }, enabled = row.bookable) { Text(stringResource(R.string.quotes_book)) }
                }
            }
        }
        items(model.excluded) { row ->
            Column(Modifier.padding(8.dp)) {
                Text(className(row.vehicleClass), color = MaterialTheme.colorScheme.outline)
                Text(row.reason, style = MaterialTheme.typography.bodySmall, color = MaterialTheme.colorScheme.outline)
            }
        }
    }
}

@Composable
fun className(vehicleClass: VehicleClass): String = stringResource(
    when (vehicleClass) {
        VehicleClass.BUSINESS -> R.string.class_business
        VehicleClass.FIRST -> R.string.class_first
        VehicleClass.VAN -> R.string.class_van
        else -> R.string.class_other
    },
)

@Composable
fun SignInScreen(
    error: ChauffeurException?,
    onSignIn: (String, String) -> Unit,
    onSignUp: (String, String, String?) -> Unit,
) {
    var email by remember { mutableStateOf("") }
    var password by remember { mutableStateOf("") }
    var name by remember { mutableStateOf("") }
    Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Text(stringResource(R.string.sign_in_title), style = MaterialTheme.typography.headlineSmall)
        OutlinedTextField(email, { email = it }, label = { Text(stringResource(R.string.sign_in_email)) })
        OutlinedTextField(password, { password = it }, label = { Text(stringResource(R.string.sign_in_password)) }, visualTransformation = PasswordVisualTransformation())
        OutlinedTextField(name, { name = it }, label = { Text(stringResource(R.string.sign_in_name)) })
        error?.let { Text(it.message ?: "", color = MaterialTheme.colorScheme.error) }
        Button({ onSignIn(email, password) }, Modifier.fillMaxWidth()) { Text(stringResource(R.string.sign_in)) }
        OutlinedButton({ onSignUp(email, password, name.ifBlank { null }) }, Modifier.fillMaxWidth()) { Text(stringResource(R.string.sign_up)) }
    }
}
