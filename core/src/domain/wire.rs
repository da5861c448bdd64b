//! The HTTP API's wire contract, typed: every request and answer body of the rider's part of API
//! v1 (quotes, accounts, bookings, history, cancellation), the problem+json error and the
//! payloads of the server-sent ride events. No I/O — these are only shapes with serde. The rider
//! client reads and writes exactly these; the server serialises the same JSON, so it can use
//! them in place of its own copies with no change on the wire.
//!
//! Answers ignore fields they do not know (a newer server may add some); requests refuse them,
//! as the server does. Codes that a newer server may add to ([`ErrorCode`], [`EventKind`]) keep
//! values they do not know instead of failing.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use crate::booking::{Actor, BookingState};
use crate::catalog::{PickupPlace, VehicleClass};
use crate::distance::LatLon;
use crate::fare::{FareLine, FareLineKind, ProductKind, Quote, Receipt};
use crate::money::{Currency, Money};
use crate::payment::{CardPayment, PaymentStatus};
use crate::places::Place;

/// The quote request is the fare engine's own input.
pub use crate::fare::QuoteRequest;

// ---------------------------------------------------------------------------------------------
// Money and quotes

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MoneyView {
    pub amount_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// For display, e.g. "EUR 93.00".
    pub formatted: String,
}

impl From<Money> for MoneyView {
    fn from(m: Money) -> MoneyView {
        MoneyView {
            amount_minor: m.amount_minor,
            currency: m.currency.code().to_owned(),
            formatted: m.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LineView {
    /// base, distance, time, hours, minimum_fare, airport_pickup, meet_and_greet, night,
    /// child_seats, extra_stops, waiting, extra_km, extra_time, rounding.
    pub kind: FareLineKind,
    /// In the kind's unit: metres (distance), seconds (time), hours, seats, stops, minutes,
    /// basis points (night), else 1.
    pub quantity: u64,
    /// In minor units of the quote's currency.
    pub amount_minor: i64,
}

impl From<&FareLine> for LineView {
    fn from(l: &FareLine) -> LineView {
        LineView {
            kind: l.kind,
            quantity: l.quantity,
            amount_minor: l.amount.amount_minor,
        }
    }
}

/// One signed quote: `POST /v1/quotes` answers one per vehicle class that fits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuoteView {
    /// Present this to `POST /v1/bookings` before `valid_until`.
    pub quote_token: String,
    pub class: VehicleClass,
    pub product: ProductKind,
    pub hours: Option<u32>,
    pub total: MoneyView,
    pub net: MoneyView,
    pub vat: MoneyView,
    pub vat_rate_bp: u32,
    pub lines: Vec<LineView>,
    pub distance_m: u32,
    pub duration_s: u32,
    pub pickup_at: DateTime<Utc>,
    /// Wall-clock time in the city's time zone.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub pickup_local: NaiveDateTime,
    pub pickup_place: PickupPlace,
    pub valid_until: DateTime<Utc>,
    pub catalog_version: String,
}

impl QuoteView {
    /// A quote of the fare engine as answered, with the token that signs it.
    pub fn new(quote: &Quote, quote_token: String) -> QuoteView {
        QuoteView {
            quote_token,
            class: quote.class,
            product: quote.product,
            hours: quote.hours,
            total: quote.fare.total.into(),
            net: quote.fare.net.into(),
            vat: quote.fare.vat.into(),
            vat_rate_bp: quote.fare.vat_rate_bp,
            lines: quote.fare.lines.iter().map(LineView::from).collect(),
            distance_m: quote.route.distance_m,
            duration_s: quote.route.duration_s,
            pickup_at: quote.pickup.at,
            pickup_local: quote.pickup.local,
            pickup_place: quote.pickup_place.clone(),
            valid_until: quote.valid_until,
            catalog_version: quote.catalog_version.clone(),
        }
    }
}

/// The answer of `POST /v1/quotes` (whose request is [`QuoteRequest`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuotesResponse {
    pub city_id: String,
    pub catalog_version: String,
    /// One quote per vehicle class that fits the party, cheapest class first.
    pub quotes: Vec<QuoteView>,
}

// ---------------------------------------------------------------------------------------------
// Places

/// The answer of `GET /v1/places`: places matching a text, or nearest to a point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlacesResponse {
    /// Best first: airports, stations and city centres before addresses, then by how well the
    /// name matches (by text) or nearest first (by coordinates).
    pub places: Vec<Place>,
    /// The city the answer is for: the requested one, or the city whose service area holds the
    /// point; null when no city serves it (or a text search across all cities).
    pub city_id: Option<String>,
    /// Always null: one answer holds every place asked for (at most `limit`).
    pub next_cursor: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Accounts

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignUpRequest {
    pub email: String,
    /// At least 10 characters, not one of the most common passwords.
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// What an account is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Rider,
    Partner,
    Chauffeur,
    Operator,
}

impl Role {
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Rider => "rider",
            Role::Partner => "partner",
            Role::Chauffeur => "chauffeur",
            Role::Operator => "operator",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LogInRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionView {
    /// Opaque bearer token: `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: UserView,
}

// ---------------------------------------------------------------------------------------------
// Bookings

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PassengerIn {
    pub name: String,
    /// International format, e.g. +49 30 1234567.
    pub phone: String,
}

/// The body of `POST /v1/bookings` (with an `Idempotency-Key` header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateBookingRequest {
    pub quote_token: String,
    /// Who rides, if not the account holder (a guest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passenger: Option<PassengerIn>,
    /// Required when the pickup is an airport.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flight_number: Option<String>,
    /// Notes to the chauffeur, at most 500 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// If given, must match the child seats the quote was priced with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_seats: Option<u32>,
    /// The payment method id the app's provider SDK produced for the rider's card (e.g.
    /// `pm_…`); required when the server takes payments (`GET /v1/payments/config`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PassengerView {
    pub name: Option<String>,
    pub phone: Option<String>,
}

/// Where and how a booking goes, as it was priced. The rider, the partner holding the ride and
/// its chauffeur see it exactly; an offer shows it as an [`area`](RouteView::area).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RouteView {
    pub pickup: LatLon,
    pub pickup_place: PickupPlace,
    /// Transfers: where the ride ends.
    pub dropoff: Option<LatLon>,
    /// Hourly hires: the hours booked.
    pub hours: Option<u32>,
    /// The road distance and driving time the price was computed for.
    pub distance_m: u32,
    pub duration_s: u32,
    pub extra_stops: u32,
    pub passengers: u32,
    pub bags: u32,
    pub child_seats: u32,
    pub meet_and_greet: bool,
}

impl RouteView {
    /// The route of a quote (extras read from its priced lines).
    pub fn of(quote: &Quote) -> RouteView {
        let quantity_of = |kind: FareLineKind| {
            quote
                .fare
                .lines
                .iter()
                .find(|l| l.kind == kind)
                .map_or(0, |l| u32::try_from(l.quantity).unwrap_or(u32::MAX))
        };
        RouteView {
            pickup: quote.pickup_point,
            pickup_place: quote.pickup_place.clone(),
            dropoff: quote.dropoff_point,
            hours: quote.hours,
            distance_m: quote.route.distance_m,
            duration_s: quote.route.duration_s,
            extra_stops: quantity_of(FareLineKind::ExtraStops),
            passengers: quote.passengers,
            bags: quote.bags,
            child_seats: quantity_of(FareLineKind::ChildSeats),
            meet_and_greet: quantity_of(FareLineKind::MeetAndGreet) > 0,
        }
    }

    /// The same route with its points rounded to 0.01° (about a kilometre): enough for a
    /// partner to decide on an offer, not enough to find a door.
    pub fn area(&self) -> RouteView {
        let round = |p: LatLon| LatLon {
            lat: (p.lat * 100.0).round() / 100.0,
            lon: (p.lon * 100.0).round() / 100.0,
        };
        RouteView {
            pickup: round(self.pickup),
            dropoff: self.dropoff.map(round),
            ..self.clone()
        }
    }
}

/// What a ride finally cost: the quoted lines, the extras after the ride (waiting, extra km or
/// time, declared tolls and parking, their rounding) or a cancellation fee, and the VAT split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReceiptView {
    pub total: MoneyView,
    pub net: MoneyView,
    pub vat: MoneyView,
    pub vat_rate_bp: u32,
    /// The quoted price the rider agreed to.
    pub quoted_total: MoneyView,
    /// What came on top after the ride (zero when nothing did).
    pub extras_total: MoneyView,
    /// The lines charged from the quote (a cancellation: only the fee).
    pub lines: Vec<LineView>,
    /// The lines added after the ride, each its own kind (waiting, extra_km, extra_time, tolls,
    /// parking) and their rounding.
    pub extras: Vec<LineView>,
}

impl ReceiptView {
    /// The receipt of a booking priced by `quote`: lines beyond the quote's are extras.
    pub fn new(quote: &Quote, receipt: &Receipt) -> ReceiptView {
        let lines = &receipt.fare.lines;
        let quoted = if lines.starts_with(&quote.fare.lines) {
            quote.fare.lines.len()
        } else {
            lines.len()
        };
        ReceiptView {
            total: receipt.fare.total.into(),
            net: receipt.fare.net.into(),
            vat: receipt.fare.vat.into(),
            vat_rate_bp: receipt.fare.vat_rate_bp,
            quoted_total: receipt.quoted_total.into(),
            extras_total: receipt.extras_total.into(),
            lines: lines[..quoted].iter().map(LineView::from).collect(),
            extras: lines[quoted..].iter().map(LineView::from).collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookingView {
    pub id: Uuid,
    pub state: BookingState,
    pub city_id: String,
    pub class: VehicleClass,
    pub product: ProductKind,
    pub pickup_at: DateTime<Utc>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub pickup_local: Option<NaiveDateTime>,
    /// The quoted price, with its lines and VAT split.
    pub price: MoneyView,
    pub lines: Vec<LineView>,
    pub net: MoneyView,
    pub vat: MoneyView,
    pub vat_rate_bp: u32,
    /// What the booking was priced for.
    pub route: RouteView,
    pub passenger: PassengerView,
    pub flight_number: Option<String>,
    pub notes: Option<String>,
    pub child_seats: i64,
    pub cancellation_fee: Option<MoneyView>,
    /// What is charged in the end: after completion the receipt's total, after a cancellation
    /// with a fee the fee; none while the ride is ahead or when nothing is charged.
    pub final_price: Option<MoneyView>,
    /// The receipt, once there is a charge (also `GET /v1/bookings/{id}/receipt`).
    pub receipt: Option<ReceiptView>,
    /// The card payment, when the server takes payments.
    #[serde(default)]
    pub payment: Option<PaymentView>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A booking's card payment as the rider sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentView {
    pub status: PaymentStatus,
    /// Held on the card at booking: the quoted price plus the allowance for extras.
    pub held: MoneyView,
    /// Taken from the hold.
    pub captured: MoneyView,
    /// Charged beyond the hold, as a second charge.
    pub extra_charged: MoneyView,
    pub refunded: MoneyView,
    pub refunds: Vec<RefundView>,
    /// While `requires_action`: what the app hands to the provider's SDK for the card step.
    pub client_secret: Option<String>,
    /// Why the payment failed, in the rider's words.
    pub failure: Option<String>,
}

/// A refund, as the rider sees it in the booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefundView {
    pub amount: MoneyView,
    pub reason: String,
    pub at: DateTime<Utc>,
}

impl PaymentView {
    pub fn of(payment: &CardPayment, currency: Currency) -> PaymentView {
        let money = |minor: i64| MoneyView::from(Money::new(minor, currency));
        PaymentView {
            status: payment.status,
            held: money(payment.held_minor),
            captured: money(payment.captured_minor),
            extra_charged: money(payment.extra_minor),
            refunded: money(payment.refunded_minor),
            refunds: payment
                .refunds
                .iter()
                .map(|r| RefundView {
                    amount: money(r.amount_minor),
                    reason: r.reason.clone(),
                    at: r.at,
                })
                .collect(),
            client_secret: payment
                .client_secret
                .clone()
                .filter(|_| payment.status == PaymentStatus::RequiresAction),
            failure: payment.failure.clone(),
        }
    }
}

/// Which card payment the server takes, for the app to load the matching provider SDK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentsConfigView {
    /// `none` (no payment taken: bookings carry no payment), `stripe`, or `test` (the local
    /// test provider; its cards are `pm_card_visa`, `pm_card_chargeDeclined`,
    /// `pm_card_threeDSecure2Required`).
    pub provider: String,
    /// The provider's publishable key for its client SDK, if it has one.
    pub publishable_key: Option<String>,
    /// The allowance held over the quoted price for extras, in basis points.
    pub allowance_bp: u32,
}

/// An operator's refund of part or all of what a booking's card was charged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    pub amount_minor: i64,
    /// Why, as the rider will read it in the booking.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookingList {
    pub bookings: Vec<BookingView>,
    /// Pass as `?cursor=` for the next page; none on the last page.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// History

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryEntryView {
    pub version: i64,
    pub at: DateTime<Utc>,
    /// rider, partner, chauffeur, operator or system.
    pub actor: Actor,
    pub actor_id: Option<Uuid>,
    pub from_state: Option<BookingState>,
    pub to_state: BookingState,
    /// The booking as it was after this change (personal data excluded). Stored history is
    /// append-only and keeps whatever shape the booking had then, so it stays untyped JSON.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub booking: serde_json::Value,
    /// The full earlier version, before this change.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub previous: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryView {
    pub entries: Vec<HistoryEntryView>,
    /// Pass as `?cursor=` for the next page; none on the last page.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Cancellation

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CancellationView {
    pub state: BookingState,
    /// What cancelling now costs; confirm with exactly this amount.
    pub fee: MoneyView,
    pub percent_bp: u32,
    /// When the fee next goes up, if it does.
    pub changes_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// The fee shown by `GET …/cancellation`, in minor units.
    pub acknowledged_fee_minor: i64,
}

// ---------------------------------------------------------------------------------------------
// Problems

/// A stable machine-readable error code: the core's (`CoreError::code`) or the API's own
/// (`unauthenticated`, `not_found`, `busy`, …). Any string is kept, so a code added by a newer
/// server still reaches an older app intact; the constants name the codes the client acts on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrorCode(Cow<'static, str>);

impl ErrorCode {
    pub const UNAUTHENTICATED: ErrorCode = ErrorCode::constant("unauthenticated");
    pub const NOT_FOUND: ErrorCode = ErrorCode::constant("not_found");
    pub const INTERNAL_ERROR: ErrorCode = ErrorCode::constant("internal_error");
    /// The service is overloaded; retry shortly (503 with Retry-After).
    pub const BUSY: ErrorCode = ErrorCode::constant("busy");
    pub const STORAGE_UNAVAILABLE: ErrorCode = ErrorCode::constant("storage_unavailable");
    /// Another request with the same idempotency key is being applied; retry with the key.
    pub const IDEMPOTENCY_KEY_IN_USE: ErrorCode = ErrorCode::constant("idempotency_key_in_use");
    pub const CANCELLATION_FEE_CHANGED: ErrorCode = ErrorCode::constant("cancellation_fee_changed");

    const fn constant(code: &'static str) -> ErrorCode {
        ErrorCode(Cow::Borrowed(code))
    }

    pub fn new(code: impl Into<String>) -> ErrorCode {
        ErrorCode(Cow::Owned(code.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compares with a code's text, as it is written on the wire.
impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl From<&'static str> for ErrorCode {
    fn from(code: &'static str) -> ErrorCode {
        ErrorCode::constant(code)
    }
}

impl From<ErrorCode> for String {
    fn from(code: ErrorCode) -> String {
        code.0.into_owned()
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ErrorCode, D::Error> {
        String::deserialize(deserializer).map(ErrorCode::new)
    }
}

/// The problem+json body (RFC 9457) of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI reference naming the problem type: `/problems/<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code (the apps map it to a message).
    pub code: ErrorCode,
    /// The request field at fault, when one is (not sent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// `cancel_bookings_first`: the bookings to settle before the account can be erased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bookings: Option<Vec<BookingToSettle>>,
}

/// A booking that stands in the way of erasing an account: one that costs a fee to cancel
/// now, or a ride under way (no fee: it cannot be cancelled, only finished).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookingToSettle {
    pub id: Uuid,
    pub state: BookingState,
    pub pickup_at: DateTime<Utc>,
    /// What cancelling it costs now; none for a ride under way.
    pub cancellation_fee: Option<MoneyView>,
}

// ---------------------------------------------------------------------------------------------
// Server-sent events

/// The `event:` name of a server-sent event. Names a newer server adds arrive as `Other`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum EventKind {
    /// A booking changed state ([`StatusEvent`]); stored, with an id to resume after.
    Status,
    /// Where the chauffeur is while on the way ([`PositionEvent`]); not stored, no id.
    Position,
    /// A partner is offered a ride ([`OfferEvent`]).
    Offer,
    /// An offer ran out unanswered ([`OfferClosedEvent`]).
    OfferExpired,
    /// An offer went to another partner ([`OfferClosedEvent`]).
    OfferWithdrawn,
    /// A chauffeur is offered an on-demand ride ([`OnDemandOfferEvent`]).
    OnDemandOffer,
    Other(String),
}

impl EventKind {
    pub fn as_str(&self) -> &str {
        match self {
            EventKind::Status => "status",
            EventKind::Position => "position",
            EventKind::Offer => "offer",
            EventKind::OfferExpired => "offer_expired",
            EventKind::OfferWithdrawn => "offer_withdrawn",
            EventKind::OnDemandOffer => "on_demand_offer",
            EventKind::Other(name) => name,
        }
    }

    pub fn parse(name: &str) -> EventKind {
        match name {
            "status" => EventKind::Status,
            "position" => EventKind::Position,
            "offer" => EventKind::Offer,
            "offer_expired" => EventKind::OfferExpired,
            "offer_withdrawn" => EventKind::OfferWithdrawn,
            "on_demand_offer" => EventKind::OnDemandOffer,
            other => EventKind::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<EventKind, D::Error> {
        String::deserialize(deserializer).map(|name| EventKind::parse(&name))
    }
}

/// Open-ended codes are plain strings in the OpenAPI document.
#[cfg(feature = "openapi")]
mod string_schemas {
    use utoipa::openapi::{RefOr, Schema};
    use utoipa::{PartialSchema, ToSchema};

    use super::{ErrorCode, EventKind};

    impl PartialSchema for ErrorCode {
        fn schema() -> RefOr<Schema> {
            String::schema()
        }
    }
    impl ToSchema for ErrorCode {}

    impl PartialSchema for EventKind {
        fn schema() -> RefOr<Schema> {
            String::schema()
        }
    }
    impl ToSchema for EventKind {}
}

/// The data of a `status` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusEvent {
    pub booking_id: Uuid,
    pub state: BookingState,
    pub version: i64,
    pub at: DateTime<Utc>,
}

/// The data of a `position` event: what a rider sees of the chauffeur on the way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PositionEvent {
    pub booking_id: Uuid,
    pub lat: f64,
    pub lon: f64,
    pub at: DateTime<Utc>,
    /// Estimated seconds to the pickup point.
    pub eta_s: Option<u32>,
}

/// The data of an `offer` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfferEvent {
    pub offer_id: Uuid,
    pub booking_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// The data of `offer_expired` and `offer_withdrawn` events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfferClosedEvent {
    pub offer_id: Uuid,
    pub booking_id: Uuid,
}

/// The data of an `on_demand_offer` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OnDemandOfferEvent {
    pub offer_id: Uuid,
    pub booking_id: Uuid,
    pub chauffeur_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The server writes these as `as_str()`; the wire types read them with serde.
    #[test]
    fn domain_enums_serialise_as_their_snake_case_names() {
        for state in BookingState::ALL {
            assert_eq!(json!(state), json!(state.as_str()));
        }
        for class in VehicleClass::ALL {
            assert_eq!(json!(class), json!(class.as_str()));
        }
        for product in [ProductKind::Transfer, ProductKind::Hourly] {
            assert_eq!(json!(product), json!(product.as_str()));
        }
        for actor in Actor::ALL {
            assert_eq!(json!(actor), json!(actor.as_str()));
        }
        for role in [Role::Rider, Role::Partner, Role::Chauffeur, Role::Operator] {
            assert_eq!(json!(role), json!(role.as_str()));
        }
    }

    #[test]
    fn unknown_codes_and_event_names_are_kept_not_refused() {
        let problem: Problem = serde_json::from_value(json!({
            "type": "/problems/brand_new", "title": "Conflict", "status": 409,
            "detail": "something new", "code": "brand_new", "extra": 1
        }))
        .unwrap();
        assert_eq!(problem.code.as_str(), "brand_new");
        assert_eq!(problem.field, None);
        let code: ErrorCode = serde_json::from_value(json!("busy")).unwrap();
        assert_eq!(code, ErrorCode::BUSY);
        assert_eq!(
            EventKind::parse("ride_rated"),
            EventKind::Other("ride_rated".into())
        );
        for kind in [
            EventKind::Status,
            EventKind::Position,
            EventKind::Offer,
            EventKind::OfferExpired,
            EventKind::OfferWithdrawn,
            EventKind::OnDemandOffer,
        ] {
            assert_eq!(EventKind::parse(kind.as_str()), kind);
        }
    }

    #[test]
    fn a_missing_field_is_a_decode_error() {
        let status = json!({"booking_id": Uuid::nil(), "state": "confirmed", "version": 2});
        assert!(serde_json::from_value::<StatusEvent>(status).is_err());
    }

    /// What the server answers for the README's worked example reads back as the same view.
    #[test]
    fn a_quote_view_round_trips_through_json() {
        let catalog = crate::Catalog::shipped().unwrap();
        let now = "2026-12-01T10:00:00Z".parse().unwrap();
        let request = QuoteRequest {
            city_id: "berlin".into(),
            pickup: crate::LatLon::new(52.3667, 13.5033, "pickup").unwrap(),
            product: crate::ProductRequest::Transfer {
                dropoff: crate::LatLon::new(52.5219, 13.4132, "dropoff").unwrap(),
                stops: vec![],
            },
            pickup_time: crate::PickupTime::Instant {
                at: "2026-12-08T13:00:00Z".parse().unwrap(),
            },
            passengers: 2,
            bags: 2,
            extras: crate::Extras::default(),
        };
        let quotes = crate::quote_all(&catalog, &crate::EstimatedRouter, &request, now).unwrap();
        let view = QuoteView::new(&quotes[0], "token".into());
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["class"], "business");
        assert_eq!(json["product"], "transfer");
        assert_eq!(json["total"]["formatted"], "EUR 93.00");
        assert_eq!(serde_json::from_value::<QuoteView>(json).unwrap(), view);
    }

    /// `/openapi.json` shows the quote request's properties, not an opaque object.
    #[cfg(feature = "openapi")]
    #[test]
    fn the_openapi_schemas_name_their_properties() {
        use utoipa::PartialSchema;
        let schema = |s| serde_json::to_string(&s).unwrap();
        let request = schema(QuoteRequest::schema());
        for field in [
            "city_id",
            "pickup",
            "product",
            "pickup_time",
            "passengers",
            "extras",
        ] {
            assert!(
                request.contains(&format!("\"{field}\"")),
                "{field} in {request}"
            );
        }
        let booking = schema(BookingView::schema());
        assert!(booking.contains("\"cancellation_fee\""), "{booking}");
        assert!(schema(ErrorCode::schema()).contains("\"string\""));
    }

    #[test]
    fn optional_request_fields_are_left_out_not_sent_as_null() {
        let body = CreateBookingRequest {
            quote_token: "t".into(),
            passenger: None,
            flight_number: None,
            notes: None,
            child_seats: Some(1),
            payment_method_id: None,
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"quote_token": "t", "child_seats": 1})
        );
    }
}
