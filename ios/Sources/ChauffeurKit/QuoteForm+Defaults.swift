import Foundation

extension QuoteForm {
  /// A quote form with the usual defaults: a transfer when `dropoff` is given, by the hour when
  /// `hours` is; no `pickupLocal` is as soon as possible. Counts are Swift `Int`s; one out of the
  /// SDK's range is clamped, and the SDK answers with a message on its field (a negative count,
  /// more passengers than any class takes).
  public static func make(
    cityId: String,
    pickup: LatLon?,
    dropoff: LatLon? = nil,
    hours: Int? = nil,
    pickupLocal: LocalDateTime? = nil,
    passengers: Int = 1,
    bags: Int = 0,
    meetAndGreet: Bool = false,
    childSeats: Int = 0,
    flightNumber: String = "",
    notes: String = "",
    dstChoice: DstChoice? = nil
  ) -> QuoteForm {
    QuoteForm(
      cityId: cityId, pickup: pickup, dropoff: dropoff, hours: hours.map { Int32(clamping: $0) },
      pickupLocal: pickupLocal, dstChoice: dstChoice, passengers: Int32(clamping: passengers),
      bags: Int32(clamping: bags), meetAndGreet: meetAndGreet,
      childSeats: Int32(clamping: childSeats), flightNumber: flightNumber, notes: notes)
  }
}

extension LocalDateTime {
  /// The wall-clock date and time a date picker shows for `date` in `calendar` (its time zone),
  /// to the minute: the form reads it in the city's time zone.
  public init(_ date: Date, calendar: Calendar = .current) {
    let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
    self.init(
      year: Int32(clamping: parts.year ?? 0), month: Int32(clamping: parts.month ?? 0),
      day: Int32(clamping: parts.day ?? 0), hour: Int32(clamping: parts.hour ?? 0),
      minute: Int32(clamping: parts.minute ?? 0))
  }

  /// The instant this wall-clock time is in `calendar`'s time zone (for a date picker), or nil
  /// when a part is out of range.
  public func date(in calendar: Calendar = .current) -> Date? {
    let parts = DateComponents(
      year: Int(year), month: Int(month), day: Int(day), hour: Int(hour), minute: Int(minute))
    guard parts.isValidDate(in: calendar) else { return nil }
    return calendar.date(from: parts)
  }
}
