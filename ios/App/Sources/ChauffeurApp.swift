import ChauffeurKit
import SwiftUI

/// The rider app: opens the SDK on its cache file and Keychain, then renders `RiderModel`.
/// Every decision (validation, prices, what may be booked or cancelled) is the core's.
@main
struct ChauffeurApp: App {
  @State private var model: RiderModel?
  @State private var failure: String?

  var body: some Scene {
    WindowGroup {
      Group {
        if let model {
          RootView(model: model)
        } else if let failure {
          ContentUnavailableView(
            "Chauffeur cannot start", systemImage: "exclamationmark.triangle",
            description: Text(failure))
        } else {
          ProgressView()
        }
      }
      .task { await open() }
    }
  }

  private func open() async {
    guard model == nil else { return }
    do {
      let support = try FileManager.default.url(
        for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
      let serverURL = Bundle.main.object(forInfoDictionaryKey: "ChauffeurServerURL") as? String
      model = try await RiderModel.open(
        serverURL: serverURL ?? "https://api.chauffeur.example",
        cacheFile: support.appendingPathComponent("rider-cache.db"),
        storage: try platformSecureStorage(directory: support.appendingPathComponent("secure")))
    } catch {
      failure = ChauffeurKitError(error).message
    }
  }
}

/// Quote, bookings and account, one tab each.
struct RootView: View {
  let model: RiderModel
  /// The payment step (the server's setup, the test card picker), shared by the screens.
  @State private var payments = PaymentStep(providerSource: StripeSource())

  var body: some View {
    TabView {
      NavigationStack { QuoteFormView(model: model) }
        .tabItem { Label("Book", systemImage: "car") }
      NavigationStack { BookingsView(model: model) }
        .tabItem { Label("My rides", systemImage: "list.bullet") }
      NavigationStack { AccountView(model: model) }
        .tabItem { Label("Account", systemImage: "person") }
    }
    .environment(payments)
    .overlay(alignment: .top) {
      if model.state.offline {
        Text("Offline: prices are estimates").font(.footnote).padding(6).background(
          .yellow.opacity(0.8), in: Capsule())
      }
    }
  }
}

/// Runs an action from a button; its failure is in `model.error`, which the screens show.
@MainActor
func run(_ action: @escaping @MainActor () async throws -> Void) {
  Task { try? await action() }
}
