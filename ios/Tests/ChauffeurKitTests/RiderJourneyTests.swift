import ChauffeurKit
import Foundation
import XCTest

/// The rider's journeys through Swift: ChauffeurKit over the generated bindings, the real Rust
/// library and a real `chauffeur-server dev` (scripts/swift-test.sh starts it).
final class RiderJourneyTests: XCTestCase {
  @MainActor
  func testQuotesWithoutAnAccountForATransferAndByTheHour() async throws {
    let install = try Installation()
    let model = try await install.open(serverURL: try TestServer.url())
    model.edit(berlinTrip())
    XCTAssertTrue(model.state.formErrors.isEmpty)

    try await model.requestQuotes()
    let transfer = model.state.quotes
    XCTAssertEqual(transfer.first?.class, .business)
    XCTAssertFalse(transfer.isEmpty)
    for quote in transfer {
      XCTAssertFalse(quote.estimate, "binding quotes, signed by the server")
      XCTAssertNotNil(quote.quoteToken)
      XCTAssertTrue(quote.total.hasPrefix("EUR "), quote.total)
    }
    XCTAssertNil(model.state.signedInAs)

    model.edit(
      .make(cityId: "berlin", pickup: Places.brandenburgGate, hours: 3, pickupLocal: nextWeek()))
    XCTAssertTrue(model.state.formErrors.isEmpty, "\(model.state.formErrors)")
    try await model.requestQuotes()
    let hourly = model.state.quotes
    XCTAssertFalse(hourly.isEmpty)
    XCTAssertTrue(hourly.allSatisfy { !$0.estimate && $0.total.hasPrefix("EUR ") })
    XCTAssertNotEqual(
      hourly.map(\.totalMinor), transfer.map(\.totalMinor), "three hours are not the short transfer"
    )
  }

  @MainActor
  func testPlacesAreFoundByNameAndATappedPointNamesItsCity() async throws {
    let install = try Installation()
    let model = try await install.open(serverURL: try TestServer.url())
    let stations = try await model.searchPlaces("hauptbahnhof", cityId: "berlin")
    XCTAssertEqual(stations.first?.name, "Berlin Hauptbahnhof", "\(stations.map(\.name))")
    let airports = try await model.searchPlaces("BER", cityId: "berlin")
    XCTAssertEqual(airports.first?.airportCode, "BER")
    let near = try await model.placesNear(Places.brandenburgGate)
    XCTAssertEqual(near.cityId, "berlin")
    XCTAssertFalse(near.places.isEmpty)
    let unknown = await failure { _ = try await model.searchPlaces("x", cityId: "atlantis") }
    XCTAssertEqual(unknown?.code, "not_found")
  }

  @MainActor
  func testABadFormFailsWithItsFieldAndCodeAndEveryMissingFieldIsShown() async throws {
    let install = try Installation()
    let model = try await install.open(serverURL: try TestServer.url())
    model.edit(
      .make(
        cityId: "berlin", pickup: Places.brandenburgGate, dropoff: Places.munich,
        pickupLocal: nextWeek()))
    let error = await failure { try await model.requestQuotes() }
    XCTAssertEqual(error?.code, "outside_service_area")
    XCTAssertEqual(error?.field, "dropoff")
    XCTAssertEqual(model.error, error, "kept for the form to show")
    XCTAssertEqual(model.state.formErrors.map(\.field), [.dropoff])
    XCTAssertEqual(model.state.formErrors.map(\.code), ["outside_service_area"])

    // Field by field, without any network.
    model.edit(.make(cityId: "", pickup: nil, passengers: 0))
    XCTAssertEqual(
      model.state.formErrors.map(\.field), [.cityId, .pickup, .dropoff, .passengers])
  }

  @MainActor
  func testSigningUpAndTheServersRefusalsArriveAsSwiftErrors() async throws {
    let install = try Installation()
    let model = try await install.open(serverURL: try TestServer.url())
    model.edit(berlinTrip())
    try await model.requestQuotes()

    let notSignedIn = await failure { try await model.book(.business) }
    XCTAssertEqual(
      notSignedIn, .notSignedIn(code: "not_signed_in", message: notSignedIn?.message ?? ""))

    let wrong = await failure {
      try await model.logIn(email: newEmail("nobody"), password: "wrong password!")
    }
    XCTAssertEqual(wrong?.code, "invalid_credentials")
    XCTAssertEqual(wrong?.status, 401)

    let email = newEmail("signup")
    try await model.signUp(email: email, password: password, name: "Swift Rider")
    XCTAssertEqual(model.state.signedInAs, email)
    XCTAssertNil(model.error, "a successful action clears the last error")
  }

  @MainActor
  func testABookedRideIsFollowedWhileThePartnerAcceptsWithItsStatusesInOrder() async throws {
    let install = try Installation()
    let model = try await install.open(serverURL: try TestServer.url())
    model.edit(berlinTrip())
    try await model.requestQuotes()
    try await model.signUp(email: newEmail("ride"), password: password, name: nil)
    try await model.book(.business)
    let confirmation = try XCTUnwrap(model.state.confirmation)
    XCTAssertEqual(confirmation.state, .pending)
    XCTAssertFalse(confirmation.pendingSync)
    XCTAssertTrue(confirmation.canCancel)
    XCTAssertFalse(confirmation.canFollowLive, "pending: no chauffeur to follow yet")
    XCTAssertEqual(model.state.upcoming.map(\.id), [confirmation.id])

    let (statuses, following) = collect(model.app.rideStatuses(bookingId: confirmation.id))
    let first = try await statuses.next()
    XCTAssertEqual(first, .pending)
    try await TestServer.partnerAccepts(bookingId: confirmation.id)
    let second = try await statuses.next()
    XCTAssertEqual(second, .confirmed)
    try await waitForState(model) { $0.activeRide?.state == .confirmed }
    XCTAssertEqual(model.state.activeRide?.bookingId, confirmation.id)
    following.cancel()
    await following.value

    try await model.openBooking(confirmation.id)
    let history = try XCTUnwrap(model.state.selected?.history)
    XCTAssertEqual(history.map(\.actor), [.rider, .partner])
    XCTAssertEqual(history.map(\.toState), [.pending, .confirmed])
    let confirmed = try XCTUnwrap(model.state.booking(confirmation.id))
    XCTAssertTrue(confirmed.canFollowLive && confirmed.canCancel, "\(confirmed)")
  }

  @MainActor
  func testCancellingTakesTwoStepsFeeFirstThenTheCancellation() async throws {
    let install = try Installation()
    let model = try await install.open(serverURL: try TestServer.url())
    model.edit(berlinTrip())
    try await model.requestQuotes()
    try await model.signUp(email: newEmail("cancel"), password: password, name: nil)
    try await model.book(.business)
    let id = try XCTUnwrap(model.state.confirmation?.id)

    try await model.askToCancel(id)
    let terms = try XCTUnwrap(model.state.cancellation, "step one shows the fee")
    XCTAssertEqual(terms.bookingId, id)
    XCTAssertEqual(terms.feeMinor, 0, "a week ahead cancelling is free")
    XCTAssertFalse(terms.fromCache)
    XCTAssertEqual(model.state.upcoming.map(\.id), [id], "nothing is cancelled before step two")

    try await model.confirmCancellation()
    XCTAssertEqual(model.state.past.map(\.state), [.cancelled])
    XCTAssertTrue(model.state.upcoming.isEmpty)
    XCTAssertNil(model.state.cancellation)

    try await model.openBooking(id)
    let history = try XCTUnwrap(model.state.selected?.history)
    XCTAssertEqual(history.map(\.actor), [.rider, .rider])
    XCTAssertEqual(history.map(\.toState), [.pending, .cancelled])
    let cancelled = try XCTUnwrap(model.state.booking(id))
    XCTAssertFalse(cancelled.canCancel, "the SDK decides: nothing left to cancel")
    XCTAssertFalse(cancelled.canFollowLive, "a finished booking opens no live ride")
  }

  @MainActor
  func testTheCardIsHeldAtBookingADeclineBooksNothingAndNoInvoiceBeforeACharge() async throws {
    let install = try Installation()
    let model = try await install.open(serverURL: try TestServer.url())
    let setup = try await model.paymentSetup()
    XCTAssertEqual(setup.provider, "test", "the dev server pays through its test provider")
    XCTAssertEqual(setup.allowanceBp, 2000)
    model.edit(berlinTrip())
    try await model.requestQuotes()
    let quoted = try XCTUnwrap(model.state.quotes.first { $0.class == .business })
    try await model.signUp(email: newEmail("paying"), password: password, name: nil)

    model.usePaymentMethod("pm_card_chargeDeclined")
    let declined = await failure { try await model.book(.business) }
    XCTAssertEqual(declined?.code, "card_declined")
    XCTAssertEqual(declined?.status, 402)
    try await model.refresh()
    XCTAssertTrue(model.state.upcoming.isEmpty, "a declined card books nothing")
    for refusal in model.state.refused { try await model.dismissRefusal(refusal) }

    model.usePaymentMethod(testCard)
    model.edit(berlinTrip())
    try await model.requestQuotes()
    try await model.book(.business)
    let id = try XCTUnwrap(model.state.confirmation?.id)
    try await model.openBooking(id)
    let payment = try XCTUnwrap(model.state.selected?.payment)
    XCTAssertEqual(payment.status, .authorized)
    let allowance = (quoted.totalMinor * 2000 + 9_999) / 10_000
    XCTAssertEqual(payment.heldMinor, quoted.totalMinor + allowance)
    XCTAssertEqual(payment.capturedMinor, 0)
    XCTAssertNil(payment.clientSecret)
    let noInvoice = await failure { _ = try await model.invoicePDF(id, language: "de") }
    XCTAssertEqual(noInvoice?.code, "no_invoice_yet")
  }
}
