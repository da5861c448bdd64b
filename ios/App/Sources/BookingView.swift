import ChauffeurKit
import SwiftUI

/// One booking: its details and history, the live ride, cancelling in two steps (the fee
/// first, then the cancellation) and the receipt.
struct BookingView: View {
  let model: RiderModel
  let bookingId: String

  var body: some View {
    List {
      if let details = model.state.selected, details.booking.id == bookingId {
        let booking = details.booking
        Section {
          LabeledContent("Status", value: booking.state.label)
          LabeledContent("Class", value: booking.class.label)
          LabeledContent("Pickup", value: booking.pickupAt, format: .dateTime)
          if details.fromCache {
            Text("Shown as last seen: you are offline.").font(.footnote).foregroundStyle(.orange)
          }
        }
        if booking.canFollowLive {
          Section("Live") {
            LiveRideView(model: model, bookingId: bookingId)
          }
        }
        Section("History") {
          ForEach(details.history, id: \.version) { step in
            LabeledContent {
              Text(step.at, format: .dateTime)
            } label: {
              Text("\(step.toState.label) (\(step.actor.label))")
            }
          }
        }
        if let payment = details.payment {
          PaymentSection(model: model, payment: payment, booking: booking)
        }
        if let receipt = details.receipt {
          ReceiptSection(receipt: receipt)
          if !details.fromCache {
            Section("Invoice") { InvoiceButton(model: model, bookingId: bookingId) }
          }
        } else {
          Section("Price") {
            LabeledContent(
              "Price", value: Formatting.money(booking.priceMinor, currency: booking.currency))
          }
        }
        cancelSection
      } else {
        ProgressView()
      }
      if let error = model.error {
        Text(error.message).foregroundStyle(.red)
      }
    }
    .navigationTitle("Booking")
    .task { try? await model.openBooking(bookingId) }
    .onDisappear { model.closeBooking() }
  }

  /// Step one asks the core for the fee; step two confirms it. The core decides whether a
  /// booking can be cancelled and at what fee.
  @ViewBuilder private var cancelSection: some View {
    if let terms = model.state.cancellation, terms.bookingId == bookingId {
      Section("Cancel") {
        Text("Cancelling now costs \(feeText(terms)).")
        if terms.fromCache {
          Text("Fee as last seen; the server may ask again.").font(.footnote)
        }
        Button("Cancel the ride", role: .destructive) {
          run { try await model.confirmCancellation() }
        }
      }
    } else if model.state.booking(bookingId)?.canCancel == true {
      Button("Cancel…", role: .destructive) { run { try await model.askToCancel(bookingId) } }
    }
  }

  /// The fee in the device's locale, in the booking's currency (the SDK's text when unknown).
  private func feeText(_ terms: CancellationTerms) -> String {
    let currency = model.state.booking(bookingId)?.currency ?? ""
    return currency.isEmpty ? terms.fee : Formatting.money(terms.feeMinor, currency: currency)
  }
}

/// The server's receipt: each line, what came on top after the ride, net, VAT at the SDK's rate
/// and the total, in the device's locale. Nothing is computed here.
struct ReceiptSection: View {
  let receipt: Receipt

  var body: some View {
    Section("Receipt") {
      ForEach(Array((receipt.lines + receipt.extras).enumerated()), id: \.offset) { _, line in
        LabeledContent(
          line.kind, value: Formatting.money(line.amountMinor, currency: receipt.currency))
      }
      LabeledContent("Net", value: Formatting.money(receipt.netMinor, currency: receipt.currency))
      LabeledContent(
        "VAT \(Formatting.percent(receipt.vatRate))",
        value: Formatting.money(receipt.vatMinor, currency: receipt.currency))
      LabeledContent(
        "Total", value: Formatting.money(receipt.totalMinor, currency: receipt.currency)
      ).bold()
    }
  }
}

// ChauffeurSDK's Actor (who changed a booking), not Swift's concurrency protocol.
extension ChauffeurSDK.Actor {
  var label: String {
    switch self {
    case .rider: String(localized: "you")
    case .partner: String(localized: "the partner")
    case .chauffeur: String(localized: "the chauffeur")
    case .operator: String(localized: "our operations team")
    case .system: String(localized: "Chauffeur")
    }
  }
}
