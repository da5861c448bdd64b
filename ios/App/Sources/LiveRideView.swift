import ChauffeurKit
import MapKit
import SwiftUI

/// The ride live: its status and the chauffeur on the map, while the view is shown. The
/// subscription lives as long as the view's task; leaving the screen cancels it in Rust.
struct LiveRideView: View {
  let model: RiderModel
  let bookingId: String
  @State private var ended: String?

  var body: some View {
    VStack(alignment: .leading) {
      if let ride = model.state.activeRide, ride.bookingId == bookingId {
        if let state = ride.state {
          Text(state.label).font(.headline)
        }
        Map {
          if let position = ride.chauffeurPosition {
            Annotation(
              "Chauffeur",
              coordinate: CLLocationCoordinate2D(latitude: position.lat, longitude: position.lon)
            ) {
              Image(systemName: "car.fill").padding(4).background(.background, in: Circle())
            }
          }
        }
        .frame(height: 220)
      }
      if let ended {
        Text(ended).font(.footnote).foregroundStyle(.red)
      }
    }
    .task(id: bookingId) {
      // Only a ride the SDK says can be followed: a finished booking opens no live stream.
      guard model.state.booking(bookingId)?.canFollowLive == true else { return }
      do {
        // The model's state follows the ride; the events themselves are not needed here.
        for try await _ in model.app.rideEvents(bookingId: bookingId) {}
      } catch {
        ended = ChauffeurKitError(error).message
      }
    }
  }
}
