import ChauffeurKit
import SwiftUI

// The payment step. The SDK decides (what is held, charged, refunded; whether a card step
// waits); these views render it and forward the card the payment source produced. Card data
// never reaches this code, the SDK or our server: only the provider's payment method id.

/// Where a booking's payment method id comes from: the payment provider's own SDK in production
/// (Stripe's PaymentSheet), the test provider's named cards with `chauffeur-server dev`.
@MainActor
protocol PaymentMethodSource {
  /// The payment method id (`pm_…`) to book `amountMinor` of `currency` with, or `nil` when the
  /// rider closed the provider's card form (nothing is booked). Throws
  /// `CardPaymentsUnavailable` when this build cannot take cards at all.
  func paymentMethod(for setup: PaymentSetup, amountMinor: Int64, currency: String) async throws
    -> String?

  /// The card step (3-D Secure) the provider asked for, run with the booking's
  /// `payment.clientSecret`. True once the rider is done with it, false if they closed it; how
  /// it ended is the server's answer to `confirmPayment`, never this.
  func handleCardStep(clientSecret: String) async throws -> Bool
}

/// This build cannot take card payments (the provider's SDK is not wired in).
struct CardPaymentsUnavailable: LocalizedError {
  var errorDescription: String? {
    String(
      localized: """
        Card payments need the Stripe SDK, which this version of the app does not include yet. \
        Nothing was booked.
        """)
  }
}

/// The dev server's test provider's cards (server/src/payments/double.rs).
enum TestCard: String, CaseIterable, Identifiable {
  case visa = "pm_card_visa"
  case threeDSecure = "pm_card_threeDSecure2Required"
  case declined = "pm_card_chargeDeclined"

  var id: String { rawValue }

  var label: String {
    switch self {
    case .visa: String(localized: "Test card: Visa (approved)")
    case .threeDSecure: String(localized: "Test card: needs a bank check (3-D Secure)")
    case .declined: String(localized: "Test card: declined")
    }
  }
}

/// The source for `provider == "test"`: the picker's card. Its card step has nothing to run in
/// the app (the test provider's bank check is settled at the provider itself), so it returns at
/// once and the server's answer to `confirmPayment` says whether the check was done.
@MainActor
@Observable
final class TestCardSource: PaymentMethodSource {
  var chosen: TestCard = .visa

  func paymentMethod(for setup: PaymentSetup, amountMinor: Int64, currency: String) async throws
    -> String?
  {
    chosen.rawValue
  }

  func handleCardStep(clientSecret: String) async throws -> Bool { true }
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

/// The payment step's state shared by the screens: the server's setup, the test card picker,
/// and which source a booking uses.
@MainActor
@Observable
final class PaymentStep {
  private(set) var setup: PaymentSetup?
  /// A refusal of the card (or no source for it), shown under the card field.
  private(set) var cardError: String?
  let testCards = TestCardSource()
  /// The provider's SDK this build has for a real provider (Stripe's, once wired).
  let providerSource: any PaymentMethodSource = StripeSource()

  /// The server's refusals that are about the card (the web page puts them on the same field).
  static let cardCodes: Set<String> = [
    "card_declined", "payment_method_required", "payment_method_invalid",
  ]

  func load(_ model: RiderModel) async {
    if setup == nil { setup = try? await model.paymentSetup() }
  }

  /// The source for the server's provider; `nil` for `none` (no card is asked).
  var source: (any PaymentMethodSource)? {
    switch setup?.provider ?? "none" {
    case "none": return nil
    case "test": return testCards
    default: return providerSource
    }
  }

  /// Takes the card from the source, hands it to the SDK's payment hook, then books. A refused
  /// card leaves `cardError` set and nothing booked. True when booked.
  func book(_ quote: QuoteOption, model: RiderModel) async -> Bool {
    cardError = nil
    do {
      if setup == nil { setup = try await model.paymentSetup() }
      if let setup, let source {
        guard
          let card = try await source.paymentMethod(
            for: setup, amountMinor: quote.totalMinor, currency: quote.currency)
        else { return false }
        model.usePaymentMethod(card)
      } else {
        model.usePaymentMethod(nil)
      }
      try await model.book(quote.class)
      return true
    } catch let error as CardPaymentsUnavailable {
      cardError = error.localizedDescription
    } catch let error as ChauffeurKitError where Self.cardCodes.contains(error.code) {
      cardError = error.message
      model.clearError()
    } catch {
      // Shown by the screen from `model.error`.
    }
    return false
  }

  /// The card step of a booking waiting in `payment_pending`, then the server's answer to it.
  func runCardStep(_ bookingId: String, model: RiderModel) async {
    do {
      if model.state.selected?.booking.id != bookingId {
        try await model.openBooking(bookingId)
      }
      if let secret = model.state.selected?.payment?.clientSecret, let source {
        guard try await source.handleCardStep(clientSecret: secret) else { return }
      }
      try await model.confirmPayment(bookingId)
      try await model.openBooking(bookingId)
    } catch let error as CardPaymentsUnavailable {
      cardError = error.localizedDescription
    } catch {
      // Shown by the screen from `model.error`.
    }
  }
}

/// The booking confirmation: class and price, the card (the test cards by name, or a note that
/// the provider's own form opens), its refusal under it, and "Book for …".
struct ConfirmBookingView: View {
  let model: RiderModel
  let quote: QuoteOption
  @Environment(PaymentStep.self) private var payments
  @State private var booked = false

  var body: some View {
    @Bindable var testCards = payments.testCards
    Form {
      Section {
        LabeledContent(quote.class.label, value: quote.total)
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
        Text(cardError).foregroundStyle(.red)
      }
      if let error = model.error {
        Text(error.message).foregroundStyle(.red)
      }
      Button("Book for \(quote.total)") {
        run { booked = await payments.book(quote, model: model) }
      }
      .disabled(model.busy)
    }
    .navigationTitle("Confirm your booking")
    .task { await payments.load(model) }
    .navigationDestination(isPresented: $booked) {
      ConfirmationView(model: model)
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
      if payment.status == .authorized || payment.status == .requiresAction {
        LabeledContent("Held", value: money(payment.heldMinor))
      }
      if payment.capturedMinor > 0 {
        LabeledContent("Charged", value: money(payment.capturedMinor))
      }
      if payment.extraChargedMinor > 0 {
        LabeledContent("Charged separately", value: money(payment.extraChargedMinor))
      }
      if payment.refundedMinor > 0 {
        LabeledContent("Refunded", value: money(payment.refundedMinor))
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
        Text(cardError).foregroundStyle(.red)
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
      try pdf.write(to: url, options: .atomic)
      file = url
    } catch {
      failed = true
    }
  }
}
