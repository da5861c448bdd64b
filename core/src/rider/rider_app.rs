//! The headless rider app (feature `client`): the whole rider flow's state — the quote form with
//! its validation messages, quote results, the booking confirmation, my bookings (upcoming,
//! past, waiting to sync, refused) and the active ride — and the rider's actions on it. Android
//! and iOS render [`RiderState`] and forward taps; nothing about the flow is decided in Kotlin
//! or Swift.
//!
//! Every booking and cancellation goes through the outbox, online or not: the intent and its
//! idempotency key are committed locally first, then sent. So an app killed at any point —
//! before the upload, or after the server committed but before the answer arrived — replays the
//! same key on its next sync and the server applies it exactly once.
//!
//! The decisions of the restart, the lists, booking, syncing and dismissing a refusal are the
//! pure state machine's ([`machine`](crate::rider::machine)); this type drives it — it turns each
//! call into events, executes the effects (network, cache, secure store) and feeds their outcomes
//! back. The other actions still decide here.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};

use crate::booking::{Actor, BookingState};
use crate::cache::{Cache, CacheError, CachedBooking, OutboxEntry, OutboxState};
use crate::catalog::{Catalog, VehicleClass};
use crate::client::{ApiClient, ClientError};
use crate::distance::{EstimatedRouter, LatLon};
use crate::error::CoreError;
use crate::fare::{quote_all, Extras, ProductRequest, Quote, QuoteRequest};
use crate::pickup::{DstChoice, PickupTime};
use crate::ride_events::{subscribe_ride, RideEnd, RideEvent, RideListener, SubscriptionHandle};
use crate::rider::machine::{self, CachedContent, Context, Effect, Event, OutboxAnswer};
use crate::secure_store::SecureStore;
use crate::sync::{cached_from_server, sync_outbox};
use crate::wire::{CancelRequest, ErrorCode, HistoryEntryView, MoneyView, QuotesResponse};

/// The secure-store key of the session token.
const TOKEN_KEY: &str = "session_token";
/// Cache meta keys (non-secret session state).
const META_EMAIL: &str = "signed_in_as";
const META_QUOTES: &str = "recent_quotes";
const META_FORM: &str = "recent_form";

/// What the rider typed, as typed. Validation turns it into a [`QuoteRequest`] or into
/// messages next to the fields.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct QuoteForm {
    /// A [`CityInfo::id`], e.g. `berlin`.
    pub city_id: String,
    /// Where the chauffeur picks the rider up.
    pub pickup: Option<LatLon>,
    /// Where to (a transfer). Leave empty and set `hours` for an hourly hire.
    pub dropoff: Option<LatLon>,
    /// Hours of an hourly hire (leave `dropoff` empty then).
    pub hours: Option<i32>,
    /// Wall-clock date and time in the city; `None` for as soon as possible.
    pub pickup_local: Option<LocalDateTime>,
    /// Which of the two instants, when the time occurs twice (DST ends).
    pub dst_choice: Option<DstChoice>,
    /// At least one.
    pub passengers: i32,
    /// Suitcases; each class takes at most so many.
    pub bags: i32,
    /// The chauffeur waits in the arrivals hall with a name sign (a surcharge).
    pub meet_and_greet: bool,
    /// At most one per passenger (a surcharge each).
    pub child_seats: i32,
    /// Required for airport pickups.
    pub flight_number: String,
    /// For the chauffeur.
    pub notes: String,
}

/// A date and time on a city's wall clock, to the minute, as a date and time picker gives it (no
/// time zone: the form's city has one). Plain signed numbers so Kotlin and Swift see `Int`; a
/// value out of range (month 13, 24:00, 30 February) is the `invalid_time` message on
/// `pickup_local`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LocalDateTime {
    pub year: i32,
    /// 1 to 12.
    pub month: i32,
    /// 1 to 31 (as the month has).
    pub day: i32,
    /// 0 to 23.
    pub hour: i32,
    /// 0 to 59.
    pub minute: i32,
}

impl LocalDateTime {
    /// The wall-clock time, or `None` if a part is out of range.
    pub fn to_naive(&self) -> Option<NaiveDateTime> {
        let part = |v: i32| u32::try_from(v).ok();
        NaiveDate::from_ymd_opt(self.year, part(self.month)?, part(self.day)?)?.and_hms_opt(
            part(self.hour)?,
            part(self.minute)?,
            0,
        )
    }

    /// A wall-clock time, to the minute (seconds dropped).
    pub fn of(at: NaiveDateTime) -> LocalDateTime {
        let int = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        LocalDateTime {
            year: at.year(),
            month: int(at.month()),
            day: int(at.day()),
            hour: int(at.hour()),
            minute: int(at.minute()),
        }
    }

    /// `2026-12-08T14:30` (seconds allowed and dropped), as the HTTP API writes local times.
    pub fn parse(text: &str) -> Option<LocalDateTime> {
        crate::pickup::parse_wall_clock(text).map(LocalDateTime::of)
    }
}

impl std::fmt::Display for LocalDateTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute
        )
    }
}

/// One of the two instants the form's pickup time stands for when it happens twice (the night
/// the clocks go back): what the DST choice shows, in the city's local time with its offset.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DstOption {
    /// The form's `dst_choice` that picks this instant.
    pub choice: DstChoice,
    /// The instant.
    pub at: DateTime<Utc>,
    /// The city's offset from UTC then, in minutes (120 for summer time in Berlin).
    pub utc_offset_minutes: i32,
    /// For the rider: `02:30 (UTC+2)`.
    pub label: String,
}

/// The two instants the form's pickup time stands for, when it happens twice in the form's city
/// (else none): earlier first.
pub fn dst_options(form: &QuoteForm, catalog: &Catalog) -> Vec<DstOption> {
    let (Some(local), Ok(city)) = (
        form.pickup_local.and_then(|l| l.to_naive()),
        catalog.city(form.city_id.trim()),
    ) else {
        return Vec::new();
    };
    let tz = city.tz();
    crate::pickup::overlap_instants(&tz, &local).map_or_else(Vec::new, |both| {
        both.into_iter()
            .map(|(choice, at, offset_s)| DstOption {
                choice,
                at,
                utc_offset_minutes: offset_s / 60,
                label: crate::pickup::wall_clock_with_offset(at, &tz),
            })
            .collect()
    })
}

/// A property of [`QuoteForm`] a message is about (`Form` for the form as a whole). Kotlin and
/// Swift see it as an enum named like their own form properties (`CITY_ID` / `.cityId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum FormField {
    CityId,
    Pickup,
    Dropoff,
    Hours,
    PickupLocal,
    DstChoice,
    Passengers,
    Bags,
    ChildSeats,
    FlightNumber,
    Notes,
    /// The form as a whole (no one property is wrong).
    Form,
}

impl FormField {
    /// The [`QuoteForm`] property's name in Rust (`city_id`, `pickup_local`, …, `form`): the
    /// `field` of [`RiderError::InvalidInput`].
    pub fn as_str(&self) -> &'static str {
        match self {
            FormField::CityId => "city_id",
            FormField::Pickup => "pickup",
            FormField::Dropoff => "dropoff",
            FormField::Hours => "hours",
            FormField::PickupLocal => "pickup_local",
            FormField::DstChoice => "dst_choice",
            FormField::Passengers => "passengers",
            FormField::Bags => "bags",
            FormField::ChildSeats => "child_seats",
            FormField::FlightNumber => "flight_number",
            FormField::Notes => "notes",
            FormField::Form => "form",
        }
    }

    /// The form property a domain error's field (`pickup`, `dropoff`, `extras.child_seats`, …)
    /// is about.
    fn of_domain(field: &str) -> FormField {
        match field {
            "city_id" | "city" => FormField::CityId,
            "pickup" => FormField::Pickup,
            "dropoff" | "stops" => FormField::Dropoff,
            "hours" => FormField::Hours,
            "pickup_time" | "pickup_local" => FormField::PickupLocal,
            "passengers" => FormField::Passengers,
            "bags" => FormField::Bags,
            "extras.child_seats" | "child_seats" => FormField::ChildSeats,
            _ => FormField::Form,
        }
    }
}

/// A city the service runs in, for the city picker.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CityInfo {
    /// The form's `city_id`.
    pub id: String,
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// IANA time zone the form's `pickup_local` is read in, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
    /// Whether "as soon as possible" (an empty `pickup_local`) is offered.
    pub on_demand: bool,
    pub airports: Vec<AirportInfo>,
}

/// An airport of a city (a pickup there needs a flight number).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AirportInfo {
    /// IATA code, e.g. `BER`.
    pub iata: String,
    pub name: String,
    pub location: LatLon,
}

/// The cities of `catalog`, in its order.
pub fn cities_of(catalog: &Catalog) -> Vec<CityInfo> {
    catalog
        .cities()
        .iter()
        .map(|c| CityInfo {
            id: c.id.clone(),
            name: c.name.clone(),
            country: c.country.clone(),
            time_zone: c.tz().name().to_owned(),
            currency: c.currency.code().to_owned(),
            on_demand: c.on_demand,
            airports: c
                .airports
                .iter()
                .map(|a| AirportInfo {
                    iata: a.iata.clone(),
                    name: a.name.clone(),
                    location: LatLon {
                        lat: a.lat,
                        lon: a.lon,
                    },
                })
                .collect(),
        })
        .collect()
}

/// A vehicle class the form's party does not fit, and why (shown greyed out under the quotes).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ExcludedClass {
    pub class: VehicleClass,
    /// `capacity_exceeded` or `hours_out_of_range`.
    pub code: ErrorCode,
    /// For the rider: "First takes at most 3 passengers and 3 bags (asked: 4 passengers, …)".
    pub reason: String,
}

/// A message to show next to one field of the form.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FieldError {
    /// The form property the message is about.
    pub field: FormField,
    /// The stable code (the core's, e.g. `outside_service_area`, or `required`).
    pub code: ErrorCode,
    /// For the rider, next to the field.
    pub message: String,
}

/// One vehicle class's price for the current form.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct QuoteOption {
    /// The class priced (`class` is a keyword in Kotlin: there it reads `` `class` ``).
    pub class: VehicleClass,
    /// The total in minor units of `currency`, VAT included.
    pub total_minor: i64,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
    /// For display: `EUR 93.00`.
    pub total: String,
    /// Computed on the phone from the cached catalog; the server has not signed it, so it
    /// cannot be booked until the app is online again.
    pub estimate: bool,
    /// The server's signature, present when not an estimate.
    pub quote_token: Option<String>,
    /// The pickup instant the form's local time stands for.
    pub pickup_at: DateTime<Utc>,
    /// The price can be booked until then.
    pub valid_until: DateTime<Utc>,
    /// The route's estimated length in metres.
    pub distance_m: i32,
    /// The route's estimated duration in seconds.
    pub duration_s: i32,
    /// The catalog the price comes from.
    pub catalog_version: String,
}

/// A booking as the lists show it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct BookingSummary {
    /// The booking's id (a UUID; a placeholder's id until the server has it).
    pub id: String,
    pub state: BookingState,
    /// A [`CityInfo::id`]; its `time_zone` shows `pickup_at` on the city's clock.
    pub city_id: String,
    pub class: VehicleClass,
    pub pickup_at: DateTime<Utc>,
    /// `EUR 93.00`, or empty when not known yet. Apps format `price_minor` and `currency` in
    /// the device's locale instead.
    pub price: String,
    /// The price in minor units of `currency` (cents).
    pub price_minor: i64,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
    /// Made or changed offline and not confirmed by the server yet.
    pub pending_sync: bool,
    /// Whether to offer "Cancel": the rider may cancel in this state (the booking lifecycle's
    /// rule) and no change to it waits to be sent.
    pub can_cancel: bool,
    /// Whether to offer "Follow live": a chauffeur is arranged and the ride is not over, and the
    /// server knows the booking.
    pub can_follow_live: bool,
}

impl BookingSummary {
    /// Sets the state and what it allows (the flags follow the state, never the apps).
    pub fn set_state(&mut self, state: BookingState) {
        self.state = state;
        self.can_cancel = crate::booking::rider_may_cancel(state) && !self.pending_sync;
        self.can_follow_live = crate::booking::is_followable_live(state) && !self.pending_sync;
    }
}

/// An intent the server refused after it was made (offline, or replayed): kept and explained
/// until the rider dismisses it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RefusedIntent {
    /// The key to dismiss it with.
    pub seq: i64,
    /// The server's HTTP status, when its answer could be read.
    pub status: Option<i32>,
    pub kind: IntentKind,
    /// The booking it was about, once known.
    pub booking_id: Option<String>,
    /// The server's stable code.
    pub code: ErrorCode,
    /// What happened and what to do, for the rider.
    pub explanation: String,
}

/// What an intent in the outbox asks the server to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum IntentKind {
    /// A booking made on this phone.
    CreateBooking,
    /// A cancellation accepted on this phone.
    CancelBooking,
}

impl IntentKind {
    /// The outbox's name for it.
    pub fn as_str(&self) -> &'static str {
        match self {
            IntentKind::CreateBooking => "create_booking",
            IntentKind::CancelBooking => "cancel_booking",
        }
    }

    pub fn parse(text: &str) -> Option<IntentKind> {
        [IntentKind::CreateBooking, IntentKind::CancelBooking]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

impl RefusedIntent {
    /// The refusal as the error of the action that made the intent.
    pub(crate) fn to_error(&self) -> RiderError {
        match self.status.and_then(|s| u16::try_from(s).ok()) {
            Some(status) => RiderError::Refused {
                status,
                code: self.code.clone(),
                detail: self.explanation.clone(),
            },
            None => RiderError::Unexpected(self.explanation.clone()),
        }
    }
}

/// The fee the rider is asked to accept before cancelling.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CancellationTerms {
    pub booking_id: String,
    /// The fee in minor units of the booking's currency (0: free).
    pub fee_minor: i64,
    /// For display: `EUR 45.00`.
    pub fee: String,
    /// Taken from the cached booking because the server could not be reached; the server may
    /// refuse it if the fee has changed meanwhile.
    pub from_cache: bool,
}

/// The ride being followed live.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ActiveRide {
    pub booking_id: String,
    /// None until the first event (or the lists) tell it.
    pub state: Option<BookingState>,
    /// The chauffeur's last known position while on the way.
    pub chauffeur_position: Option<LatLon>,
}

/// One change in a booking's life.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HistoryStep {
    /// The booking's version after the change (1 for its creation).
    pub version: i64,
    pub at: DateTime<Utc>,
    /// Who made the change.
    pub actor: Actor,
    /// None for the creation.
    pub from_state: Option<BookingState>,
    pub to_state: BookingState,
}

/// One line of a receipt.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ReceiptLine {
    /// `base`, `distance`, `time`, `hours`, `airport_pickup`, `waiting`, `extra_km`, `tolls`,
    /// `rounding`, … (the server's fare line kinds).
    pub kind: String,
    /// In the kind's unit: metres, seconds, hours, seats, stops, minutes, or 1.
    pub quantity: i64,
    /// In minor units of the receipt's currency.
    pub amount_minor: i64,
}

/// What the rider was charged: the quoted lines, what came on top after the ride, the VAT.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Receipt {
    /// ISO 4217, e.g. `EUR`; every amount below is in its minor units.
    pub currency: String,
    pub total_minor: i64,
    pub net_minor: i64,
    pub vat_minor: i64,
    /// VAT rate in basis points (1900 = 19 %).
    pub vat_rate_bp: i32,
    /// The same rate as a fraction (0.19), for the platform's percent format: apps show it as
    /// it is and compute nothing.
    pub vat_rate: f64,
    /// The price agreed when booking.
    pub quoted_total_minor: i64,
    /// What came on top after the ride (zero when nothing did).
    pub extras_total_minor: i64,
    /// The lines charged from the quote (for a cancellation: only the fee).
    pub lines: Vec<ReceiptLine>,
    /// The lines added after the ride (waiting, extra kilometres, tolls, …).
    pub extras: Vec<ReceiptLine>,
}

impl Receipt {
    fn of(view: &crate::wire::ReceiptView) -> Receipt {
        let lines = |lines: &[crate::wire::LineView]| {
            lines
                .iter()
                .map(|l| ReceiptLine {
                    kind: serde_json::to_value(l.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    quantity: i64::try_from(l.quantity).unwrap_or(i64::MAX),
                    amount_minor: l.amount_minor,
                })
                .collect()
        };
        Receipt {
            currency: view.total.currency.clone(),
            total_minor: view.total.amount_minor,
            net_minor: view.net.amount_minor,
            vat_minor: view.vat.amount_minor,
            vat_rate_bp: i32::try_from(view.vat_rate_bp).unwrap_or(i32::MAX),
            vat_rate: f64::from(view.vat_rate_bp) / 10_000.0,
            quoted_total_minor: view.quoted_total.amount_minor,
            extras_total_minor: view.extras_total.amount_minor,
            lines: lines(&view.lines),
            extras: lines(&view.extras),
        }
    }
}

/// A booking's card payment: what is held on the card, taken, charged beyond the hold and
/// refunded, all in `currency`'s minor units.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Payment {
    pub status: crate::payment::PaymentStatus,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
    pub held_minor: i64,
    pub captured_minor: i64,
    pub extra_charged_minor: i64,
    pub refunded_minor: i64,
    /// While `RequiresAction`: hand it to the payment provider's SDK for the card step, then
    /// call `confirm_payment`.
    pub client_secret: Option<String>,
    /// Why nothing (or less) was charged, in the rider's words.
    pub failure: Option<String>,
}

impl Payment {
    fn of(view: &crate::wire::PaymentView) -> Payment {
        Payment {
            status: view.status,
            currency: view.held.currency.clone(),
            held_minor: view.held.amount_minor,
            captured_minor: view.captured.amount_minor,
            extra_charged_minor: view.extra_charged.amount_minor,
            refunded_minor: view.refunded.amount_minor,
            client_secret: view.client_secret.clone(),
            failure: view.failure.clone(),
        }
    }
}

/// Which card payment the server takes, for the app to set up the provider's SDK.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PaymentSetup {
    /// `none` (no card needed), `stripe`, or `test` (the dev server's test provider: use
    /// `pm_card_visa` as the card).
    pub provider: String,
    /// The provider's publishable key for its SDK.
    pub publishable_key: Option<String>,
    /// Held over the quoted price for extras, in basis points (2000 = 20 %).
    pub allowance_bp: i32,
}

/// The booking the rider opened, with its history.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct BookingDetails {
    pub booking: BookingSummary,
    pub history: Vec<HistoryStep>,
    /// The server's receipt, once the ride is completed or a cancellation fee charged.
    pub receipt: Option<Receipt>,
    /// The card payment, when the server takes payments.
    pub payment: Option<Payment>,
    /// Read from the cache because the server could not be reached.
    pub from_cache: bool,
}

/// Everything a rider screen renders.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RiderState {
    /// Goes up by one with every change. Listeners may be told of two changes made at once in
    /// either order; a state with a lower revision than one already shown is older: skip it.
    pub revision: i64,
    /// The rider's e-mail while the secure storage holds a session token.
    pub signed_in_as: Option<String>,
    /// The quote form as last edited.
    pub form: QuoteForm,
    /// The form's messages, each on its field.
    pub form_errors: Vec<FieldError>,
    /// When the form's pickup time happens twice (the clocks go back), the two instants to
    /// choose from with `dst_choice`, in local time with their offsets; else empty.
    pub dst_options: Vec<DstOption>,
    /// The prices for the form, one per class the party fits.
    pub quotes: Vec<QuoteOption>,
    /// The city's classes left out of `quotes` because the party does not fit them, with why.
    pub excluded_classes: Vec<ExcludedClass>,
    /// The last booking made, as confirmed by the server or waiting to be sent.
    pub confirmation: Option<BookingSummary>,
    /// Bookings still ahead, soonest first.
    pub upcoming: Vec<BookingSummary>,
    /// Bookings in a final state.
    pub past: Vec<BookingSummary>,
    /// Bookings made or cancelled on this phone, not yet sent.
    pub pending_sync: Vec<BookingSummary>,
    /// Intents the server refused, until dismissed.
    pub refused: Vec<RefusedIntent>,
    /// Step one of a cancellation: the fee to accept.
    pub cancellation: Option<CancellationTerms>,
    /// The booking opened on its own screen.
    pub selected: Option<BookingDetails>,
    /// The ride followed live.
    pub active_ride: Option<ActiveRide>,
    /// The last request could not reach the server.
    pub offline: bool,
    /// A one-line message for a banner.
    pub notice: Option<String>,
}

/// Why an action could not be done. Refusals by the server keep its status and stable code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RiderError {
    #[error("{message}")]
    InvalidInput {
        field: String,
        code: ErrorCode,
        message: String,
    },
    #[error("{detail}")]
    Refused {
        status: u16,
        code: ErrorCode,
        detail: String,
    },
    #[error("the server cannot be reached: {0}")]
    Offline(String),
    #[error("sign in first")]
    NotSignedIn,
    #[error("no {class} quote for this trip; ask for quotes first")]
    NoSuchQuote { class: VehicleClass },
    #[error("this price is an estimate made offline; connect to get a price you can book")]
    EstimateNotBookable,
    #[error("the quote has expired; ask for a new one")]
    QuoteExpired,
    #[error("no such booking {0}")]
    UnknownBooking(String),
    #[error("the app's storage failed: {0}")]
    Storage(String),
    #[error("unexpected answer from the server: {0}")]
    Unexpected(String),
    #[error(
        "{0} change(s) made on this phone have not reached the server yet; connect and refresh \
         first, or sign out discarding them"
    )]
    UnsentChanges(usize),
}

impl RiderError {
    pub fn code(&self) -> &str {
        match self {
            RiderError::InvalidInput { code, .. } | RiderError::Refused { code, .. } => {
                code.as_str()
            }
            RiderError::Offline(_) => "offline",
            RiderError::NotSignedIn => "not_signed_in",
            RiderError::NoSuchQuote { .. } => "no_such_quote",
            RiderError::EstimateNotBookable => "estimate_not_bookable",
            RiderError::QuoteExpired => "quote_expired",
            RiderError::UnknownBooking(_) => "unknown_booking",
            RiderError::Storage(_) => "storage",
            RiderError::Unexpected(_) => "unexpected_answer",
            RiderError::UnsentChanges(_) => "unsent_changes",
        }
    }
}

impl From<ClientError> for RiderError {
    fn from(e: ClientError) -> RiderError {
        match e {
            ClientError::Api {
                status,
                code,
                detail,
            } => RiderError::Refused {
                status,
                code: ErrorCode::new(code),
                detail,
            },
            ClientError::Network(m) => RiderError::Offline(m),
            ClientError::Timeout => RiderError::Offline("the server took too long".into()),
            ClientError::Decode(m) => RiderError::Unexpected(m),
        }
    }
}

impl From<CacheError> for RiderError {
    fn from(e: CacheError) -> RiderError {
        RiderError::Storage(e.to_string())
    }
}

impl From<crate::secure_store::SecureStoreError> for RiderError {
    fn from(e: crate::secure_store::SecureStoreError) -> RiderError {
        RiderError::Storage(e.to_string())
    }
}

impl From<crate::sync::SyncError> for RiderError {
    fn from(e: crate::sync::SyncError) -> RiderError {
        match e {
            crate::sync::SyncError::Cache(e) => e.into(),
        }
    }
}

/// Told of every change of the state (to re-render).
pub trait StateListener: Send + Sync {
    fn on_state(&self, state: RiderState);
}

/// Where the app lives: the server and the cache file.
#[derive(Debug, Clone)]
pub struct RiderConfig {
    pub server_url: String,
    pub cache_path: PathBuf,
}

struct Inner {
    api: ApiClient,
    /// One writer at a time, and one sync round at a time: an entry is never sent twice at once.
    cache: tokio::sync::Mutex<Cache>,
    secrets: Arc<dyn SecureStore>,
    state: Mutex<RiderState>,
    /// The catalog offline estimates use: the server's (by ETag) once fetched, else shipped.
    catalog: Mutex<Arc<Catalog>>,
    listener: Mutex<Option<Arc<dyn StateListener>>>,
    clock: fn() -> DateTime<Utc>,
    /// The card bookings are paid with: the id the app's payment SDK produced.
    payment_method: Mutex<Option<String>>,
}

/// The rider flow. Cheap to clone; clones share the state.
#[derive(Clone)]
pub struct RiderApp {
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves plain data behind; keep going with it.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl RiderApp {
    /// Opens the cache (creating it) and restores what it holds: the signed-in rider, the
    /// catalog, recent quotes and bookings. No network.
    pub async fn open(
        config: RiderConfig,
        secrets: Arc<dyn SecureStore>,
    ) -> Result<RiderApp, RiderError> {
        RiderApp::open_with_clock(config, secrets, Utc::now).await
    }

    /// [`RiderApp::open`] with a clock of the caller's (tests; a clock corrected to the
    /// server's).
    pub async fn open_with_clock(
        config: RiderConfig,
        secrets: Arc<dyn SecureStore>,
        clock: fn() -> DateTime<Utc>,
    ) -> Result<RiderApp, RiderError> {
        let api = ApiClient::new(&config.server_url)?;
        let cache = Cache::open(&config.cache_path)?;
        let catalog = match cache.catalog()? {
            Some((_, json)) => Catalog::from_served_json(json.as_bytes()).ok(),
            None => None,
        };
        let catalog = match catalog {
            Some(c) => c,
            None => Catalog::shipped().map_err(|e| RiderError::Storage(e.to_string()))?,
        };
        // Signed in only while the secure store holds the token: a wiped Keystore or a restored
        // backup keeps the cache's e-mail but not the token, and must show a signed-out rider.
        let has_token = match secrets.load(TOKEN_KEY) {
            Ok(token) => token.is_some_and(|t| !t.is_empty()),
            Err(e) => {
                log::warn!("the secure store cannot be read; signed out: {e}");
                false
            }
        };
        let signed_in_as = if has_token {
            cache.meta(META_EMAIL)?
        } else {
            None
        };
        let content = CachedContent {
            signed_in_as,
            form: cache.meta(META_FORM)?,
            quotes: cache.meta(META_QUOTES)?,
            bookings: cache.bookings()?,
            outbox: cache.outbox()?,
        };
        let app = RiderApp {
            inner: Arc::new(Inner {
                api,
                cache: tokio::sync::Mutex::new(cache),
                secrets,
                state: Mutex::new(RiderState::default()),
                catalog: Mutex::new(Arc::new(catalog)),
                listener: Mutex::new(None),
                clock,
                payment_method: Mutex::new(None),
            }),
        };
        app.drive(Event::Restarted(content)).await?;
        Ok(app)
    }

    /// The current state (in memory; safe on a UI thread).
    pub fn state(&self) -> RiderState {
        lock(&self.inner.state).clone()
    }

    pub fn set_listener(&self, listener: Option<Arc<dyn StateListener>>) {
        *lock(&self.inner.listener) = listener;
    }

    fn now(&self) -> DateTime<Utc> {
        (self.inner.clock)()
    }

    /// Changes the state and tells the listener; returns the new state.
    fn update(&self, change: impl FnOnce(&mut RiderState)) -> RiderState {
        let snapshot = {
            let mut state = lock(&self.inner.state);
            change(&mut state);
            state.revision += 1;
            state.clone()
        };
        let listener = lock(&self.inner.listener).clone();
        if let Some(listener) = listener {
            listener.on_state(snapshot.clone());
        }
        snapshot
    }

    /// Runs the state machine on `event`: the state it answers is kept (and the listener told)
    /// when it says the state changed. The effects are the caller's to execute.
    fn decide(&self, event: Event) -> (RiderState, Vec<Effect>) {
        let catalog = self.catalog();
        let ctx = Context {
            catalog: &catalog,
            now: self.now(),
        };
        let (snapshot, effects, changed) = {
            let mut state = lock(&self.inner.state);
            let (mut next, effects) = machine::update(&state, event, &ctx);
            let changed = effects.contains(&Effect::Notify);
            if changed {
                next.revision = state.revision + 1;
                *state = next;
            }
            (state.clone(), effects, changed)
        };
        if changed {
            let listener = lock(&self.inner.listener).clone();
            if let Some(listener) = listener {
                listener.on_state(snapshot.clone());
            }
        }
        (snapshot, effects)
    }

    /// Feeds `first` to the state machine and executes what it asks, feeding each outcome
    /// back, until nothing is left to do; answers the last state (or the action's error).
    async fn drive(&self, first: Event) -> Result<RiderState, RiderError> {
        let mut events = VecDeque::from([first]);
        let mut state = self.state();
        while let Some(event) = events.pop_front() {
            let (next, effects) = self.decide(event);
            state = next;
            for effect in effects {
                match effect {
                    Effect::Fail(e) => return Err(e),
                    Effect::Notify => {}
                    Effect::SaveIntent {
                        kind,
                        idempotency_key,
                        body,
                        shown,
                    } => {
                        self.inner.cache.lock().await.enqueue(
                            kind.as_str(),
                            &idempotency_key,
                            &body,
                            Some(&shown),
                            self.now(),
                        )?;
                        events.push_back(Event::IntentSaved {
                            kind,
                            idempotency_key,
                            shown,
                        });
                    }
                    Effect::SendOutbox { awaiting, .. } => {
                        // One sync round sends every waiting entry in order (the keys
                        // included); it reads the lists again itself.
                        let confirmed = self.sync_and_reload().await?;
                        state = self.state();
                        if let Some(intent) = awaiting {
                            let answer = self.answer_of(&intent.idempotency_key, confirmed).await?;
                            events.push_back(Event::OutboxAnswered {
                                kind: intent.kind,
                                idempotency_key: intent.idempotency_key,
                                shown: intent.shown,
                                answer,
                            });
                        }
                    }
                    Effect::ForgetSpentQuotes => {
                        self.inner
                            .cache
                            .lock()
                            .await
                            .set_meta(META_QUOTES, "null")?;
                    }
                    Effect::DismissRefused { seq } => {
                        self.inner.cache.lock().await.dismiss_refused(seq)?;
                    }
                    Effect::ReloadLists => {
                        let (bookings, outbox) = {
                            let cache = self.inner.cache.lock().await;
                            (cache.bookings()?, cache.outbox()?)
                        };
                        events.push_back(Event::ListsLoaded { bookings, outbox });
                    }
                }
            }
        }
        Ok(state)
    }

    /// Whether a session token is stored.
    fn signed_in(&self) -> Result<bool, RiderError> {
        match self.signed_in_api() {
            Ok(_) => Ok(true),
            Err(RiderError::NotSignedIn) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn catalog(&self) -> Arc<Catalog> {
        lock(&self.inner.catalog).clone()
    }

    fn signed_in_api(&self) -> Result<ApiClient, RiderError> {
        match self.inner.secrets.load(TOKEN_KEY)? {
            Some(token) if !token.is_empty() => Ok(self.inner.api.with_token(&token)),
            _ => {
                // The token went away under the app (the store was wiped): say so at once.
                if lock(&self.inner.state).signed_in_as.is_some() {
                    self.update(|s| s.signed_in_as = None);
                }
                Err(RiderError::NotSignedIn)
            }
        }
    }

    // -- the quote form --------------------------------------------------------------------

    /// The cities of the catalog the app prices with (the server's once fetched, else the one
    /// shipped in the library). No I/O.
    pub fn cities(&self) -> Vec<CityInfo> {
        cities_of(&self.catalog())
    }

    /// The version of the catalog the app prices with.
    pub fn catalog_version(&self) -> String {
        self.catalog().version().to_owned()
    }

    /// The rider edited the form: validate it (no network) and show the messages. Earlier
    /// quotes no longer match and go.
    pub fn edit_form(&self, form: QuoteForm) -> RiderState {
        let catalog = self.catalog();
        let errors = match validate_form(&form, &catalog, self.now()) {
            Ok(_) => Vec::new(),
            Err(errors) => errors,
        };
        let dst = dst_options(&form, &catalog);
        self.update(|s| {
            if s.form != form {
                s.quotes.clear();
                s.excluded_classes.clear();
            }
            s.form = form;
            s.form_errors = errors;
            s.dst_options = dst;
        })
    }

    /// Places in `city` matching `query` (for the pickup and drop-off fields), best first. Not
    /// part of the state and not cached: a search answers the rider's typing, nothing more.
    pub async fn search_places(
        &self,
        city: &str,
        query: &str,
    ) -> Result<Vec<crate::places::Place>, RiderError> {
        Ok(self.inner.api.places(city, query).await?.places)
    }

    /// The places nearest to a point and the city serving it (`None` outside every city).
    pub async fn places_near(
        &self,
        lat: f64,
        lon: f64,
    ) -> Result<crate::wire::PlacesResponse, RiderError> {
        Ok(self.inner.api.places_near(lat, lon).await?)
    }

    /// Quotes for the form: binding ones from the server, or — when it cannot be reached —
    /// estimates from the same fare engine and the cached catalog, marked as such.
    pub async fn request_quotes(&self) -> Result<RiderState, RiderError> {
        let form = lock(&self.inner.state).form.clone();
        let catalog = self.catalog();
        // The fare engine's own quotes: the check of the form, and the estimates if offline.
        let (request, engine_quotes) = match checked(&form, &catalog, self.now()) {
            Ok(checked) => checked,
            Err(errors) => {
                let first = first_invalid(&errors);
                self.update(|s| s.form_errors = errors);
                return Err(first);
            }
        };
        let excluded = excluded_classes(&catalog, &request, &engine_quotes, self.now());
        match self.inner.api.quotes(&request).await {
            Ok(served) => {
                let quotes = quotes_from_server(&served);
                {
                    let cache = self.inner.cache.lock().await;
                    let form_json = serde_json::to_string(&form)
                        .map_err(|e| RiderError::Storage(e.to_string()))?;
                    let quotes_json = serde_json::to_string(&served)
                        .map_err(|e| RiderError::Storage(e.to_string()))?;
                    cache.set_meta(META_FORM, &form_json)?;
                    cache.set_meta(META_QUOTES, &quotes_json)?;
                }
                Ok(self.update(|s| {
                    s.quotes = quotes;
                    s.excluded_classes = excluded;
                    s.form_errors.clear();
                    s.offline = false;
                    s.notice = None;
                }))
            }
            Err(e) if e.is_offline() => {
                let quotes = as_estimates(&engine_quotes);
                Ok(self.update(|s| {
                    s.quotes = quotes;
                    s.excluded_classes = excluded;
                    s.form_errors.clear();
                    s.offline = true;
                    s.notice =
                        Some("Offline: these prices are estimates until you reconnect.".into());
                }))
            }
            Err(ClientError::Api {
                status,
                code,
                detail,
            }) => {
                let field = field_of_code(&code);
                let code = ErrorCode::new(code);
                self.update(|s| {
                    s.form_errors = vec![FieldError {
                        field,
                        code: code.clone(),
                        message: detail.clone(),
                    }];
                    s.offline = false;
                });
                Err(if status == 422 {
                    RiderError::InvalidInput {
                        field: field.as_str().to_owned(),
                        code,
                        message: detail,
                    }
                } else {
                    RiderError::Refused {
                        status,
                        code,
                        detail,
                    }
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    // -- accounts --------------------------------------------------------------------------

    pub async fn sign_up(
        &self,
        email: &str,
        password: &str,
        name: Option<&str>,
    ) -> Result<RiderState, RiderError> {
        self.inner.api.sign_up(email, password, name).await?;
        self.log_in(email, password).await
    }

    /// Signs in: the token goes to the secure store, the e-mail to the cache; then the rider's
    /// bookings are fetched.
    pub async fn log_in(&self, email: &str, password: &str) -> Result<RiderState, RiderError> {
        let token = self.inner.api.log_in(email, password).await?.token;
        self.inner.secrets.save(TOKEN_KEY, &token)?;
        self.inner.cache.lock().await.set_meta(META_EMAIL, email)?;
        self.update(|s| s.signed_in_as = Some(email.to_owned()));
        self.refresh().await
    }

    /// Signs out here and, when reachable, on the server, and forgets the rider's data on this
    /// phone (another rider may sign in next). Bookings or cancellations still waiting to be
    /// sent are never dropped silently: without `discard_unsent` that is the `unsent_changes`
    /// error.
    pub async fn log_out(&self, discard_unsent: bool) -> Result<RiderState, RiderError> {
        let mut cache = self.inner.cache.lock().await;
        let unsent = cache.pending()?.len();
        if unsent > 0 && !discard_unsent {
            return Err(RiderError::UnsentChanges(unsent));
        }
        if let Ok(api) = self.signed_in_api() {
            // Offline: the token is forgotten here; the server's session expires on its own.
            let _ = api.log_out().await;
        }
        self.inner.secrets.delete(TOKEN_KEY)?;
        cache.clear_rider_data()?;
        drop(cache);
        self.update(|s| {
            *s = RiderState {
                form: std::mem::take(&mut s.form),
                form_errors: std::mem::take(&mut s.form_errors),
                offline: s.offline,
                ..RiderState::default()
            }
        });
        self.reload_lists().await
    }

    // -- bookings --------------------------------------------------------------------------

    /// Books the quoted class. The intent is stored first and then sent; offline it waits in
    /// the outbox and shows as pending sync.
    pub async fn book(&self, class: VehicleClass) -> Result<RiderState, RiderError> {
        let signed_in = self.signed_in()?;
        let payment_method_id = lock(&self.inner.payment_method).clone();
        self.drive(Event::BookTapped {
            class,
            signed_in,
            idempotency_key: uuid::Uuid::new_v4().to_string(),
            payment_method_id,
        })
        .await
    }

    /// The payment hook: the card the next bookings are paid with, as the id the platform's
    /// payment SDK produced for it (Stripe's `pm_…`; the test provider's `pm_card_visa` in
    /// tests). Card details never pass through the SDK. `None` forgets it.
    pub fn use_payment_method(&self, payment_method_id: Option<String>) {
        *lock(&self.inner.payment_method) = payment_method_id
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty());
    }

    /// Which payment provider the server uses (`none`, `stripe`, `test`) and its publishable
    /// key, for the app to set up the provider's SDK.
    pub async fn payments_config(&self) -> Result<PaymentSetup, RiderError> {
        let view = self.inner.api.payments_config().await?;
        Ok(PaymentSetup {
            provider: view.provider,
            publishable_key: view.publishable_key,
            allowance_bp: i32::try_from(view.allowance_bp).unwrap_or(i32::MAX),
        })
    }

    /// The booking's invoice as a PDF, in `language` (`de` or `en`), for the platform's share
    /// sheet or viewer. Refused (`no_invoice_yet`) while nothing is charged.
    pub async fn invoice_pdf(
        &self,
        booking_id: &str,
        language: &str,
    ) -> Result<Vec<u8>, RiderError> {
        let api = self.signed_in_api()?;
        Ok(api.invoice_pdf(booking_id, language).await?)
    }

    /// After the card step (3-D Secure) the provider's SDK ran with the booking's
    /// `payment.client_secret`: asks the server how it ended and refreshes the lists.
    pub async fn confirm_payment(&self, booking_id: &str) -> Result<RiderState, RiderError> {
        let api = self.signed_in_api()?;
        api.confirm_payment(booking_id).await?;
        self.reload_lists().await
    }

    /// Stores an intent in the outbox under `key` (with what the app shows meanwhile), runs a
    /// sync round, and says what became of it.
    async fn send_intent(
        &self,
        kind: IntentKind,
        key: &str,
        body: &str,
        shown: &CachedBooking,
    ) -> Result<OutboxAnswer, RiderError> {
        self.inner
            .cache
            .lock()
            .await
            .enqueue(kind.as_str(), key, body, Some(shown), self.now())?;
        let confirmed = self.sync_and_reload().await?;
        self.answer_of(key, confirmed).await
    }

    /// What became of the intent under `key` in the sync round that confirmed `confirmed`.
    async fn answer_of(
        &self,
        key: &str,
        confirmed: Vec<(String, CachedBooking)>,
    ) -> Result<OutboxAnswer, RiderError> {
        if let Some((_, booking)) = confirmed.into_iter().find(|(k, _)| k == key) {
            return Ok(OutboxAnswer::Booked(Some(booking)));
        }
        let entry = self
            .inner
            .cache
            .lock()
            .await
            .outbox()?
            .into_iter()
            .find(|e| e.idempotency_key == key);
        Ok(match entry {
            Some(e) if e.state == OutboxState::Sent => OutboxAnswer::Booked(None),
            Some(e) => refused_intent(&e).map_or(OutboxAnswer::NoNetwork, OutboxAnswer::Refused),
            None => OutboxAnswer::NoNetwork,
        })
    }

    /// Refreshes the catalog (by ETag), replaces offline estimates with signed quotes, sends
    /// what waits in the outbox, then refreshes the rider's bookings. Offline, the lists come
    /// from the cache. Apps call it on start, on pull-to-refresh and when the network returns.
    pub async fn refresh(&self) -> Result<RiderState, RiderError> {
        self.refresh_catalog().await;
        self.sign_estimates().await;
        let api = match self.signed_in_api() {
            Ok(api) => api,
            Err(RiderError::NotSignedIn) => return Ok(self.state()),
            Err(e) => return Err(e),
        };
        let outbox = self.inner.cache.lock().await.outbox()?;
        self.drive(Event::SyncRequested {
            signed_in: true,
            outbox,
        })
        .await?;
        match api.bookings().await {
            Ok(listed) => {
                let bookings = listed
                    .bookings
                    .iter()
                    .map(cached_from_server)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| RiderError::Storage(e.to_string()))?;
                self.inner.cache.lock().await.put_bookings(&bookings)?;
                self.update(|s| s.offline = false);
            }
            Err(e) if e.is_offline() => {
                self.update(|s| {
                    s.offline = true;
                    s.notice = Some("Offline: showing what this phone knows.".into());
                });
            }
            Err(e) => return Err(e.into()),
        }
        self.reload_lists().await
    }

    /// Back online with estimates on screen: replace them with quotes the server signs.
    async fn sign_estimates(&self) {
        let estimates = {
            let state = lock(&self.inner.state);
            !state.quotes.is_empty() && state.quotes.iter().all(|q| q.estimate)
        };
        if estimates {
            // A failure leaves the estimates (still marked) on screen; nothing else to do.
            let _ = self.request_quotes().await;
        }
    }

    async fn refresh_catalog(&self) {
        let cache = self.inner.cache.lock().await;
        let etag = cache.catalog().ok().flatten().map(|(etag, _)| etag);
        if let Ok(Some((etag, json))) = self.inner.api.catalog_if_changed(etag.as_deref()).await {
            if let Ok(catalog) = Catalog::from_served_json(json.as_bytes()) {
                if cache.put_catalog(&etag, &json).is_ok() {
                    *lock(&self.inner.catalog) = Arc::new(catalog);
                }
            }
        }
        drop(cache);
    }

    /// One sync round (nothing happens when signed out); returns the bookings the server
    /// confirmed, by idempotency key.
    async fn sync_and_reload(&self) -> Result<Vec<(String, CachedBooking)>, RiderError> {
        let confirmed = match self.signed_in_api() {
            Ok(api) => {
                let mut cache = self.inner.cache.lock().await;
                let report = sync_outbox(&mut cache, &api).await?;
                drop(cache);
                if report.waiting > 0 {
                    self.update(|s| s.offline = true);
                }
                report.confirmed
            }
            Err(RiderError::NotSignedIn) => Vec::new(),
            Err(e) => return Err(e),
        };
        self.reload_lists().await?;
        Ok(confirmed)
    }

    /// Rebuilds the lists from the cache.
    async fn reload_lists(&self) -> Result<RiderState, RiderError> {
        let (bookings, outbox) = {
            let cache = self.inner.cache.lock().await;
            (cache.bookings()?, cache.outbox()?)
        };
        // The lists only change the state (or fail): nothing to execute, so no `drive` here,
        // which itself reloads the lists after a sync round.
        let (state, effects) = self.decide(Event::ListsLoaded { bookings, outbox });
        match effects.into_iter().find_map(|e| match e {
            Effect::Fail(e) => Some(e),
            _ => None,
        }) {
            Some(e) => Err(e),
            None => Ok(state),
        }
    }

    /// The rider has read a refusal: it leaves the list.
    pub async fn dismiss_refusal(&self, seq: i64) -> Result<RiderState, RiderError> {
        self.drive(Event::RefusalDismissed { seq }).await
    }

    /// Opens a booking with its history: fetched (and kept) when online, from the cache
    /// when not.
    pub async fn open_booking(&self, booking_id: &str) -> Result<RiderState, RiderError> {
        let api = self.signed_in_api()?;
        let cached = self.cached_booking(booking_id).await?;
        let (entries, from_cache) = match api.history(booking_id).await {
            Ok(history) => {
                let entries = history
                    .entries
                    .into_iter()
                    .map(|step| {
                        // The step itself; `previous` repeats the version before.
                        let step = HistoryEntryView {
                            previous: None,
                            ..step
                        };
                        Ok((step.version, to_json(&step)?))
                    })
                    .collect::<Result<Vec<(i64, String)>, RiderError>>()?;
                self.inner
                    .cache
                    .lock()
                    .await
                    .put_history(booking_id, &entries)?;
                (entries, false)
            }
            Err(e) if e.is_offline() => {
                let entries = self.inner.cache.lock().await.history(booking_id)?;
                (entries, true)
            }
            Err(e) => return Err(e.into()),
        };
        let history: Vec<HistoryStep> = entries
            .iter()
            .map(|(version, json)| {
                let step: HistoryEntryView = from_cached_json(json)?;
                Ok(HistoryStep {
                    version: *version,
                    at: step.at,
                    actor: step.actor,
                    from_state: step.from_state,
                    to_state: step.to_state,
                })
            })
            .collect::<Result<_, RiderError>>()?;
        let shown: ShownBooking = from_cached_json(&cached.json)?;
        let mut booking = summary_of(&cached)?;
        // The server's history is newer than the cached booking when it changed since the last
        // refresh (a partner accepted): its last step is the state, and what it allows.
        if let Some(last) = history
            .last()
            .filter(|_| !from_cache && !booking.pending_sync)
        {
            booking.set_state(last.to_state);
        }
        let details = BookingDetails {
            booking,
            history,
            receipt: shown.receipt.as_ref().map(Receipt::of),
            payment: shown.payment.as_ref().map(Payment::of),
            from_cache,
        };
        Ok(self.update(|s| {
            s.selected = Some(details);
            s.offline = from_cache;
        }))
    }

    /// The rider left the booking's screen.
    pub fn close_booking(&self) -> RiderState {
        self.update(|s| s.selected = None)
    }

    // -- cancelling ------------------------------------------------------------------------

    /// Step one of cancelling: the fee to accept. From the server when reachable, else the
    /// last fee the server showed for that booking (marked so).
    pub async fn cancellation_terms(&self, booking_id: &str) -> Result<RiderState, RiderError> {
        let api = self.signed_in_api()?;
        let terms = match api.cancellation(booking_id).await {
            Ok(preview) => CancellationTerms {
                booking_id: booking_id.to_owned(),
                fee_minor: preview.fee.amount_minor,
                fee: preview.fee.formatted,
                from_cache: false,
            },
            Err(e) if e.is_offline() => {
                let cached = self.cached_booking(booking_id).await?;
                let shown: ShownBooking = from_cached_json(&cached.json)?;
                // No fee on the booking the server last showed: none was due then.
                let fee = shown.cancellation_fee;
                CancellationTerms {
                    booking_id: booking_id.to_owned(),
                    fee_minor: fee.as_ref().map_or(0, |f| f.amount_minor),
                    fee: fee.map(|f| f.formatted).unwrap_or_default(),
                    from_cache: true,
                }
            }
            Err(e) => return Err(e.into()),
        };
        Ok(self.update(|s| s.cancellation = Some(terms)))
    }

    async fn cached_booking(&self, booking_id: &str) -> Result<CachedBooking, RiderError> {
        self.inner
            .cache
            .lock()
            .await
            .bookings()?
            .into_iter()
            .find(|b| b.id == booking_id)
            .ok_or_else(|| RiderError::UnknownBooking(booking_id.to_owned()))
    }

    /// Step two: cancel, accepting the fee shown. Offline it waits in the outbox; a fee that
    /// changed meanwhile comes back as a refusal to review (and a new step one).
    pub async fn confirm_cancellation(&self) -> Result<RiderState, RiderError> {
        self.signed_in_api()?;
        let terms = lock(&self.inner.state)
            .cancellation
            .clone()
            .ok_or_else(|| RiderError::UnknownBooking("(no cancellation in progress)".into()))?;
        let mut shown = self.cached_booking(&terms.booking_id).await?;
        shown.state = "cancelled".into();
        shown.pending_sync = true;
        let key = uuid::Uuid::new_v4().to_string();
        let body = to_json(&CancelRequest {
            acknowledged_fee_minor: terms.fee_minor,
        })?;
        let sent = self
            .send_intent(IntentKind::CancelBooking, &key, &body, &shown)
            .await?;
        self.update(|s| s.cancellation = None);
        match sent {
            OutboxAnswer::Booked(_) => {
                Ok(self.update(|s| s.notice = Some(format!("Cancelled; fee {}.", terms.fee))))
            }
            OutboxAnswer::Refused(refusal) => {
                // The booking goes back to what the server says it is.
                self.refresh().await?;
                Err(refusal.to_error())
            }
            OutboxAnswer::NoNetwork => Ok(self.update(|s| {
                s.notice = Some(
                    "Saved on this phone; it will be cancelled when you are back online.".into(),
                )
            })),
        }
    }

    // -- the live ride ---------------------------------------------------------------------

    /// Follows a booking live: the active ride in the state follows its status and the
    /// chauffeur's position, and `listener` (if any) gets every event. Stops when the handle is
    /// cancelled or dropped. Needs a tokio runtime.
    pub fn follow_ride(
        &self,
        booking_id: &str,
        listener: Option<Arc<dyn RideListener>>,
    ) -> Result<SubscriptionHandle, RiderError> {
        let api = self.signed_in_api()?;
        let known_state = {
            let state = lock(&self.inner.state);
            state
                .upcoming
                .iter()
                .chain(&state.past)
                .find(|b| b.id == booking_id)
                .map(|b| b.state)
        };
        self.update(|s| {
            s.active_ride = Some(ActiveRide {
                booking_id: booking_id.to_owned(),
                state: known_state,
                chauffeur_position: None,
            })
        });
        let follower = Arc::new(RideFollower {
            app: self.clone(),
            booking_id: booking_id.to_owned(),
            forward: listener,
        });
        Ok(subscribe_ride(&api, booking_id, None, follower))
    }

    fn on_ride_event(&self, booking_id: &str, event: &RideEvent) {
        let new_state = event.booking_state();
        let position = event.position();
        self.update(|s| {
            let Some(ride) = s
                .active_ride
                .as_mut()
                .filter(|r| r.booking_id == booking_id)
            else {
                return;
            };
            if let Some(state) = new_state {
                // The chauffeur's position is only shown while they are on the way.
                if !matches!(state, BookingState::EnRoute | BookingState::Arrived) {
                    ride.chauffeur_position = None;
                }
                ride.state = Some(state);
            }
            if position.is_some() {
                ride.chauffeur_position = position;
            }
            if let Some(state) = ride.state {
                for b in s.upcoming.iter_mut().filter(|b| b.id == booking_id) {
                    b.set_state(state);
                }
                if let Some(selected) = s.selected.as_mut().filter(|d| d.booking.id == booking_id) {
                    selected.booking.set_state(state);
                }
            }
        });
    }
}

struct RideFollower {
    app: RiderApp,
    booking_id: String,
    forward: Option<Arc<dyn RideListener>>,
}

impl RideListener for RideFollower {
    fn on_event(&self, event: RideEvent) {
        self.app.on_ride_event(&self.booking_id, &event);
        if let Some(forward) = &self.forward {
            forward.on_event(event);
        }
    }

    fn on_interrupted(&self, reason: String, retry_in: std::time::Duration) {
        if let Some(forward) = &self.forward {
            forward.on_interrupted(reason, retry_in);
        }
    }

    fn on_ended(&self, end: RideEnd) {
        self.app.update(|s| {
            if s.active_ride.as_ref().map(|r| r.booking_id.as_str()) == Some(&self.booking_id) {
                s.active_ride = None;
            }
            s.notice = Some(format!(
                "This ride can no longer be followed: {}",
                end.detail
            ));
        });
        if let Some(forward) = &self.forward {
            forward.on_ended(end);
        }
    }
}

/// What the app shows of a booking made offline until the server has it: the fields of a
/// [`BookingView`](crate::wire::BookingView) it knows already.
#[derive(serde::Serialize)]
pub(crate) struct PlaceholderBooking {
    pub(crate) id: String,
    pub(crate) state: BookingState,
    pub(crate) city_id: String,
    pub(crate) class: VehicleClass,
    pub(crate) pickup_at: DateTime<Utc>,
    pub(crate) price: MoneyView,
}

/// What the lists read back from a cached booking's JSON: a [`BookingView`](crate::wire::BookingView) the server sent,
/// or a [`PlaceholderBooking`].
#[derive(serde::Deserialize)]
struct ShownBooking {
    class: VehicleClass,
    price: MoneyView,
    /// Only on a [`BookingView`](crate::wire::BookingView).
    #[serde(default)]
    cancellation_fee: Option<MoneyView>,
    /// Only on a [`BookingView`](crate::wire::BookingView), once charged.
    #[serde(default)]
    receipt: Option<crate::wire::ReceiptView>,
    /// Only on a [`BookingView`](crate::wire::BookingView), when the server takes payments.
    #[serde(default)]
    payment: Option<crate::wire::PaymentView>,
}

pub(crate) fn to_json(value: &impl serde::Serialize) -> Result<String, RiderError> {
    serde_json::to_string(value).map_err(|e| RiderError::Storage(e.to_string()))
}

/// The JSON this app wrote to its cache, read back; unreadable is a storage failure.
fn from_cached_json<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, RiderError> {
    serde_json::from_str(json)
        .map_err(|e| RiderError::Storage(format!("a cached record that does not read: {e}")))
}

pub(crate) fn summary_of(b: &CachedBooking) -> Result<BookingSummary, RiderError> {
    let shown: ShownBooking = from_cached_json(&b.json)?;
    let state = BookingState::parse(&b.state).ok_or_else(|| {
        RiderError::Storage(format!(
            "a cached booking in an unknown state {:?}",
            b.state
        ))
    })?;
    let mut summary = BookingSummary {
        id: b.id.clone(),
        state,
        city_id: b.city_id.clone(),
        class: shown.class,
        pickup_at: b.pickup_at,
        price_minor: shown.price.amount_minor,
        currency: shown.price.currency,
        price: shown.price.formatted,
        pending_sync: b.pending_sync,
        can_cancel: false,
        can_follow_live: false,
    };
    summary.set_state(state);
    Ok(summary)
}

pub(crate) fn quotes_from_server(served: &QuotesResponse) -> Vec<QuoteOption> {
    served
        .quotes
        .iter()
        .map(|q| QuoteOption {
            class: q.class,
            total_minor: q.total.amount_minor,
            currency: q.total.currency.clone(),
            total: q.total.formatted.clone(),
            estimate: false,
            quote_token: Some(q.quote_token.clone()),
            pickup_at: q.pickup_at,
            valid_until: q.valid_until,
            distance_m: signed(q.distance_m),
            duration_s: signed(q.duration_s),
            catalog_version: served.catalog_version.clone(),
        })
        .collect()
}

/// A route's metres or seconds for the exported records (signed for Kotlin and Swift; no route
/// comes near `i32::MAX`).
fn signed(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// The entry as the rider sees it, if the server refused it.
pub(crate) fn refused_intent(entry: &OutboxEntry) -> Option<RefusedIntent> {
    match &entry.state {
        OutboxState::Refused {
            status,
            code,
            detail,
        } => {
            // Only this app writes the outbox, and only these two kinds; anything else is
            // explained as a booking, as before kinds were typed.
            let kind = IntentKind::parse(&entry.kind).unwrap_or(IntentKind::CreateBooking);
            let code = ErrorCode::new(code.clone());
            Some(RefusedIntent {
                seq: entry.seq,
                status: status.map(i32::from),
                kind,
                booking_id: entry.booking_id.clone(),
                explanation: explain_refusal(kind, &code, detail),
                code,
            })
        }
        _ => None,
    }
}

/// What a refusal means for the rider, and what to do about it.
fn explain_refusal(kind: IntentKind, code: &ErrorCode, detail: &str) -> String {
    let what = if kind == IntentKind::CancelBooking {
        "Your cancellation was not accepted"
    } else {
        "Your booking was not made"
    };
    let why = match code.as_str() {
        "quote_expired" => {
            "the price you were quoted has expired; ask for a new quote and book again".to_owned()
        }
        "quote_invalid" => {
            "the quote could not be verified; ask for a new quote and book again".to_owned()
        }
        "cancellation_fee_changed" => {
            "the cancellation fee has changed; review the new fee and confirm again".to_owned()
        }
        _ if detail.is_empty() => format!("the server refused it ({code})"),
        _ => detail.to_owned(),
    };
    format!("{what}: {why}.")
}

/// The form field a core error code is about.
fn field_of_code(code: &str) -> FormField {
    match code {
        "unknown_city" => FormField::CityId,
        "capacity_exceeded" => FormField::Passengers,
        "hours_out_of_range" => FormField::Hours,
        "pickup_in_dst_gap"
        | "pickup_time_ambiguous"
        | "pickup_in_past"
        | "pickup_too_soon"
        | "pickup_too_far_ahead"
        | "on_demand_unavailable" => FormField::PickupLocal,
        _ => FormField::Form,
    }
}

/// The city's classes the fare engine left out of `quotes` (the party does not fit them, or
/// the hire is too long or short for them), each with the engine's reason.
fn excluded_classes(
    catalog: &Catalog,
    request: &QuoteRequest,
    quotes: &[Quote],
    now: DateTime<Utc>,
) -> Vec<ExcludedClass> {
    let Ok(city) = catalog.city(&request.city_id) else {
        return Vec::new();
    };
    city.classes
        .keys()
        .filter(|class| !quotes.iter().any(|q| q.class == **class))
        .filter_map(|&class| {
            match crate::fare::quote(catalog, &EstimatedRouter, request, class, now) {
                Err(e) => Some(ExcludedClass {
                    class,
                    code: ErrorCode::from(e.code()),
                    reason: e.to_string(),
                }),
                Ok(_) => None,
            }
        })
        .collect()
}

fn first_invalid(errors: &[FieldError]) -> RiderError {
    errors.first().map_or_else(
        || RiderError::Unexpected("invalid form".into()),
        |e| RiderError::InvalidInput {
            field: e.field.as_str().to_owned(),
            code: e.code.clone(),
            message: e.message.clone(),
        },
    )
}

/// Estimates for a form from `catalog`: the fare engine's own quotes, marked as estimates (the
/// server has not signed them).
pub fn estimate(
    catalog: &Catalog,
    form: &QuoteForm,
    now: DateTime<Utc>,
) -> Result<Vec<QuoteOption>, RiderError> {
    let (_, quotes) = checked(form, catalog, now).map_err(|errors| first_invalid(&errors))?;
    Ok(as_estimates(&quotes))
}

fn as_estimates(quotes: &[Quote]) -> Vec<QuoteOption> {
    quotes
        .iter()
        .map(|q| QuoteOption {
            class: q.class,
            total_minor: q.total().amount_minor,
            currency: q.total().currency.code().to_owned(),
            total: q.total().to_string(),
            estimate: true,
            quote_token: None,
            pickup_at: q.pickup.at,
            valid_until: q.valid_until,
            distance_m: signed(q.route.distance_m),
            duration_s: signed(q.route.duration_s),
            catalog_version: q.catalog_version.clone(),
        })
        .collect()
}

fn field_error(e: &CoreError) -> FieldError {
    let field = match e {
        CoreError::InvalidRequest { field, .. }
        | CoreError::InvalidCoordinates { field, .. }
        | CoreError::OutsideServiceArea { field, .. } => FormField::of_domain(field),
        // Each on its own field: too many bags is about `bags`, not `passengers`.
        CoreError::CapacityExceeded {
            passengers,
            max_passengers,
            ..
        } if passengers <= max_passengers => FormField::Bags,
        other => field_of_code(other.code()),
    };
    FieldError {
        field,
        code: ErrorCode::from(e.code()),
        message: e.to_string(),
    }
}

/// A count of the form (bags, child seats) as the fare engine takes it; a negative one is a
/// message on its own field (the bindings' integers are signed, so one can arrive).
fn count(value: i32, field: FormField, what: &str, errors: &mut Vec<FieldError>) -> Option<u32> {
    let counted = u32::try_from(value).ok();
    if counted.is_none() {
        errors.push(FieldError {
            field,
            code: ErrorCode::from("invalid_request"),
            message: format!("The number of {what} cannot be negative."),
        });
    }
    counted
}

fn required(field: FormField, message: &str) -> FieldError {
    FieldError {
        field,
        code: ErrorCode::from("required"),
        message: message.into(),
    }
}

/// The request a form stands for, or every message to show (field by field, in form order).
/// The domain checks (service area, capacity, pickup time rules) are the fare engine's own,
/// run on the catalog the app holds.
pub fn validate_form(
    form: &QuoteForm,
    catalog: &Catalog,
    now: DateTime<Utc>,
) -> Result<QuoteRequest, Vec<FieldError>> {
    checked(form, catalog, now).map(|(request, _)| request)
}

/// The request and the fare engine's quotes for it, or the messages.
fn checked(
    form: &QuoteForm,
    catalog: &Catalog,
    now: DateTime<Utc>,
) -> Result<(QuoteRequest, Vec<Quote>), Vec<FieldError>> {
    let mut errors = Vec::new();
    if form.city_id.trim().is_empty() {
        errors.push(required(FormField::CityId, "Choose a city."));
    } else if let Err(e) = catalog.city(form.city_id.trim()) {
        errors.push(field_error(&e));
    }
    if form.pickup.is_none() {
        errors.push(required(
            FormField::Pickup,
            "Where should the chauffeur pick you up?",
        ));
    }
    let product = match (form.dropoff, form.hours) {
        (Some(_), Some(_)) => {
            errors.push(FieldError {
                field: FormField::Hours,
                code: ErrorCode::from("hours_with_dropoff"),
                message: "Choose a drop-off for a transfer or a number of hours for an hourly \
                          hire, not both."
                    .into(),
            });
            None
        }
        (None, Some(hours)) => match u32::try_from(hours) {
            Ok(hours) => Some(ProductRequest::Hourly { hours }),
            Err(_) => {
                errors.push(FieldError {
                    field: FormField::Hours,
                    code: ErrorCode::from("invalid_request"),
                    message: "The number of hours cannot be negative.".into(),
                });
                None
            }
        },
        (Some(dropoff), None) => Some(ProductRequest::Transfer {
            dropoff,
            stops: vec![],
        }),
        (None, None) => {
            errors.push(required(
                FormField::Dropoff,
                "Where to? Or book by the hour.",
            ));
            None
        }
    };
    if form.passengers <= 0 {
        errors.push(FieldError {
            field: FormField::Passengers,
            code: ErrorCode::from("invalid_request"),
            message: "At least one passenger rides.".into(),
        });
    }
    let bags = count(form.bags, FormField::Bags, "bags", &mut errors);
    let child_seats = count(
        form.child_seats,
        FormField::ChildSeats,
        "child seats",
        &mut errors,
    );
    let pickup_time = match form.pickup_local {
        None => Some(PickupTime::Asap),
        Some(local) => match local.to_naive() {
            Some(at) => Some(PickupTime::Local {
                at,
                dst: form.dst_choice,
            }),
            None => {
                errors.push(FieldError {
                    field: FormField::PickupLocal,
                    code: ErrorCode::from("invalid_time"),
                    message: format!("{local} is not a date and time on the calendar."),
                });
                None
            }
        },
    };
    let (
        Some(pickup),
        Some(product),
        Some(pickup_time),
        Ok(passengers),
        Some(bags),
        Some(child_seats),
        true,
    ) = (
        form.pickup,
        product,
        pickup_time,
        u32::try_from(form.passengers),
        bags,
        child_seats,
        errors.is_empty(),
    )
    else {
        return Err(errors);
    };
    let request = QuoteRequest {
        city_id: form.city_id.trim().to_owned(),
        pickup,
        product,
        pickup_time,
        passengers,
        bags,
        extras: Extras {
            meet_and_greet: form.meet_and_greet,
            child_seats,
        },
    };
    match quote_all(catalog, &EstimatedRouter, &request, now) {
        Ok(quotes) => Ok((request, quotes)),
        Err(e) => Err(vec![field_error(&e)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin_form() -> QuoteForm {
        QuoteForm {
            city_id: "berlin".into(),
            pickup: Some(LatLon {
                lat: 52.5163,
                lon: 13.3777,
            }),
            dropoff: Some(LatLon {
                lat: 52.5219,
                lon: 13.4132,
            }),
            pickup_local: LocalDateTime::parse("2026-12-08T14:30"),
            passengers: 2,
            bags: 1,
            ..QuoteForm::default()
        }
    }

    fn now() -> DateTime<Utc> {
        "2026-12-01T10:00:00Z".parse().unwrap_or_default()
    }

    #[test]
    fn an_empty_form_says_what_is_missing_field_by_field() {
        let catalog = Catalog::shipped().unwrap_or_else(|e| panic!("{e}"));
        let errors = validate_form(&QuoteForm::default(), &catalog, now()).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["city_id", "pickup", "dropoff", "passengers"]);
    }

    #[test]
    fn domain_rules_come_back_on_the_field_they_are_about() {
        let catalog = Catalog::shipped().unwrap_or_else(|e| panic!("{e}"));
        let mut form = berlin_form();
        form.dropoff = Some(LatLon {
            lat: 48.1374,
            lon: 11.5755,
        }); // Munich
        let errors = validate_form(&form, &catalog, now()).unwrap_err();
        assert_eq!(
            (errors[0].field.as_str(), errors[0].code.as_str()),
            ("dropoff", "outside_service_area")
        );
        let mut form = berlin_form();
        form.pickup_local = LocalDateTime::parse("2027-03-28T02:30"); // the clocks skip this hour in Berlin
        let errors = validate_form(&form, &catalog, now()).unwrap_err();
        assert_eq!(errors[0].field, FormField::PickupLocal);
        assert_eq!(errors[0].code, "pickup_in_dst_gap");
        let mut form = berlin_form();
        form.pickup_local = Some(LocalDateTime {
            year: 2027,
            month: 2,
            day: 30,
            hour: 10,
            minute: 0,
        });
        let errors = validate_form(&form, &catalog, now()).unwrap_err();
        assert_eq!(
            (errors[0].field, errors[0].code.as_str()),
            (FormField::PickupLocal, "invalid_time")
        );
        assert!(
            errors[0].message.contains("2027-02-30T10:00"),
            "{}",
            errors[0].message
        );
        assert!(validate_form(&berlin_form(), &catalog, now()).is_ok());
    }

    #[test]
    fn each_check_lands_on_the_forms_own_field() {
        let catalog = Catalog::shipped().unwrap_or_else(|e| panic!("{e}"));
        // Ten bags fit no class: the message is on `bags`, not on `passengers`.
        let mut form = berlin_form();
        form.bags = 10;
        let errors = validate_form(&form, &catalog, now()).unwrap_err();
        assert_eq!(
            (errors[0].field, errors[0].code.as_str()),
            (FormField::Bags, "capacity_exceeded")
        );
        // Too many passengers is on `passengers`.
        let mut form = berlin_form();
        form.passengers = 12;
        let errors = validate_form(&form, &catalog, now()).unwrap_err();
        assert_eq!(errors[0].field, FormField::Passengers);
        // Both hours and a drop-off: refused, not silently quoted by the hour.
        let mut form = berlin_form();
        form.hours = Some(3);
        let errors = validate_form(&form, &catalog, now()).unwrap_err();
        assert_eq!(
            (errors[0].field, errors[0].code.as_str()),
            (FormField::Hours, "hours_with_dropoff")
        );
        assert!(
            errors[0].message.contains("not both"),
            "{}",
            errors[0].message
        );
        // More child seats than passengers is on `child_seats`.
        let mut form = berlin_form();
        form.child_seats = 3;
        let errors = validate_form(&form, &catalog, now()).unwrap_err();
        assert_eq!(errors[0].field, FormField::ChildSeats);
        // The error the action throws names the Rust property.
        assert_eq!(first_invalid(&errors).to_string(), errors[0].message);
        match first_invalid(&errors) {
            RiderError::InvalidInput { field, .. } => assert_eq!(field, "child_seats"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn classes_the_party_does_not_fit_are_listed_with_the_reason() {
        let catalog = Catalog::shipped().unwrap_or_else(|e| panic!("{e}"));
        let mut form = berlin_form();
        form.passengers = 4;
        let (request, quotes) = checked(&form, &catalog, now()).unwrap_or_else(|e| panic!("{e:?}"));
        let quoted: Vec<VehicleClass> = quotes.iter().map(|q| q.class).collect();
        let excluded = excluded_classes(&catalog, &request, &quotes, now());
        assert!(!excluded.is_empty(), "four passengers fit every class?");
        for e in &excluded {
            assert!(!quoted.contains(&e.class));
            assert_eq!(e.code, "capacity_exceeded");
            assert!(e.reason.contains("at most"), "{}", e.reason);
        }
        let (request, quotes) =
            checked(&berlin_form(), &catalog, now()).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(excluded_classes(&catalog, &request, &quotes, now()).is_empty());
    }

    #[test]
    fn the_servers_receipt_becomes_the_booking_details_receipt_in_minor_units() {
        let money = |minor: i64| serde_json::json!({"amount_minor": minor, "currency": "EUR", "formatted": ""});
        let view: crate::wire::ReceiptView = serde_json::from_value(serde_json::json!({
            "total": money(10300), "net": money(8655), "vat": money(1645), "vat_rate_bp": 1900,
            "quoted_total": money(9300), "extras_total": money(1000),
            "lines": [{"kind": "base", "quantity": 1, "amount_minor": 9300}],
            "extras": [{"kind": "waiting", "quantity": 20, "amount_minor": 1000}],
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let receipt = Receipt::of(&view);
        assert!(
            (receipt.vat_rate - 0.19).abs() < 1e-12,
            "{}",
            receipt.vat_rate
        );
        assert_eq!(
            (
                receipt.currency.as_str(),
                receipt.total_minor,
                receipt.vat_rate_bp
            ),
            ("EUR", 10300, 1900)
        );
        assert_eq!(
            receipt.quoted_total_minor + receipt.extras_total_minor,
            10300
        );
        assert_eq!(
            receipt.extras,
            [ReceiptLine {
                kind: "waiting".into(),
                quantity: 20,
                amount_minor: 1000
            }]
        );
        assert_eq!(receipt.lines[0].kind, "base");
    }

    #[test]
    fn a_negative_count_is_a_message_on_its_own_field_not_a_wrap() {
        let catalog = Catalog::shipped().unwrap_or_else(|e| panic!("{e}"));
        let cases = [
            (
                QuoteForm {
                    bags: -1,
                    ..berlin_form()
                },
                FormField::Bags,
            ),
            (
                QuoteForm {
                    child_seats: -2,
                    ..berlin_form()
                },
                FormField::ChildSeats,
            ),
            (
                QuoteForm {
                    passengers: -3,
                    ..berlin_form()
                },
                FormField::Passengers,
            ),
            (
                QuoteForm {
                    dropoff: None,
                    hours: Some(-4),
                    ..berlin_form()
                },
                FormField::Hours,
            ),
        ];
        for (form, field) in cases {
            let errors = validate_form(&form, &catalog, now()).unwrap_err();
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(
                (errors[0].field, errors[0].code.as_str()),
                (field, "invalid_request")
            );
        }
    }

    #[test]
    fn local_date_times_convert_both_ways_and_reject_what_no_calendar_has() {
        let at = LocalDateTime::parse("2026-12-08T14:30:59").unwrap_or_default();
        assert_eq!(
            at,
            LocalDateTime {
                year: 2026,
                month: 12,
                day: 8,
                hour: 14,
                minute: 30
            }
        );
        assert_eq!(at.to_string(), "2026-12-08T14:30");
        assert_eq!(at.to_naive().map(LocalDateTime::of), Some(at));
        for wrong in [
            LocalDateTime { month: 13, ..at },
            LocalDateTime { hour: 24, ..at },
            LocalDateTime { minute: -1, ..at },
            LocalDateTime {
                month: 2,
                day: 29,
                year: 2027,
                ..at
            },
        ] {
            assert_eq!(wrong.to_naive(), None, "{wrong}");
        }
    }

    #[test]
    fn the_dst_choice_is_offered_in_local_time_with_each_offset() {
        let catalog = Catalog::shipped().unwrap_or_else(|e| panic!("{e}"));
        // 31 October 2027: Berlin's clocks go back from 03:00 to 02:00, so 02:30 happens twice.
        let form = QuoteForm {
            pickup_local: LocalDateTime::parse("2027-10-31T02:30"),
            ..berlin_form()
        };
        let options = dst_options(&form, &catalog);
        let shown: Vec<(DstChoice, &str, i32, String)> = options
            .iter()
            .map(|o| {
                (
                    o.choice,
                    o.label.as_str(),
                    o.utc_offset_minutes,
                    o.at.to_rfc3339(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                (
                    DstChoice::Earlier,
                    "02:30 (UTC+2)",
                    120,
                    "2027-10-31T00:30:00+00:00".to_owned()
                ),
                (
                    DstChoice::Later,
                    "02:30 (UTC+1)",
                    60,
                    "2027-10-31T01:30:00+00:00".to_owned()
                ),
            ]
        );
        // Without a choice the form says so on `pickup_local`, with the same labels.
        let errors = validate_form(&form, &catalog, now()).unwrap_err();
        assert_eq!(errors[0].code, "pickup_time_ambiguous");
        assert!(
            errors[0].message.contains("02:30 (UTC+1)"),
            "{}",
            errors[0].message
        );
        // A time that happens once, and an unknown city, offer nothing.
        assert!(dst_options(&berlin_form(), &catalog).is_empty());
        let elsewhere = QuoteForm {
            city_id: "atlantis".into(),
            ..form
        };
        assert!(dst_options(&elsewhere, &catalog).is_empty());
        assert_eq!(crate::pickup::utc_offset_label(19_800), "UTC+5:30");
        assert_eq!(crate::pickup::utc_offset_label(-10_800), "UTC-3");
        assert_eq!(crate::pickup::utc_offset_label(0), "UTC");
    }

    #[test]
    fn what_a_booking_allows_follows_its_state_as_the_lifecycle_says() {
        let mut summary = BookingSummary {
            id: "b-1".into(),
            state: BookingState::Pending,
            city_id: "berlin".into(),
            class: VehicleClass::Business,
            pickup_at: now(),
            price: String::new(),
            price_minor: 9300,
            currency: "EUR".into(),
            pending_sync: false,
            can_cancel: false,
            can_follow_live: false,
        };
        let allowed = |summary: &mut BookingSummary, state| {
            summary.set_state(state);
            (summary.can_cancel, summary.can_follow_live)
        };
        assert_eq!(allowed(&mut summary, BookingState::Pending), (true, false));
        assert_eq!(allowed(&mut summary, BookingState::Confirmed), (true, true));
        assert_eq!(allowed(&mut summary, BookingState::EnRoute), (true, true));
        assert_eq!(allowed(&mut summary, BookingState::OnBoard), (false, true));
        for done in [
            BookingState::Completed,
            BookingState::Cancelled,
            BookingState::NoShow,
            BookingState::Unfulfilled,
        ] {
            assert_eq!(allowed(&mut summary, done), (false, false), "{done}");
        }
        // A change waiting to be sent allows neither until the server has it.
        summary.pending_sync = true;
        assert_eq!(
            allowed(&mut summary, BookingState::Confirmed),
            (false, false)
        );
        // Every state the rider may cancel in is one the transition table lets them leave.
        for state in BookingState::ALL {
            assert_eq!(
                crate::booking::rider_may_cancel(state),
                crate::booking::next_states(state, Actor::Rider)
                    .any(|s| s == BookingState::Cancelled)
            );
        }
    }

    #[test]
    fn refusals_are_explained_with_what_to_do() {
        let text = explain_refusal(IntentKind::CreateBooking, &"quote_expired".into(), "");
        assert!(text.starts_with("Your booking was not made"));
        assert!(text.contains("ask for a new quote"));
        let text = explain_refusal(
            IntentKind::CancelBooking,
            &ErrorCode::CANCELLATION_FEE_CHANGED,
            "",
        );
        assert!(text.contains("review the new fee"));
    }
}
