import ChauffeurKit
import Foundation
import XCTest

/// The payment step as the app drives it, against a real `chauffeur-server dev` and its test
/// payment provider: the card comes from the test card picker (not from the installation's
/// default), goes to the SDK's hook, and the booking follows.
final class PaymentStepTests: XCTestCase {
  /// Signed up, with quotes for the Berlin trip: ready to book (the installation is kept alive
  /// with the model, it removes its files when released).
  private struct Ready {
    let install: Installation
    let model: RiderModel
    let quote: QuoteOption
  }

  @MainActor
  private func readyToBook(_ prefix: String) async throws -> Ready {
    let install = try Installation()
    let model = try await install.open(serverURL: try TestServer.url())
    model.usePaymentMethod(nil)  // the payment step must set the card itself
    try await model.signUp(email: newEmail(prefix), password: password, name: nil)
    model.edit(berlinTrip())
    try await model.requestQuotes()
    let quote = try XCTUnwrap(model.state.quotes.first { $0.class == .business })
    return Ready(install: install, model: model, quote: quote)
  }

  @MainActor
  func testTheDevServerOffersTheTestCardsAndADeclinedCardIsRefusedAtTheCardField() async throws {
    let ready = try await readyToBook("pay-declined")
    let (model, quote) = (ready.model, ready.quote)
    let payments = PaymentStep()
    try await payments.load(model)
    XCTAssertEqual(payments.setup?.provider, "test")
    XCTAssertTrue(payments.source === payments.testCards, "the test provider: the picker's card")
    XCTAssertEqual(TestCard.allCases.map(\.rawValue).count, 3)

    payments.testCards.chosen = .declined
    let booked = await payments.book(quote, model: model)
    XCTAssertFalse(booked)
    XCTAssertEqual(payments.cardError?.code, "card_declined")
    XCTAssertNil(model.error, "the refusal is at the card field, not a general error")
    try await model.refresh()
    XCTAssertTrue(model.state.upcoming.isEmpty, "a declined card books nothing")
  }

  @MainActor
  func testAnApprovedCardBooksAndThePaymentShowsTheHold() async throws {
    let ready = try await readyToBook("pay-visa")
    let (model, quote) = (ready.model, ready.quote)
    let payments = PaymentStep()
    let booked = await payments.book(quote, model: model)
    XCTAssertTrue(booked, "\(String(describing: model.error))")
    XCTAssertNil(payments.cardError)
    let id = try XCTUnwrap(model.state.confirmation?.id)
    XCTAssertEqual(model.state.confirmation?.state, .pending)
    try await model.openBooking(id)
    let payment = try XCTUnwrap(model.state.selected?.payment)
    XCTAssertEqual(payment.status, .authorized)
    XCTAssertGreaterThan(payment.heldMinor, quote.totalMinor, "the price and the allowance")
    XCTAssertEqual(payment.amounts, [PaymentAmount(line: .held, minor: payment.heldMinor)])
  }

  @MainActor
  func testAThreeDSecureCardLeavesTheBookingWaitingForItsCardStep() async throws {
    let ready = try await readyToBook("pay-3ds")
    let (model, quote) = (ready.model, ready.quote)
    let payments = PaymentStep()
    try await payments.load(model)
    payments.testCards.chosen = .threeDSecure
    let booked = await payments.book(quote, model: model)
    XCTAssertTrue(booked, "\(String(describing: model.error))")
    let id = try XCTUnwrap(model.state.confirmation?.id)
    XCTAssertEqual(model.state.confirmation?.state, .paymentPending)

    // The test provider's bank check is not done in the app: after the step the server still
    // has the booking waiting, with the client secret for the step.
    await payments.runCardStep(id, model: model)
    XCTAssertNil(model.error)
    let details = try XCTUnwrap(model.state.selected)
    XCTAssertEqual(details.booking.id, id)
    XCTAssertEqual(details.booking.state, .paymentPending)
    let payment = try XCTUnwrap(details.payment)
    XCTAssertEqual(payment.status, .requiresAction)
    XCTAssertFalse((payment.clientSecret ?? "").isEmpty)
    XCTAssertEqual(payment.amounts.map(\.line), [.held])
  }

  func testThePaymentAmountsAreTheSdksFigures() {
    let payment = Payment(
      status: .partiallyRefunded, currency: "EUR", heldMinor: 11_160, capturedMinor: 9_300,
      extraChargedMinor: 1_500, refundedMinor: 2_000, clientSecret: nil, failure: nil)
    XCTAssertEqual(
      payment.amounts,
      [
        PaymentAmount(line: .charged, minor: 9_300),
        PaymentAmount(line: .chargedSeparately, minor: 1_500),
        PaymentAmount(line: .refunded, minor: 2_000),
      ])
    var released = payment
    released.status = .released
    released.capturedMinor = 0
    released.extraChargedMinor = 0
    released.refundedMinor = 0
    XCTAssertEqual(released.amounts, [])
  }
}
