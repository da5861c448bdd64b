import ChauffeurKit
import SwiftUI

/// My bookings as the core sorts them: refused intents (explained until dismissed), waiting to
/// be sent, upcoming, past.
struct BookingsView: View {
  let model: RiderModel

  var body: some View {
    List {
      if !model.state.refused.isEmpty {
        Section("Not done") {
          ForEach(model.state.refused, id: \.seq) { refusal in
            VStack(alignment: .leading) {
              Text(refusal.explanation)
              Button("Dismiss") { run { try await model.dismissRefusal(refusal) } }
            }
          }
        }
      }
      rows("Waiting to be sent", model.state.pendingSync)
      rows("Upcoming", model.state.upcoming)
      rows("Past", model.state.past)
    }
    .navigationTitle("My rides")
    .refreshable { try? await model.refresh() }
    .task { try? await model.refresh() }
  }

  @ViewBuilder
  private func rows(_ title: LocalizedStringKey, _ bookings: [BookingSummary]) -> some View {
    if !bookings.isEmpty {
      Section(title) {
        ForEach(bookings, id: \.id) { booking in
          NavigationLink {
            BookingView(model: model, bookingId: booking.id)
          } label: {
            VStack(alignment: .leading) {
              Text(booking.pickupAt, format: .dateTime)
              Text(
                "\(booking.class.label) · \(booking.state.label) · \(booking.localPrice)"
              ).font(.footnote)
            }
          }
        }
      }
    }
  }
}
