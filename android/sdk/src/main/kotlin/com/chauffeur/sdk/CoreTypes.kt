// The rider state's records and enums are generated from chauffeur-core into their own package
// (two UniFFI components cannot share one). These aliases keep them in the SDK's package, so apps
// import everything from com.chauffeur.sdk.
package com.chauffeur.sdk

typealias ActiveRide = com.chauffeur.sdk.core.ActiveRide
typealias BookingDetails = com.chauffeur.sdk.core.BookingDetails
typealias BookingSummary = com.chauffeur.sdk.core.BookingSummary
typealias CancellationTerms = com.chauffeur.sdk.core.CancellationTerms
typealias DstChoice = com.chauffeur.sdk.core.DstChoice
typealias FieldError = com.chauffeur.sdk.core.FieldError
typealias HistoryStep = com.chauffeur.sdk.core.HistoryStep
typealias LatLon = com.chauffeur.sdk.core.LatLon
typealias QuoteForm = com.chauffeur.sdk.core.QuoteForm
typealias QuoteOption = com.chauffeur.sdk.core.QuoteOption
typealias RefusedIntent = com.chauffeur.sdk.core.RefusedIntent
typealias RiderState = com.chauffeur.sdk.core.RiderState
