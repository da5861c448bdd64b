extension RiderState {
  /// The booking `id` as the state shows it: the opened one first (freshest), then the lists and
  /// the confirmation. Its `canCancel` and `canFollowLive` are the SDK's decision; screens show
  /// their buttons (and the live map) by them.
  public func booking(_ id: String) -> BookingSummary? {
    if let selected, selected.booking.id == id { return selected.booking }
    return (upcoming + past + pendingSync).first { $0.id == id }
      ?? confirmation.flatMap { $0.id == id ? $0 : nil }
  }
}
