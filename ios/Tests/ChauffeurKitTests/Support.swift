import ChauffeurKit
import Foundation
import XCTest

/// What a stream delivered, read by a test with a deadline (so a missing event fails the test
/// instead of hanging the run).
actor Inbox<Element: Sendable> {
  private var items: [Element] = []
  private var ended: Error??

  func put(_ item: Element) { items.append(item) }
  func end(_ error: Error?) { ended = .some(error) }

  /// The next item, or nil once the stream ended; throws the error the stream ended with.
  func next(within seconds: Double = 30, file: StaticString = #filePath, line: UInt = #line)
    async throws -> Element?
  {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      if !items.isEmpty { return items.removeFirst() }
      if let ended {
        if let error = ended { throw error }
        return nil
      }
      try await Task.sleep(nanoseconds: 20_000_000)
    }
    XCTFail("nothing arrived within \(seconds) s", file: file, line: line)
    return nil
  }

  /// Everything delivered so far.
  func received() -> [Element] { items }
}

/// Iterates `stream` into an inbox until the returned task is cancelled.
func collect<Element: Sendable>(_ stream: AsyncThrowingStream<Element, Error>) -> (
  Inbox<Element>, Task<Void, Never>
) {
  let inbox = Inbox<Element>()
  let task = Task {
    do {
      for try await item in stream { await inbox.put(item) }
      await inbox.end(nil)
    } catch {
      await inbox.end(error)
    }
  }
  return (inbox, task)
}

/// An app "installation": its cache file and its secure store, which outlive any one RiderApp.
final class Installation {
  let directory: URL

  init() throws {
    directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("chauffeur-swift-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }

  var cacheFile: URL { directory.appendingPathComponent("cache.db") }

  /// A fresh Swift secure store over the installation's token directory.
  func storage() throws -> SecureStorage {
    try platformSecureStorage(directory: directory.appendingPathComponent("secure"))
  }

  /// The rider app on this installation, paying with the card the dev server's test payment
  /// provider authorises (the dev server takes payments: a booking needs a payment method).
  @MainActor
  func open(serverURL: String) async throws -> RiderModel {
    let model = try await RiderModel.open(
      serverURL: serverURL, cacheFile: cacheFile, storage: try storage())
    model.app.usePaymentMethod(paymentMethodId: testCard)
    return model
  }

  deinit { try? FileManager.default.removeItem(at: directory) }
}

enum Places {
  static let brandenburgGate = LatLon(lat: 52.5163, lon: 13.3777)
  static let alexanderplatz = LatLon(lat: 52.5219, lon: 13.4132)
  static let munich = LatLon(lat: 48.1374, lon: 11.5755)
}

/// Nothing listens there: the server unreachable.
let unreachableServer = "http://127.0.0.1:9"
let password = "correct horse battery"
/// The card the dev server's test payment provider authorises (server/src/payments/double.rs).
let testCard = "pm_card_visa"

/// 14:30 local time, a week from today (a free cancellation, no DST ambiguity).
func nextWeek() -> LocalDateTime {
  var calendar = Calendar(identifier: .gregorian)
  calendar.timeZone = TimeZone(secondsFromGMT: 3600) ?? .gmt
  var day = LocalDateTime(Date().addingTimeInterval(7 * 24 * 3600), calendar: calendar)
  day.hour = 14
  day.minute = 30
  return day
}

func berlinTrip() -> QuoteForm {
  .make(
    cityId: "berlin", pickup: Places.brandenburgGate, dropoff: Places.alexanderplatz,
    pickupLocal: nextWeek(), passengers: 2, bags: 1)
}

func newEmail(_ prefix: String) -> String {
  "swift-\(prefix)-\(UUID().uuidString.lowercased())@example.com"
}

/// Waits until the model's state satisfies `condition` (the state stream delivers changes made
/// in Rust, e.g. by a ride's events).
@MainActor
func waitForState(
  _ model: RiderModel, within seconds: Double = 30, file: StaticString = #filePath,
  line: UInt = #line, _ condition: (RiderState) -> Bool
) async throws {
  let deadline = Date().addingTimeInterval(seconds)
  while !condition(model.state) {
    guard Date() < deadline else {
      XCTFail("the state never got there: \(model.state)", file: file, line: line)
      return
    }
    try await Task.sleep(nanoseconds: 20_000_000)
  }
}

/// The error `action` throws, as the Swift error the app sees.
func failure(
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
