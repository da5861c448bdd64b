import ChauffeurKit
import Foundation
import XCTest

/// The form's types as Swift sees them: `Int` counts (a negative one is a message on its own
/// field), a structured local date and time, and the DST choice in local time with its offset.
final class FormTypesTests: XCTestCase {
  @MainActor
  func testANegativeCountIsAMessageOnItsOwnField() async throws {
    let install = try Installation()
    let model = try await install.open(serverURL: try TestServer.url())
    let trip = berlinTrip()
    let cases: [(QuoteForm, FormField)] = [
      (.make(cityId: "berlin", pickup: trip.pickup, dropoff: trip.dropoff, bags: -1), .bags),
      (
        .make(cityId: "berlin", pickup: trip.pickup, dropoff: trip.dropoff, childSeats: -1),
        .childSeats
      ),
      (.make(cityId: "berlin", pickup: trip.pickup, hours: -2), .hours),
      (
        .make(cityId: "berlin", pickup: trip.pickup, dropoff: trip.dropoff, passengers: -3),
        .passengers
      ),
    ]
    for (form, field) in cases {
      var dated = form
      dated.pickupLocal = nextWeek()
      model.edit(dated)
      XCTAssertEqual(model.state.formErrors.map(\.field), [field], "\(model.state.formErrors)")
      XCTAssertEqual(model.state.formErrors.map(\.code), ["invalid_request"])
    }
    // An Int beyond the SDK's range is clamped, and refused on its field, not wrapped.
    var huge = trip
    huge.passengers = QuoteForm.make(cityId: "", pickup: nil, passengers: Int.max).passengers
    model.edit(huge)
    XCTAssertEqual(model.state.formErrors.map(\.field), [.passengers])
    XCTAssertEqual(model.state.formErrors.map(\.code), ["capacity_exceeded"])
  }

  @MainActor
  func testTheDstChoiceIsShownInLocalTimeWithItsOffset() async throws {
    let install = try Installation()
    let model = try await install.open(serverURL: try TestServer.url())
    // 31 October 2027: Berlin's clocks go back, 02:30 happens twice.
    var form = berlinTrip()
    form.pickupLocal = LocalDateTime(year: 2027, month: 10, day: 31, hour: 2, minute: 30)
    model.edit(form)
    XCTAssertEqual(model.state.formErrors.map(\.code), ["pickup_time_ambiguous"])
    XCTAssertEqual(model.state.dstOptions.map(\.label), ["02:30 (UTC+2)", "02:30 (UTC+1)"])
    XCTAssertEqual(model.state.dstOptions.map(\.choice), [.earlier, .later])
    XCTAssertEqual(model.state.dstOptions.map(\.utcOffsetMinutes), [120, 60])
    let options = model.state.dstOptions
    XCTAssertEqual(options[1].at.timeIntervalSince(options[0].at), 3600)
    form.dstChoice = .later
    model.edit(form)
    XCTAssertTrue(model.state.formErrors.isEmpty, "\(model.state.formErrors)")
    XCTAssertEqual(model.state.dstOptions.count, 2, "the choice stays on screen")
  }

  func testAmountsAndTheVatRateAreFormattedInTheLocaleFromTheSdksNumbers() {
    let british = Locale(identifier: "en_GB")
    XCTAssertEqual(Formatting.money(9300, currency: "EUR", locale: british), "€93.00")
    let german = Formatting.money(9300, currency: "EUR", locale: Locale(identifier: "de_DE"))
    XCTAssertTrue(german.hasPrefix("93,00") && german.hasSuffix("€"), german)
    XCTAssertEqual(Formatting.money(-150, currency: "EUR", locale: british), "-€1.50")
    XCTAssertEqual(Formatting.money(9300, currency: "", locale: british), "")
    XCTAssertEqual(Formatting.percent(0.19, locale: british), "19%")
    XCTAssertEqual(Formatting.percent(0.077, locale: british), "7.7%")
  }

  func testLocalDateTimesConvertFromAndToAPickersDate() throws {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = try XCTUnwrap(TimeZone(identifier: "Europe/Berlin"))
    let local = LocalDateTime(year: 2026, month: 12, day: 8, hour: 14, minute: 30)
    let date = try XCTUnwrap(local.date(in: calendar))
    XCTAssertEqual(date, Date(timeIntervalSince1970: 1_796_736_600))  // 2026-12-08T13:30:00Z
    XCTAssertEqual(LocalDateTime(date, calendar: calendar), local)
    XCTAssertNil(
      LocalDateTime(year: 2027, month: 2, day: 30, hour: 10, minute: 0).date(in: calendar))
  }
}
