// The rider state's records and enums are generated from chauffeur-core into their own package
// (two UniFFI components cannot share one). These aliases keep them in the SDK's package, so apps
// import everything from com.chauffeur.sdk.
package com.chauffeur.sdk

typealias ActiveRide = com.chauffeur.sdk.core.ActiveRide
typealias AirportInfo = com.chauffeur.sdk.core.AirportInfo
typealias Actor = com.chauffeur.sdk.core.Actor
typealias BookingDetails = com.chauffeur.sdk.core.BookingDetails
typealias BookingState = com.chauffeur.sdk.core.BookingState
typealias BookingSummary = com.chauffeur.sdk.core.BookingSummary
typealias CancellationTerms = com.chauffeur.sdk.core.CancellationTerms
typealias CityInfo = com.chauffeur.sdk.core.CityInfo
typealias DstChoice = com.chauffeur.sdk.core.DstChoice
typealias DstOption = com.chauffeur.sdk.core.DstOption
// An open set of codes (a newer server may add some): a String, compared with the codes the app
// knows.
typealias ErrorCode = com.chauffeur.sdk.core.ErrorCode
typealias EventKind = com.chauffeur.sdk.core.EventKind
typealias ExcludedClass = com.chauffeur.sdk.core.ExcludedClass
typealias FieldError = com.chauffeur.sdk.core.FieldError
typealias FormField = com.chauffeur.sdk.core.FormField
typealias HistoryStep = com.chauffeur.sdk.core.HistoryStep
typealias IntentKind = com.chauffeur.sdk.core.IntentKind
typealias LatLon = com.chauffeur.sdk.core.LatLon
// The form's wall-clock time; java.time.LocalDateTime converts with toPickupLocal()/toJavaLocalDateTime().
typealias LocalDateTime = com.chauffeur.sdk.core.LocalDateTime
// The booking's card payment (held, captured, refunded; the card step's client secret).
typealias Payment = com.chauffeur.sdk.core.Payment
typealias PaymentSetup = com.chauffeur.sdk.core.PaymentSetup
typealias PaymentStatus = com.chauffeur.sdk.core.PaymentStatus
typealias Place = com.chauffeur.sdk.core.Place
typealias PlaceKind = com.chauffeur.sdk.core.PlaceKind
typealias QuoteForm = com.chauffeur.sdk.core.QuoteForm
typealias QuoteOption = com.chauffeur.sdk.core.QuoteOption
typealias Receipt = com.chauffeur.sdk.core.Receipt
typealias ReceiptLine = com.chauffeur.sdk.core.ReceiptLine
typealias RefusedIntent = com.chauffeur.sdk.core.RefusedIntent
typealias RiderState = com.chauffeur.sdk.core.RiderState
typealias VehicleClass = com.chauffeur.sdk.core.VehicleClass
