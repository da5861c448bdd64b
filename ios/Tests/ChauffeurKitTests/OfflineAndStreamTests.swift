import ChauffeurKit
import Foundation
import XCTest

/// The rider's journeys across restarts and connectivity (the same cache reopened with the
/// server unreachable, a refusal after an offline booking), and how the Swift streams start and
/// end, through ChauffeurKit against the real server.
final class OfflineAndStreamTests: XCTestCase {
  @MainActor
  func testReopenedOfflineOnTheSameCacheTheBookingIsListedAndEstimatesAreNotBookable()
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
  func testEndingTheIterationStopsTheRustSubscription() async throws {
    let install = try Installation()
    let model = try await install.open(serverURL: try TestServer.url())
    model.edit(berlinTrip())
    try await model.requestQuotes()
    try await model.signUp(email: newEmail("stop"), password: password, name: nil)
    try await model.book(.business)
    let id = try XCTUnwrap(model.state.confirmation?.id)

    let (statuses, following) = collect(model.app.rideStatuses(bookingId: id))
    let first = try await statuses.next()
    XCTAssertEqual(first, .pending)
    following.cancel()
    await following.value

    // The ride changes while nobody follows it: no event reaches the core any more, so its
    // active ride stays as last heard (the server's safety poll is two seconds).
    try await model.askToCancel(id)
    try await model.confirmCancellation()
    XCTAssertEqual(model.state.past.map(\.state), [.cancelled])
    try await Task.sleep(nanoseconds: 2_500_000_000)
    XCTAssertEqual(model.state.activeRide?.state, .pending)

    // Following again replays the ride up to now.
    let (again, stillFollowing) = collect(model.app.rideStatuses(bookingId: id))
    var replayed: [BookingState] = []
    while replayed.last != .cancelled, let next = try await again.next() {
      replayed.append(next)
    }
    XCTAssertEqual(replayed, [.pending, .cancelled])
    try await waitForState(model) { $0.activeRide?.state == .cancelled }
    stillFollowing.cancel()
    await stillFollowing.value
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
