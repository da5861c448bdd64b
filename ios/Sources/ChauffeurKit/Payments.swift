#if canImport(Observation)
  import Foundation
  import Observation

  // The payment step for the SwiftUI app. The SDK decides (what is held, charged, refunded;
  // whether a card step waits); this takes the card's payment method id from a
  // `PaymentMethodSource` and hands it to the SDK's hook before booking. Card data never passes
  // through here: only the provider's id for it.

  /// Where a booking's payment method id comes from: the payment provider's own SDK in
  /// production (Stripe's, wired in the app), the test provider's named cards with
  /// `chauffeur-server dev` (`TestCardSource`).
  @MainActor
  public protocol PaymentMethodSource: AnyObject {
    /// The payment method id (`pm_…`) to book `amountMinor` of `currency` with, or `nil` when
    /// the rider closed the provider's card form (nothing is booked). Throws
    /// `CardPaymentsUnavailable` when this build cannot take cards at all.
    func paymentMethod(for setup: PaymentSetup, amountMinor: Int64, currency: String)
      async throws -> String?

    /// The card step (3-D Secure) the provider asked for, run with the booking's
    /// `payment.clientSecret`. True once the rider is done with it, false if they closed it; how
    /// it ended is the server's answer to `confirmPayment`, never this.
    func handleCardStep(clientSecret: String) async throws -> Bool
  }

  /// This build cannot take card payments: the provider's SDK is not wired in.
  public struct CardPaymentsUnavailable: Error, Equatable, Sendable {
    public init() {}
  }

  /// The dev server's test provider's cards (server/src/payments/double.rs), by payment method id.
  public enum TestCard: String, CaseIterable, Identifiable, Sendable {
    /// Authorised.
    case visa = "pm_card_visa"
    /// Asks for the bank's check (3-D Secure): the booking waits in `paymentPending`.
    case threeDSecure = "pm_card_threeDSecure2Required"
    /// Declined: 402 `card_declined`, nothing booked.
    case declined = "pm_card_chargeDeclined"

    public var id: String { rawValue }
  }

  /// The source for `provider == "test"`: the card the picker shows as chosen. Its card step has
  /// nothing to run in the app (the test provider's bank check is settled at the provider
  /// itself), so it returns at once and the server's answer to `confirmPayment` says whether the
  /// check was done.
  @Observable
  @MainActor
  public final class TestCardSource: PaymentMethodSource {
    public var chosen: TestCard = .visa

    public init() {}

    public func paymentMethod(for setup: PaymentSetup, amountMinor: Int64, currency: String)
      async throws -> String?
    {
      chosen.rawValue
    }

    public func handleCardStep(clientSecret: String) async throws -> Bool { true }
  }

  /// A refusal that belongs under the card field, with the SDK's words (the app may put its own
  /// for the codes it knows).
  public struct CardError: Equatable, Sendable {
    public let code: String
    public let message: String

    /// The server's codes that are about the card (the web page puts them on the same field).
    public static let cardCodes: Set<String> = [
      "card_declined", "payment_method_required", "payment_method_invalid",
    ]
    /// This build's own code: no provider SDK to take the card.
    public static let unavailable = "card_payments_unavailable"

    public init(code: String, message: String) {
      self.code = code
      self.message = message
    }
  }

  /// One amount of a booking's payment.
  public enum PaymentLine: Equatable, Sendable {
    /// On hold on the card (while authorised or waiting for the card step).
    case held
    case charged
    /// Charged beyond the hold, as a second charge.
    case chargedSeparately
    case refunded
  }

  /// An amount of the payment, in minor units of the payment's currency.
  public struct PaymentAmount: Equatable, Sendable {
    public let line: PaymentLine
    public let minor: Int64

    public init(line: PaymentLine, minor: Int64) {
      self.line = line
      self.minor = minor
    }
  }

  extension Payment {
    /// The amounts the booking screen shows, as the SDK gives them: held (while authorised or
    /// waiting for the card step), charged, charged separately, refunded (each when not zero).
    public var amounts: [PaymentAmount] {
      var amounts: [PaymentAmount] = []
      if status == .authorized || status == .requiresAction {
        amounts.append(PaymentAmount(line: .held, minor: heldMinor))
      }
      if capturedMinor > 0 { amounts.append(PaymentAmount(line: .charged, minor: capturedMinor)) }
      if extraChargedMinor > 0 {
        amounts.append(PaymentAmount(line: .chargedSeparately, minor: extraChargedMinor))
      }
      if refundedMinor > 0 { amounts.append(PaymentAmount(line: .refunded, minor: refundedMinor)) }
      return amounts
    }
  }

  /// The payment step the screens share: the server's setup, the test card picker, which source
  /// a booking takes its card from, and the card's refusal.
  @Observable
  @MainActor
  public final class PaymentStep {
    /// Which card payment the server takes, once loaded.
    public private(set) var setup: PaymentSetup?
    /// A refusal of the card (or no source for it), shown under the card field.
    public private(set) var cardError: CardError?
    public let testCards = TestCardSource()
    /// The provider's SDK this build has for a real provider (Stripe's, once wired); `nil`: none.
    @ObservationIgnored public let providerSource: (any PaymentMethodSource)?

    public init(providerSource: (any PaymentMethodSource)? = nil) {
      self.providerSource = providerSource
    }

    /// Reads the server's payment setup (once).
    public func load(_ model: RiderModel) async throws {
      if setup == nil { setup = try await model.paymentSetup() }
    }

    /// The source for the server's provider: none for `none` (no card is asked), the test cards
    /// for `test`, the provider's SDK otherwise.
    public var source: (any PaymentMethodSource)? {
      switch setup?.provider ?? "none" {
      case "none": return nil
      case "test": return testCards
      default: return providerSource
      }
    }

    /// Takes the card from the source, hands it to the SDK's payment hook, then books. A refused
    /// card (or no way to take one) leaves `cardError` set and nothing booked; other failures
    /// are in `model.error`. True when booked.
    public func book(_ quote: QuoteOption, model: RiderModel) async -> Bool {
      cardError = nil
      do {
        try await load(model)
        guard let setup else { return false }
        if setup.provider == "none" {
          model.usePaymentMethod(nil)
        } else {
          guard let source else { throw CardPaymentsUnavailable() }
          guard
            let card = try await source.paymentMethod(
              for: setup, amountMinor: quote.totalMinor, currency: quote.currency)
          else { return false }
          model.usePaymentMethod(card)
        }
        try await model.book(quote.class)
        return true
      } catch let error as ChauffeurKitError where CardError.cardCodes.contains(error.code) {
        cardError = CardError(code: error.code, message: error.message)
        model.clearError()
      } catch is CardPaymentsUnavailable {
        cardError = CardError(
          code: CardError.unavailable,
          message: "Card payments need the \(setup?.provider ?? "provider's") SDK.")
      } catch {
        // In `model.error`, which the screen shows.
      }
      return false
    }

    /// The card step of a booking waiting in `paymentPending`: the source runs it with the
    /// booking's client secret, then the server says how it ended (in `model.state.selected`).
    public func runCardStep(_ bookingId: String, model: RiderModel) async {
      cardError = nil
      do {
        try await load(model)
        if model.state.selected?.booking.id != bookingId {
          try await model.openBooking(bookingId)
        }
        if let secret = model.state.selected?.payment?.clientSecret, setup?.provider != "none" {
          guard let source else { throw CardPaymentsUnavailable() }
          guard try await source.handleCardStep(clientSecret: secret) else { return }
        }
        try await model.confirmPayment(bookingId)
        try await model.openBooking(bookingId)
      } catch is CardPaymentsUnavailable {
        cardError = CardError(
          code: CardError.unavailable,
          message: "Card payments need the \(setup?.provider ?? "provider's") SDK.")
      } catch {
        // In `model.error`, which the screen shows.
      }
    }
  }
#endif
