#if canImport(Observation)
  import Foundation
  import Observation

  /// The rider flow for SwiftUI: the core's `RiderState` to render, the last error to show, and
  /// the rider's actions. Every decision is the core's; this only forwards and publishes.
  ///
  /// Actions throw a `ChauffeurKitError` and also keep it in `error` (with its field, for the
  /// form), so a view can either catch or just render `error`.
  @Observable
  @MainActor
  public final class RiderModel {
    /// What the screens render.
    public private(set) var state: RiderState
    /// The last action's failure, until the next action or `clearError`.
    public private(set) var error: ChauffeurKitError?
    /// An action is under way.
    public private(set) var busy = false

    public let app: RiderApp
    @ObservationIgnored private var watching: Task<Void, Never>?

    public init(app: RiderApp) {
      self.app = app
      self.state = app.state()
    }

    /// Opens the rider app on its cache file (no network) and starts following its state.
    public static func open(
      serverURL: String, cacheFile: URL, storage: SecureStorage
    ) async throws -> RiderModel {
      let app = try await ChauffeurKitError.wrapping {
        try await openRiderApp(
          config: RiderConfig(serverUrl: serverURL, cachePath: cacheFile.path), storage: storage)
      }
      let model = RiderModel(app: app)
      model.startWatching()
      return model
    }

    /// Follows every change of the state (also those not caused by an action here: a ride's
    /// events, a sync).
    public func startWatching() {
      guard watching == nil else { return }
      let states = app.states()
      watching = Task { [weak self] in
        for await state in states {
          self?.show(state)
        }
      }
    }

    public func stopWatching() {
      watching?.cancel()
      watching = nil
    }

    private func show(_ newState: RiderState) {
      if newState.revision >= state.revision { state = newState }
    }

    private func perform(_ action: () async throws -> RiderState) async throws {
      busy = true
      error = nil
      defer { busy = false }
      do {
        show(try await ChauffeurKitError.wrapping(action))
      } catch {
        let kitError = ChauffeurKitError(error)
        self.error = kitError
        show(app.state())  // e.g. the form's messages after invalid input
        throw kitError
      }
    }

    public func clearError() { error = nil }

    // MARK: The rider's actions

    /// Validates the edited form (no I/O); its messages arrive in `state.formErrors`.
    public func edit(_ form: QuoteForm) {
      show(app.editForm(form: form))
    }

    public func requestQuotes() async throws {
      try await perform { try await app.requestQuotes() }
    }

    public func signUp(email: String, password: String, name: String?) async throws {
      try await perform { try await app.signUp(email: email, password: password, name: name) }
    }

    public func logIn(email: String, password: String) async throws {
      try await perform { try await app.logIn(email: email, password: password) }
    }

    public func logOut(discardUnsent: Bool = false) async throws {
      try await perform { try await app.logOut(discardUnsent: discardUnsent) }
    }

    public func book(_ vehicleClass: VehicleClass) async throws {
      try await perform { try await app.book(class: vehicleClass) }
    }

    public func refresh() async throws {
      try await perform { try await app.refresh() }
    }

    public func openBooking(_ bookingId: String) async throws {
      try await perform { try await app.openBooking(bookingId: bookingId) }
    }

    public func closeBooking() {
      show(app.closeBooking())
    }

    /// Step one of cancelling: the fee to accept, in `state.cancellation`.
    public func askToCancel(_ bookingId: String) async throws {
      try await perform { try await app.cancellationTerms(bookingId: bookingId) }
    }

    /// Step two: cancel, accepting the fee shown in step one.
    public func confirmCancellation() async throws {
      try await perform { try await app.confirmCancellation() }
    }

    public func dismissRefusal(_ refusal: RefusedIntent) async throws {
      try await perform { try await app.dismissRefusal(seq: refusal.seq) }
    }

    // MARK: Payment (card data never passes through here: the provider's SDK makes the id)

    /// Which card payment the server takes (`none`, `stripe`, `test`) and the provider's
    /// publishable key, to set up the provider's SDK.
    public func paymentSetup() async throws -> PaymentSetup {
      try await ChauffeurKitError.wrapping { try await app.paymentsConfig() }
    }

    /// The card the next bookings are paid with: the payment method id the provider's SDK
    /// produced (`pm_…`); `nil` forgets it.
    public func usePaymentMethod(_ paymentMethodId: String?) {
      app.usePaymentMethod(paymentMethodId: paymentMethodId)
    }

    /// After the provider's SDK ran the card step (3-D Secure) with the booking's
    /// `payment.clientSecret`: how it ended, in `state`.
    public func confirmPayment(_ bookingId: String) async throws {
      try await perform { try await app.confirmPayment(bookingId: bookingId) }
    }

    /// The booking's invoice as PDF, in `language` (`de` or `en`), for a share sheet or viewer.
    public func invoicePDF(_ bookingId: String, language: String) async throws -> Data {
      try await ChauffeurKitError.wrapping {
        Data(try await app.invoicePdf(bookingId: bookingId, language: language))
      }
    }

    // MARK: Place search (no state of its own: the form takes the place the rider picks)

    /// Places in `cityId` matching what the rider typed: airports, stations and city centres
    /// first, then a geocoder's addresses where the server has one.
    public func searchPlaces(_ query: String, cityId: String) async throws -> [Place] {
      try await ChauffeurKitError.wrapping {
        try await app.searchPlaces(city: cityId, query: query)
      }
    }

    /// The places nearest to a point (a tap on the map) and the city serving it.
    public func placesNear(_ point: LatLon) async throws -> NearbyPlaces {
      try await ChauffeurKitError.wrapping {
        try await app.placesNear(lat: point.lat, lon: point.lon)
      }
    }
  }
#endif
