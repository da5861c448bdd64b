package com.chauffeur.app.ui

import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.FilterChip
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Switch
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.text.input.PasswordVisualTransformation
import androidx.compose.ui.unit.dp
import com.chauffeur.app.R
import com.chauffeur.presentation.NumberTexts
import com.chauffeur.presentation.PickupText
import com.chauffeur.presentation.PlaceField
import com.chauffeur.presentation.QuoteFormModel
import com.chauffeur.presentation.QuotesModel
import com.chauffeur.presentation.RiderPresenter
import com.chauffeur.presentation.pickupTextOf
import com.chauffeur.sdk.ChauffeurException
import com.chauffeur.sdk.FormField
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
    presenter: RiderPresenter,
    onGetPrices: (NumberTexts, Boolean) -> Unit,
    onMyBookings: () -> Unit,
) {
    val model = QuoteFormModel.of(state)
    val form = model.form
    val onEdit = presenter::onFormChanged
    var byTheHour by rememberSaveable { mutableStateOf(form.hours != null) }
    // The number fields keep what the rider typed (so they can be emptied); the SDK checks the
    // numbers on "Get prices" and its messages appear under each field.
    var passengers by rememberSaveable { mutableStateOf(form.passengers.toString()) }
    var bags by rememberSaveable { mutableStateOf(form.bags.toString()) }
    var childSeats by rememberSaveable { mutableStateOf(form.childSeats.toString()) }
    var hours by rememberSaveable { mutableStateOf((form.hours ?: 2).toString()) }
    var pickupText by rememberSaveable { mutableStateOf(pickupTextOf(form.pickupLocal)) }
    val numbers = NumberTexts(passengers, bags, childSeats, hours)
    val digits: (String) -> String = { typed -> typed.filter { it.isDigit() }.take(4) }
    val numberKeyboard = KeyboardOptions(keyboardType = KeyboardType.Number)
    Column(Modifier.padding(16.dp).verticalScroll(rememberScrollState()), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Text(stringResource(R.string.form_title), style = MaterialTheme.typography.headlineSmall)
        OutlinedTextField(form.cityId, { onEdit(form.copy(cityId = it)) }, label = { Text(stringResource(R.string.form_city)) })
        FieldMessages(model, FormField.CITY_ID)
        PlaceSearchField(presenter, PlaceField.PICKUP, form.cityId)
        PlacePicker(stringResource(R.string.form_pickup), form.pickup) { onEdit(form.copy(pickup = it)) }
        FieldMessages(model, FormField.PICKUP)
        Row {
            FilterChip(!byTheHour, { byTheHour = false; onEdit(form.copy(hours = null)) }, { Text(stringResource(R.string.form_transfer)) })
            FilterChip(byTheHour, { byTheHour = true; onEdit(numbers.applyTo(form.copy(dropoff = null), byTheHour = true)) }, { Text(stringResource(R.string.form_hourly)) })
        }
        if (byTheHour) {
            OutlinedTextField(hours, { hours = digits(it) }, label = { Text(stringResource(R.string.form_hours)) }, keyboardOptions = numberKeyboard)
            FieldMessages(model, FormField.HOURS)
        } else {
            PlaceSearchField(presenter, PlaceField.DROPOFF, form.cityId)
            PlacePicker(stringResource(R.string.form_dropoff), form.dropoff) { onEdit(form.copy(dropoff = it)) }
            FieldMessages(model, FormField.DROPOFF)
        }
        val pickupTime = PickupText.parse(pickupText)
        OutlinedTextField(
            pickupText,
            { typed ->
                pickupText = typed
                // A readable time (or an empty field: as soon as possible) goes to the SDK; a
                // half-typed one stays in the field only.
                (PickupText.parse(typed) as? PickupText.Time)?.let { onEdit(form.copy(pickupLocal = it.local, dstChoice = null)) }
            },
            label = { Text(stringResource(R.string.form_pickup_time)) },
        )
        if (pickupTime == PickupText.Unreadable) {
            Text(stringResource(R.string.form_pickup_time_unreadable), color = MaterialTheme.colorScheme.error, style = MaterialTheme.typography.bodySmall)
        }
        if (model.dstChoices.isNotEmpty()) {
            Text(stringResource(R.string.form_dst_choice))
            Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                // The SDK's labels: local time with the offset, e.g. "02:30 (UTC+2)".
                model.dstChoices.forEach { row ->
                    FilterChip(row.selected, { presenter.onDstChoice(row.choice) }, { Text(row.label) })
                }
            }
        }
        FieldMessages(model, FormField.PICKUP_LOCAL)
        OutlinedTextField(passengers, { passengers = digits(it) }, label = { Text(stringResource(R.string.form_passengers)) }, keyboardOptions = numberKeyboard)
        FieldMessages(model, FormField.PASSENGERS)
        OutlinedTextField(bags, { bags = digits(it) }, label = { Text(stringResource(R.string.form_bags)) }, keyboardOptions = numberKeyboard)
        FieldMessages(model, FormField.BAGS)
        OutlinedTextField(childSeats, { childSeats = digits(it) }, label = { Text(stringResource(R.string.form_child_seats)) }, keyboardOptions = numberKeyboard)
        FieldMessages(model, FormField.CHILD_SEATS)
        Row { Text(stringResource(R.string.form_meet_and_greet)); Switch(form.meetAndGreet, { onEdit(form.copy(meetAndGreet = it)) }) }
        OutlinedTextField(form.flightNumber, { onEdit(form.copy(flightNumber = it)) }, label = { Text(stringResource(R.string.form_flight)) })
        FieldMessages(model, FormField.FLIGHT_NUMBER)
        FieldMessages(model, FormField.FORM)
        model.notice?.let { Text(it) }
        if (error != null && error !is ChauffeurException.InvalidInput) Text(error.message ?: "", color = MaterialTheme.colorScheme.error)
        // Enabled whatever the earlier messages said: the tap sends the typed numbers to the SDK,
        // which checks them again.
        Button({ onGetPrices(numbers, byTheHour) }, modifier = Modifier.fillMaxWidth()) { Text(stringResource(R.string.form_get_prices)) }
        OutlinedButton(onMyBookings, modifier = Modifier.fillMaxWidth()) { Text(stringResource(R.string.my_bookings)) }
    }
}

/**
 * A place field's search: what the rider types goes to the presenter's debounced search; the
 * suggestions of this field are listed under it and a tap puts the place into the form.
 */
@Composable
fun PlaceSearchField(presenter: RiderPresenter, field: PlaceField, cityId: String) {
    val suggestions by presenter.places.suggestions.collectAsState()
    var query by rememberSaveable(field) { mutableStateOf("") }
    OutlinedTextField(
        query,
        { typed ->
            query = typed
            presenter.places.onType(field, cityId, typed)
        },
        label = { Text(stringResource(R.string.form_search_place)) },
        singleLine = true,
        modifier = Modifier.fillMaxWidth(),
    )
    if (suggestions.field == field) {
        suggestions.error?.let { Text(it, color = MaterialTheme.colorScheme.error, style = MaterialTheme.typography.bodySmall) }
        suggestions.places.take(5).forEach { place ->
            ListItem(
                headlineContent = { Text(place.name) },
                modifier = Modifier.clickable {
                    query = place.name
                    presenter.onPlacePicked(field, place)
                },
            )
        }
    }
}

@Composable
fun QuotesScreen(state: RiderState, error: ChauffeurException?, onBook: (VehicleClass) -> Unit) {
    val model = QuotesModel.of(state)
    LazyColumn(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        if (model.offline) item { Text(stringResource(R.string.quotes_offline)) }
        // "Book" failed before the confirmation (the payment setup could not be read): said here.
        error?.let { item { Text(it.message ?: "", color = MaterialTheme.colorScheme.error) } }
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
        if (model.excluded.isNotEmpty()) item { Text(stringResource(R.string.quotes_excluded), style = MaterialTheme.typography.titleSmall) }
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
