import ChauffeurKit
import SwiftUI

// The payment step. The SDK decides (what is held, charged, refunded; whether a card step
// waits); these views render it and forward the card the payment source produced. Card data
// never reaches this code, the SDK or our server: only the provider's payment method id.

extension TestCard {
  var label: String {
    switch self {
    case .visa: String(localized: "Test card: Visa (approved)")
    case .threeDSecure: String(localized: "Test card: needs a bank check (3-D Secure)")
    case .declined: String(localized: "Test card: declined")
    }
  }
}

extension CardError {
  /// The app's words for the refusals it knows (as the web page has them); else the SDK's.
  var text: String {
    switch code {
    case "card_declined":
      String(localized: "Your card was declined. Try another card; nothing was booked.")
    case "payment_method_required": String(localized: "Choose a card to book.")
    case "payment_method_invalid":
      String(localized: "This card cannot be used; choose another.")
    case CardError.unavailable:
      String(
        localized: """
          Card payments need the Stripe SDK, which this version of the app does not include \
          yet. Nothing was booked.
          """)
    default: message
    }
  }
}

/// The source for a server whose provider is Stripe. NOT WIRED: this build does not include the
/// Stripe iOS SDK (it could not be downloaded where this app was written, and a stand-in that
/// pretends to take cards would book rides nobody can pay for). Until a developer with the SDK
/// wires it here, it refuses, and the rider reads "card payments need the Stripe SDK" instead
/// of a booking. To wire it (ios/README.md, "Payments"): add the `stripe-ios` package, set
/// `STPAPIClient.shared.publishableKey` from `setup.publishableKey`; `paymentMethod(for:…)`
/// shows Stripe's card form (`STPPaymentCardTextField` or PaymentSheet in manual-capture mode)
/// and returns the created `STPPaymentMethod.stripeId`, `nil` when the rider closes it;
/// `handleCardStep` runs `STPPaymentHandler.shared.handleNextAction(forPayment: clientSecret, …)`
/// (3-D Secure in Stripe's own UI) and returns whether it finished.
@MainActor
final class StripeSource: PaymentMethodSource {
  func paymentMethod(for setup: PaymentSetup, amountMinor: Int64, currency: String) async throws
    -> String?
  {
    throw CardPaymentsUnavailable()
  }

  func handleCardStep(clientSecret: String) async throws -> Bool {
    throw CardPaymentsUnavailable()
  }
}

/// The booking confirmation: class and price, the card (the test cards by name, or a note that
/// the provider's own form opens), its refusal under it, and "Book for …".
struct ConfirmBookingView: View {
  let model: RiderModel
  let quote: QuoteOption
  @Environment(PaymentStep.self) private var payments
  @State private var booked = false
  /// Why the server's payment setup could not be read (offline): said, not an empty card section.
  @State private var setupFailure: String?

  /// The quoted total in the device's locale.
  private var price: String { Formatting.money(quote.totalMinor, currency: quote.currency) }

  var body: some View {
    @Bindable var testCards = payments.testCards
    Form {
      Section {
        LabeledContent(quote.class.label, value: price)
        LabeledContent("Pickup", value: quote.pickupAt, format: .dateTime)
      }
      switch payments.setup?.provider ?? "none" {
      case "none":
        EmptyView()
      case "test":
        Section {
          Picker("Card", selection: $testCards.chosen) {
            ForEach(TestCard.allCases) { card in Text(card.label).tag(card) }
          }
          .pickerStyle(.inline)
        } footer: {
          let percent = Formatting.percent(Double(payments.setup?.allowanceBp ?? 0) / 10_000)
          Text(
            """
            Test payments: no real card is charged. The price plus \(percent) for waiting and \
            extras is held, and only the final fare is taken after the ride.
            """)
        }
      default:
        Section("Card") {
          Text(
            """
            Your card is entered in the payment provider’s own form when you book; card details \
            never reach us.
            """
          )
          .font(.footnote)
        }
      }
      if let cardError = payments.cardError {
        Text(cardError.text).foregroundStyle(.red)
      }
      if let error = model.error {
        Text(error.message).foregroundStyle(.red)
      } else if payments.setup == nil, let setupFailure {
        Text(setupFailure).foregroundStyle(.red)
      }
      Button("Book for \(price)") {
        run { booked = await payments.book(quote, model: model) }
      }
      .disabled(model.busy)
    }
    .navigationTitle("Confirm your booking")
    .task {
      do {
        try await payments.load(model)
      } catch {
        setupFailure = ChauffeurKitError(error).message
      }
    }
    .navigationDestination(isPresented: $booked) {
      ConfirmationView(model: model)
    }
  }
}

extension PaymentLine {
  var label: String {
    switch self {
    case .held: String(localized: "Held")
    case .charged: String(localized: "Charged")
    case .chargedSeparately: String(localized: "Charged separately")
    case .refunded: String(localized: "Refunded")
    }
  }
}

extension PaymentStatus {
  var label: String {
    switch self {
    case .requiresAction: String(localized: "Waiting for your bank’s check")
    case .authorized: String(localized: "Held on your card")
    case .captured: String(localized: "Paid")
    case .released: String(localized: "Hold released, nothing charged")
    case .failed: String(localized: "Not charged")
    case .partiallyRefunded: String(localized: "Paid, partly refunded")
    case .refunded: String(localized: "Refunded")
    }
  }
}

/// The booking screen's payment section: the status and the amounts as the SDK gives them; the
/// card step again while the booking waits for it.
struct PaymentSection: View {
  let model: RiderModel
  let payment: Payment
  let booking: BookingSummary
  @Environment(PaymentStep.self) private var payments

  var body: some View {
    Section("Payment") {
      LabeledContent("Status", value: payment.status.label)
      ForEach(Array(payment.amounts.enumerated()), id: \.offset) { _, amount in
        LabeledContent(amount.line.label, value: money(amount.minor))
      }
      if let failure = payment.failure {
        LabeledContent("Note", value: failure)
      }
      if booking.state == .paymentPending {
        Button("Check the card step again") {
          run { await payments.runCardStep(booking.id, model: model) }
        }
      }
      if let cardError = payments.cardError {
        Text(cardError.text).foregroundStyle(.red)
      }
    }
  }

  private func money(_ minor: Int64) -> String {
    Formatting.money(minor, currency: payment.currency)
  }
}

/// "Download invoice": the PDF in the device's language (German or English), written to a
/// temporary file and offered with the system's share sheet (save to Files, mail, print).
struct InvoiceButton: View {
  let model: RiderModel
  let bookingId: String
  @State private var file: URL?
  @State private var failed = false

  var body: some View {
    if let file {
      ShareLink(item: file) { Label("Share the invoice (PDF)", systemImage: "doc.richtext") }
    } else {
      Button("Download invoice") { run { await load() } }
      if failed {
        Text("The invoice could not be loaded; try again.").foregroundStyle(.red)
      }
    }
  }

  private func load() async {
    failed = false
    let language = Locale.current.language.languageCode?.identifier == "de" ? "de" : "en"
    do {
      let pdf = try await model.invoicePDF(bookingId, language: language)
      let url = FileManager.default.temporaryDirectory.appendingPathComponent(
        "invoice-\(bookingId).pdf")
      // The view runs on the main actor: the file is written off it, so the UI never waits on
      // the disk.
      try await Task.detached(priority: .userInitiated) {
        try pdf.write(to: url, options: .atomic)
      }.value
      file = url
    } catch {
      failed = true
    }
  }
}
