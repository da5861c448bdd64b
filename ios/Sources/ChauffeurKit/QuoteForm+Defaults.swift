extension QuoteForm {
  /// A quote form with the usual defaults: a transfer when `dropoff` is given, by the hour when
  /// `hours` is.
  public static func make(
    cityId: String,
    pickup: LatLon?,
    dropoff: LatLon? = nil,
    hours: UInt32? = nil,
    pickupLocal: String = "",
    passengers: UInt32 = 1,
    bags: UInt32 = 0,
    meetAndGreet: Bool = false,
    childSeats: UInt32 = 0,
    flightNumber: String = "",
    notes: String = "",
    dstChoice: DstChoice? = nil
  ) -> QuoteForm {
    QuoteForm(
      cityId: cityId, pickup: pickup, dropoff: dropoff, hours: hours, pickupLocal: pickupLocal,
      dstChoice: dstChoice, passengers: passengers, bags: bags, meetAndGreet: meetAndGreet,
      childSeats: childSeats, flightNumber: flightNumber, notes: notes)
  }
}
