import ChauffeurKit
import Foundation
import XCTest

/// The rider's journeys through Swift: ChauffeurKit over the generated bindings, the real Rust
/// library and a real `chauffeur-server dev` (scripts/swift-test.sh starts it).
final class RiderJourneyTests: XCTestCase {
  /// The error `action` throws, as the Swift error the app sees.
  private func failure(
    file: StaticString = #filePath, line: UInt = #line, _ action: () async throws -> Void
  ) async -> ChauffeurKitError? {
    do {
      try await action()
      XCTFail("expected an error", file: file, line: line)
      return nil
    } catch let error as ChauffeurKitError {
      return error
    } catch {
      XCTFail("not a ChauffeurKitError: \(error)", file: file, line: line)
      return nil
    }
  }

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
    XCTAssertEqual(model.state.formErrors.map(\.field), ["dropoff"])
    XCTAssertEqual(model.state.formErrors.map(\.code), ["outside_service_area"])

    // Field by field, without any network.
    model.edit(.make(cityId: "", pickup: nil, passengers: 0))
    XCTAssertEqual(
      model.state.formErrors.map(\.field), ["city", "pickup", "dropoff", "passengers"])
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
  }

  @MainActor
  func
    testReopenedOnTheSameCacheWithTheServerUnreachableTheBookingIsListedAndEstimatesCannotBeBooked()
    async throws
  {
    let install = try Installation()
    let email = newEmail("offline")
    let bookingId: String
    do {
      let online = try await install.open(serverURL: try TestServer.url())
      online.edit(berlinTrip())
      try await online.requestQuotes()
      try await online.signUp(email: email, password: password, name: nil)
      try await online.book(.business)
      bookingId = try XCTUnwrap(online.state.confirmation?.id)
      online.stopWatching()
    }

    // The next start: same cache file, same secure store (a new Swift FileSecureStorage over its
    // directory), no server.
    let offline = try await install.open(serverURL: unreachableServer)
    XCTAssertEqual(offline.state.signedInAs, email, "the session survived in the secure store")
    XCTAssertEqual(
      offline.state.upcoming.map(\.id), [bookingId], "the booking is listed from the cache")

    try await offline.openBooking(bookingId)
    XCTAssertEqual(offline.state.selected?.fromCache, true)
    XCTAssertEqual(offline.state.selected?.booking.id, bookingId)

    offline.edit(berlinTrip())
    try await offline.requestQuotes()
    XCTAssertTrue(offline.state.offline)
    XCTAssertFalse(offline.state.quotes.isEmpty)
    XCTAssertTrue(offline.state.quotes.allSatisfy(\.estimate), "marked as estimates")
    XCTAssertTrue(offline.state.quotes.allSatisfy { $0.quoteToken == nil })
    // The same fare engine the binding exports.
    let direct = try ChauffeurKitError.wrappingSync {
      try estimateFares(form: berlinTrip(), now: Date())
    }
    XCTAssertEqual(direct.map(\.totalMinor), offline.state.quotes.map(\.totalMinor))

    let refused = await failure { try await offline.book(.business) }
    XCTAssertEqual(refused?.code, "estimate_not_bookable")
    XCTAssertEqual(offline.state.upcoming.map(\.id), [bookingId], "nothing was booked")
  }

  @MainActor
  func testABookingMadeOfflineAndRefusedLaterIsExplainedUntilDismissed() async throws {
    let install = try Installation()
    let server = try TestServer.url()
    do {
      let online = try await install.open(serverURL: server)
      online.edit(berlinTrip())
      try await online.requestQuotes()
      XCTAssertTrue(online.state.quotes.allSatisfy { !$0.estimate })
      try await online.signUp(email: newEmail("refused"), password: password, name: nil)
      online.stopWatching()
    }
    do {
      // Offline, the signed quotes are still bookable: the booking waits in the outbox.
      let offline = try await install.open(serverURL: unreachableServer)
      XCTAssertFalse(offline.state.quotes.isEmpty)
      try await offline.book(.business)
      XCTAssertEqual(offline.state.pendingSync.count, 1)
      offline.stopWatching()
    }
    // Meanwhile the quote ran out (the server's clock moves on an hour).
    try await TestServer.moveClock(seconds: 3600)

    let back = try await install.open(serverURL: server)
    try await back.refresh()
    XCTAssertTrue(back.state.pendingSync.isEmpty, "no longer shown as waiting")
    XCTAssertTrue(back.state.upcoming.isEmpty, "never shown as booked")
    let refusal = try XCTUnwrap(back.state.refused.first)
    XCTAssertEqual(back.state.refused.count, 1)
    XCTAssertEqual(refusal.code, "quote_expired")
    XCTAssertEqual(refusal.status, 422)
    XCTAssertEqual(refusal.kind, .createBooking)
    XCTAssertFalse(refusal.explanation.isEmpty)

    try await back.dismissRefusal(refusal)
    XCTAssertTrue(back.state.refused.isEmpty)
    XCTAssertTrue(back.state.pendingSync.isEmpty)
  }

  @MainActor
  func testTheRideStreamEndsWithTheServersRefusalForAMissingBooking() async throws {
    let install = try Installation()
    let model = try await install.open(serverURL: try TestServer.url())

    // Not signed in: the stream ends at once with the SDK's error.
    let (anonymous, _) = collect(model.app.rideEvents(bookingId: UUID().uuidString.lowercased()))
    let notSignedIn = await failure { _ = try await anonymous.next() }
    XCTAssertEqual(notSignedIn?.code, "not_signed_in")

    try await model.signUp(email: newEmail("missing"), password: password, name: nil)
    let (events, following) = collect(
      model.app.rideEvents(bookingId: UUID().uuidString.lowercased()))
    let missing = await failure {
      while try await events.next() != nil {}
    }
    XCTAssertEqual(missing?.status, 404)
    XCTAssertEqual(missing?.code, "not_found")
    await following.value  // the iteration ended by itself
  }

  @MainActor
  func testTheStateStreamShowsEachChangeOnceAndInOrder() async throws {
    let install = try Installation()
    let model = try await install.open(serverURL: try TestServer.url())
    // The model iterates the states too: both are told of every change.
    let (seen, watching) = collect(
      AsyncThrowingStream<RiderState, Error> { continuation in
        let states = model.app.states()
        let forwarding = Task {
          for await state in states { continuation.yield(state) }
          continuation.finish()
        }
        continuation.onTermination = { _ in forwarding.cancel() }
      })
    let current = try await seen.next()
    var last = try XCTUnwrap(current, "the current state, at once")
    XCTAssertTrue(last.quotes.isEmpty)
    _ = model.app.editForm(form: berlinTrip())
    _ = try await model.app.requestQuotes()
    while last.quotes.isEmpty {
      let delivered = try await seen.next()
      let next = try XCTUnwrap(delivered)
      XCTAssertGreaterThan(next.revision, last.revision, "revisions only go up")
      last = next
    }
    XCTAssertEqual(last, model.app.state())
    try await waitForState(model) { $0.revision == last.revision }
    XCTAssertEqual(model.state, last)
    watching.cancel()
    await watching.value
  }
}
