import ChauffeurKit
import MapKit
import SwiftUI

/// The quote form. The core validates every edit and answers with messages per field; this
/// view only shows them next to the field they name.
struct QuoteFormView: View {
  let model: RiderModel
  @State private var form = QuoteForm.make(cityId: "berlin", pickup: nil)
  @State private var byTheHour = false
  @State private var pickupDate = Date().addingTimeInterval(24 * 3600)

  var body: some View {
    Form {
      Section {
        Picker("Ride", selection: $byTheHour) {
          Text("Transfer").tag(false)
          Text("By the hour").tag(true)
        }
        .pickerStyle(.segmented)
        PlaceField(title: "Pickup", model: model, cityId: form.cityId, place: $form.pickup)
        FieldMessage(model: model, field: .pickup)
        if byTheHour {
          Stepper(value: hoursBinding, in: 1...24) { Text("Hours: \(Int(form.hours ?? 2))") }
          FieldMessage(model: model, field: .hours)
        } else {
          PlaceField(
            title: "Drop-off", model: model, cityId: form.cityId, place: $form.dropoff)
          FieldMessage(model: model, field: .dropoff)
        }
        DatePicker("Pickup time", selection: $pickupDate)
        if !model.state.dstOptions.isEmpty {
          // The time happens twice (the clocks go back): the core's two instants, labelled in
          // local time with their offsets ("02:30 (UTC+2)").
          Picker("This time happens twice. Which one?", selection: $form.dstChoice) {
            ForEach(model.state.dstOptions, id: \.label) { option in
              Text(option.label).tag(Optional(option.choice))
            }
          }
        }
        FieldMessage(model: model, field: .pickupLocal)
      }
      Section {
        // Int, not the SDK's Int32: the string catalog's keys are "Passengers: %lld" and so on.
        Stepper("Passengers: \(Int(form.passengers))", value: count(\.passengers), in: 0...16)
        FieldMessage(model: model, field: .passengers)
        Stepper("Bags: \(Int(form.bags))", value: count(\.bags), in: 0...16)
        FieldMessage(model: model, field: .bags)
        Stepper("Child seats: \(Int(form.childSeats))", value: count(\.childSeats), in: 0...4)
        FieldMessage(model: model, field: .childSeats)
        Toggle("Meet and greet", isOn: $form.meetAndGreet)
        TextField("Flight number", text: $form.flightNumber)
        TextField("Notes for the chauffeur", text: $form.notes, axis: .vertical)
      }
      FieldMessage(model: model, field: .cityId)
      FieldMessage(model: model, field: .form)
      Button("Get prices") { run { try await model.requestQuotes() } }
        .disabled(model.busy)
      if !model.state.quotes.isEmpty {
        NavigationLink("See prices") { QuotesView(model: model) }
      }
    }
    .navigationTitle("Book a chauffeur")
    .onChange(of: form) { model.edit(edited()) }
    .onChange(of: byTheHour) { model.edit(edited()) }
    .onChange(of: pickupDate) {
      // A new time: an earlier DST choice no longer applies (the form's edit follows).
      let local = LocalDateTime(pickupDate)
      guard form.pickupLocal != local else { return }
      form.pickupLocal = local
      form.dstChoice = nil
    }
    .onAppear {
      // The whole form as the model has it, mode and pickup time included, so the edits that
      // follow do not reset them to this view's defaults.
      form = model.state.form
      byTheHour = form.hours != nil
      if let saved = form.pickupLocal?.date() { pickupDate = saved }
    }
  }

  private var hoursBinding: Binding<Int> {
    Binding(get: { Int(form.hours ?? 2) }, set: { form.hours = Int32(clamping: $0) })
  }

  /// A count of the form as a stepper's `Int`.
  private func count(_ value: WritableKeyPath<QuoteForm, Int32>) -> Binding<Int> {
    Binding(get: { Int(form[keyPath: value]) }, set: { form[keyPath: value] = Int32(clamping: $0) })
  }

  /// The form as the rider set it; the pickup as the wall-clock time the picker shows, which
  /// the core reads in the city's time zone.
  private func edited() -> QuoteForm {
    var edited = form
    if byTheHour { edited.dropoff = nil } else { edited.hours = nil }
    if edited.pickupLocal == nil { edited.pickupLocal = LocalDateTime(pickupDate) }
    return edited
  }
}

/// The core's message for one field, if any.
struct FieldMessage: View {
  let model: RiderModel
  let field: FormField

  var body: some View {
    ForEach(model.state.formErrors.filter { $0.field == field }, id: \.code) { error in
      Text(error.message).font(.footnote).foregroundStyle(.red)
    }
  }
}

/// A place by name (the SDK's place search) or by a tap on the map.
struct PlaceField: View {
  let title: LocalizedStringKey
  let model: RiderModel
  let cityId: String
  @Binding var place: LatLon?
  @State private var query = ""
  @State private var suggestions: [Place] = []

  var body: some View {
    VStack(alignment: .leading) {
      Text(title).font(.headline)
      TextField("Search a place", text: $query)
        .textInputAutocapitalization(.never)
        .task(id: query) {
          // The search runs as the rider types; a newer query cancels this one.
          guard query.count >= 2 else {
            suggestions = []
            return
          }
          try? await Task.sleep(for: .milliseconds(250))
          guard !Task.isCancelled else { return }
          suggestions = (try? await model.searchPlaces(query, cityId: cityId)) ?? []
        }
      ForEach(suggestions.prefix(5), id: \.id) { suggestion in
        Button(suggestion.name) {
          place = LatLon(lat: suggestion.lat, lon: suggestion.lon)
          query = suggestion.name
          suggestions = []
        }
      }
      MapReader { proxy in
        Map {
          if let place {
            Marker(
              title, coordinate: CLLocationCoordinate2D(latitude: place.lat, longitude: place.lon))
          }
        }
        .onTapGesture { point in
          if let tapped = proxy.convert(point, from: .local) {
            place = LatLon(lat: tapped.latitude, lon: tapped.longitude)
          }
        }
      }
      .frame(height: 160)
    }
  }
}
