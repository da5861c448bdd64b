import Foundation

// Swift concurrency over the SDK's listeners: a stream's iteration owns the Rust listener or
// subscription, so ending the iteration (a cancelled task, a `break`) stops it in Rust.

extension RiderApp {
  /// Every state the rider flow goes through, starting with the current one, never an older
  /// one after a newer one. Any number of iterations may run at once (the model's and a
  /// screen's); the SDK's one state listener is set while at least one runs.
  public func states() -> AsyncStream<RiderState> {
    AsyncStream(bufferingPolicy: .unbounded) { continuation in
      let forwarder = StateForwarder(continuation)
      let hub = StateHub.subscribe(forwarder, to: self)
      forwarder.offer(state())
      continuation.onTermination = { _ in hub.unsubscribe(forwarder) }
    }
  }

  /// The events of a ride while iterated: status changes (resumed after a reconnect, with a
  /// polling fallback) and the chauffeur's position. The subscription retries a broken stream by
  /// itself; a permanent refusal (the booking is unknown, the session is gone) comes from the SDK
  /// as `onEnded` and ends the stream by throwing a `ChauffeurKitError.refused` with the server's
  /// code and status.
  public func rideEvents(bookingId: String) -> AsyncThrowingStream<RideEvent, Error> {
    AsyncThrowingStream(bufferingPolicy: .unbounded) { continuation in
      let owner = SubscriptionOwner()
      let listener = RideForwarder(continuation: continuation, owner: owner)
      let starting = Task {
        do {
          let subscription = try await ChauffeurKitError.wrapping {
            try await self.followRide(bookingId: bookingId, listener: listener)
          }
          owner.adopt(subscription)
        } catch {
          continuation.finish(throwing: error)
        }
      }
      continuation.onTermination = { _ in
        starting.cancel()
        owner.cancel()
      }
    }
  }

  /// Just the ride's states (`pending`, `confirmed`, ..., `cancelled`), each once, in order.
  public func rideStatuses(bookingId: String) -> AsyncThrowingStream<BookingState, Error> {
    let events = rideEvents(bookingId: bookingId)
    return AsyncThrowingStream { continuation in
      let forwarding = Task {
        do {
          var last: BookingState?
          for try await event in events {
            guard let state = event.state, state != last else { continue }
            last = state
            continuation.yield(state)
          }
          continuation.finish()
        } catch {
          continuation.finish(throwing: error)
        }
      }
      continuation.onTermination = { _ in forwarding.cancel() }
    }
  }
}

/// The SDK's state listener of one RiderApp, fanned out to every running `states()` iteration.
/// Subscribing and unsubscribing (which set the SDK's listener) hold the registry's lock;
/// delivering a state holds only the hub's own, so the two never wait for each other.
private final class StateHub: StateListener, @unchecked Sendable {
  private static let registry = NSLock()
  private static var hubs: [ObjectIdentifier: StateHub] = [:]

  private let lock = NSLock()
  private weak var app: RiderApp?
  private var forwarders: [ObjectIdentifier: StateForwarder] = [:]

  private init(app: RiderApp) { self.app = app }

  /// Adds `forwarder` to the app's hub (a freed app's identifier may be reused: a stale hub is
  /// replaced), setting the SDK's listener for the first one.
  static func subscribe(_ forwarder: StateForwarder, to app: RiderApp) -> StateHub {
    registry.lock()
    defer { registry.unlock() }
    let hub: StateHub
    if let existing = hubs[ObjectIdentifier(app)], existing.app === app {
      hub = existing
    } else {
      hub = StateHub(app: app)
      hubs[ObjectIdentifier(app)] = hub
    }
    hub.lock.lock()
    let first = hub.forwarders.isEmpty
    hub.forwarders[ObjectIdentifier(forwarder)] = forwarder
    hub.lock.unlock()
    if first { app.setListener(listener: hub) }
    return hub
  }

  /// Removes `forwarder`; the last one out removes the SDK's listener.
  func unsubscribe(_ forwarder: StateForwarder) {
    Self.registry.lock()
    defer { Self.registry.unlock() }
    lock.lock()
    forwarders[ObjectIdentifier(forwarder)] = nil
    let empty = forwarders.isEmpty
    lock.unlock()
    guard empty, let app else { return }
    app.setListener(listener: nil)
    if Self.hubs[ObjectIdentifier(app)] === self { Self.hubs[ObjectIdentifier(app)] = nil }
  }

  func onState(state: RiderState) {
    lock.lock()
    let current = Array(forwarders.values)
    lock.unlock()
    for forwarder in current { forwarder.offer(state) }
  }
}

/// Passes every state on, never one older than a state already passed (the SDK may report two
/// changes made at once in either order).
private final class StateForwarder: @unchecked Sendable {
  private let continuation: AsyncStream<RiderState>.Continuation
  private let lock = NSLock()
  private var shownRevision: Int64?

  init(_ continuation: AsyncStream<RiderState>.Continuation) {
    self.continuation = continuation
  }

  func offer(_ state: RiderState) {
    lock.lock()
    defer { lock.unlock() }
    if let shown = shownRevision, shown >= state.revision { return }
    shownRevision = state.revision
    continuation.yield(state)
  }
}

/// Holds the Rust subscription of a stream, which may end before the subscription exists.
private final class SubscriptionOwner: @unchecked Sendable {
  private let lock = NSLock()
  private var subscription: RideSubscription?
  private var cancelled = false

  func adopt(_ subscription: RideSubscription) {
    lock.lock()
    let alreadyCancelled = cancelled
    if !alreadyCancelled { self.subscription = subscription }
    lock.unlock()
    if alreadyCancelled { subscription.cancel() }
  }

  func cancel() {
    lock.lock()
    cancelled = true
    let subscription = self.subscription
    self.subscription = nil
    lock.unlock()
    subscription?.cancel()
  }
}

private final class RideForwarder: RideListener, @unchecked Sendable {
  private let continuation: AsyncThrowingStream<RideEvent, Error>.Continuation
  private let owner: SubscriptionOwner

  init(continuation: AsyncThrowingStream<RideEvent, Error>.Continuation, owner: SubscriptionOwner) {
    self.continuation = continuation
    self.owner = owner
  }

  func onEvent(event: RideEvent) {
    continuation.yield(event)
  }

  func onInterrupted(reason: String, retryInMs: Int64) {
    // The subscription retries by itself; a permanent refusal comes as `onEnded`.
  }

  func onEnded(ended: RideEnded) {
    owner.cancel()
    continuation.finish(
      throwing: ChauffeurKitError.refused(
        code: ended.code, status: Int(ended.status), message: ended.message))
  }
}
