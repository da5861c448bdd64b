import ChauffeurKit
import SwiftUI

/// The quotes for the form, one per class that fits, with what each is made of. Estimates
/// (offline) are marked and cannot be booked: the core refuses them, the button says so.
struct QuotesView: View {
  let model: RiderModel
  /// The quote whose booking confirmation (card, "Book for …") is open.
  @State private var confirming: QuoteOption?

  var body: some View {
    List {
      if let error = model.error {
        Text(error.message).foregroundStyle(.red)
      }
      ForEach(model.state.quotes, id: \.class) { quote in
        Section {
          LabeledContent(
            "Total", value: Formatting.money(quote.totalMinor, currency: quote.currency))
          LabeledContent("Distance") {
            Text(
              Measurement(value: Double(quote.distanceM), unit: UnitLength.meters),
              format: .measurement(width: .abbreviated))
          }
          LabeledContent("Duration") {
            Text(Duration.seconds(quote.durationS), format: .units(allowed: [.hours, .minutes]))
          }
          LabeledContent("Pickup", value: quote.pickupAt, format: .dateTime)
          if quote.estimate {
            Text("Estimate: connect to book at a fixed price").font(.footnote).foregroundStyle(
              .orange)
          } else {
            LabeledContent(
              "Price valid until", value: quote.validUntil, format: .dateTime.hour().minute())
            if model.state.signedInAs == nil {
              NavigationLink("Sign in to book") { AccountView(model: model) }
            } else {
              Button("Book \(quote.class.label)") { confirming = quote }
                .disabled(model.busy)
            }
          }
        } header: {
          Text(quote.class.label)
        }
      }
      if !model.state.excludedClasses.isEmpty {
        Section("Not available for this trip") {
          // The core's reason, e.g. "First takes at most 3 passengers and 3 bags (asked: …)".
          ForEach(model.state.excludedClasses, id: \.class) { excluded in
            VStack(alignment: .leading) {
              Text(excluded.class.label)
              Text(excluded.reason).font(.footnote)
            }
            .foregroundStyle(.secondary)
          }
        }
      }
    }
    .navigationTitle("Prices")
    .navigationDestination(item: $confirming) { quote in
      ConfirmBookingView(model: model, quote: quote)
    }
  }
}

/// The booking just made; when the card needs the bank's check, the step to run.
struct ConfirmationView: View {
  let model: RiderModel
  @Environment(PaymentStep.self) private var payments

  var body: some View {
    if let booking = model.state.confirmation {
      List {
        LabeledContent("Status", value: booking.state.label)
        LabeledContent("Class", value: booking.class.label)
        LabeledContent("Pickup", value: booking.pickupAt, format: .dateTime)
        LabeledContent("Price", value: booking.localPrice)
        if booking.pendingSync {
          Text("Saved on this phone; it is sent when you are online again.").foregroundStyle(
            .orange)
        }
        if booking.state == .paymentPending {
          Text(
            """
            Booked. Your bank asks you to confirm the card; we look for a chauffeur once it is \
            done.
            """)
          Button("Confirm the card") {
            run { await payments.runCardStep(booking.id, model: model) }
          }
          if let cardError = payments.cardError {
            Text(cardError.text).foregroundStyle(.red)
          }
        }
        NavigationLink("Open the booking") { BookingView(model: model, bookingId: booking.id) }
      }
      .navigationTitle("Booked")
    }
  }
}

extension BookingSummary {
  /// The price in the device's locale; the SDK's own text while the currency is not known yet
  /// (as the Android app's `BookingRow` does).
  var localPrice: String {
    currency.isEmpty ? price : Formatting.money(priceMinor, currency: currency)
  }
}

extension VehicleClass {
  var label: String {
    switch self {
    case .business: String(localized: "Business")
    case .first: String(localized: "First")
    case .van: String(localized: "Van")
    }
  }
}

extension BookingState {
  var label: String {
    switch self {
    case .paymentPending: String(localized: "Waiting for your card")
    case .pending: String(localized: "Looking for a chauffeur")
    case .confirmed: String(localized: "Confirmed")
    case .chauffeurAssigned: String(localized: "Chauffeur assigned")
    case .enRoute: String(localized: "On the way")
    case .arrived: String(localized: "Arrived")
    case .onBoard: String(localized: "On board")
    case .completed: String(localized: "Completed")
    case .cancelled: String(localized: "Cancelled")
    case .noShow: String(localized: "No-show")
    case .unfulfilled: String(localized: "No chauffeur found")
    }
  }
}
