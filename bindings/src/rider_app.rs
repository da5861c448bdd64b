//! The rider app as Kotlin and Swift see it: the `RiderApp` and `RideSubscription` objects, the
//! state and ride listeners, and the pure exports (offline estimates, version). The records of its
//! state are the core's own.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use chauffeur_core::ride_events;
use chauffeur_core::rider_app as core_app;

use crate::error::ChauffeurError;
use crate::runtime::on_runtime;
use crate::storage::{SecureStorage, StorageBridge};

// ---------------------------------------------------------------------------------------------
// Records

// The rider state and its parts are the core's own records (they derive the FFI traits behind
// chauffeur-core's `uniffi` feature); only what has no core counterpart is defined here.
pub use chauffeur_core::payment::PaymentStatus;
pub use chauffeur_core::places::{Place, PlaceKind};
pub use chauffeur_core::rider_app::{
    ActiveRide, AirportInfo, BookingDetails, BookingSummary, CancellationTerms, CityInfo,
    DstOption, ExcludedClass, FieldError, FormField, HistoryStep, IntentKind, LocalDateTime,
    Payment, PaymentSetup, QuoteForm, QuoteOption, Receipt, ReceiptLine, RefusedIntent, RiderState,
};
pub use chauffeur_core::wire::{ErrorCode, EventKind};
pub use chauffeur_core::{Actor, BookingState, DstChoice, LatLon, VehicleClass};

/// One event of a followed ride: `Status` (with an id), `Position`, or `Other("poll")`.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RideEvent {
    /// `Status`, `Position`, or `Other("poll")` for a booking read by polling.
    pub kind: EventKind,
    /// The event's id (status events), to resume from.
    pub id: Option<String>,
    /// The booking's state, for `status` and `poll` events.
    pub state: Option<BookingState>,
    /// The chauffeur's position, for `position` events.
    pub position: Option<LatLon>,
    /// The event's JSON.
    pub data: String,
}

/// Why a followed ride's stream stopped for good: the server refused it in a way retrying
/// cannot change (the booking is unknown or not the rider's, the session is gone).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RideEnded {
    /// The server's HTTP status: 404, 403, 401, …
    pub status: i32,
    /// The server's stable code: `not_found`, `forbidden`, `unauthorized`, …
    pub code: ErrorCode,
    /// The server's explanation.
    pub message: String,
}

// ---------------------------------------------------------------------------------------------
// Listeners

/// Gets the events of a followed ride.
#[uniffi::export(with_foreign)]
pub trait RideListener: Send + Sync {
    /// One event of the ride, in order.
    fn on_event(&self, event: RideEvent);
    /// The stream broke; it is retried after `retry_in_ms`.
    fn on_interrupted(&self, reason: String, retry_in_ms: i64);
    /// The stream stopped for good (a permanent refusal); no call follows this one.
    fn on_ended(&self, ended: RideEnded);
}

struct RideBridge(Arc<dyn RideListener>);

impl ride_events::RideListener for RideBridge {
    fn on_event(&self, e: ride_events::RideEvent) {
        self.0.on_event(RideEvent {
            state: e.booking_state(),
            position: e.position(),
            kind: e.kind,
            id: e.id,
            data: e.data,
        });
    }
    fn on_interrupted(&self, reason: String, retry_in: Duration) {
        let ms = i64::try_from(retry_in.as_millis()).unwrap_or(i64::MAX);
        self.0.on_interrupted(reason, ms);
    }
    fn on_ended(&self, end: ride_events::RideEnd) {
        self.0.on_ended(RideEnded {
            status: i32::from(end.status),
            code: end.code,
            message: end.detail,
        });
    }
}

/// Told of every change of the rider state, to re-render.
#[uniffi::export(with_foreign)]
pub trait StateListener: Send + Sync {
    /// The state after a change (on an SDK thread; skip one older than a state shown).
    fn on_state(&self, state: RiderState);
}

struct StateBridge(Arc<dyn StateListener>);

impl core_app::StateListener for StateBridge {
    fn on_state(&self, state: core_app::RiderState) {
        self.0.on_state(state);
    }
}

// ---------------------------------------------------------------------------------------------
// Objects

/// A live ride subscription; `cancel` (or dropping it) stops it.
#[derive(uniffi::Object)]
pub struct RideSubscription {
    handle: Mutex<Option<ride_events::SubscriptionHandle>>,
}

#[uniffi::export]
impl RideSubscription {
    /// Stops the subscription; no listener call follows.
    pub fn cancel(&self) {
        if let Some(handle) = self.handle.lock().ok().and_then(|mut h| h.take()) {
            handle.cancel();
        }
    }

    /// The id of the last status event delivered.
    pub fn last_event_id(&self) -> Option<String> {
        self.handle
            .lock()
            .ok()
            .and_then(|h| h.as_ref().and_then(|h| h.last_event_id()))
    }
}

/// Where the app lives.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RiderConfig {
    /// e.g. `https://api.chauffeur.example`
    pub server_url: String,
    /// The cache database file (created if missing), in the app's private storage.
    pub cache_path: String,
}

/// The places nearest to a point, and the city whose service area holds it (none outside every
/// city).
#[derive(Debug, Clone, uniffi::Record)]
pub struct NearbyPlaces {
    /// The city whose service area holds the point; none outside every city.
    pub city_id: Option<String>,
    /// Nearest first.
    pub places: Vec<Place>,
}

/// The rider flow: state to render, actions to forward taps to.
#[derive(uniffi::Object)]
pub struct RiderApp {
    core: core_app::RiderApp,
}

/// Opens the rider app: the cache file and what it remembers. No network.
#[uniffi::export]
pub async fn open_rider_app(
    config: RiderConfig,
    storage: Arc<dyn SecureStorage>,
) -> Result<Arc<RiderApp>, ChauffeurError> {
    on_runtime(async move {
        let core = core_app::RiderApp::open(
            core_app::RiderConfig {
                server_url: config.server_url,
                cache_path: config.cache_path.into(),
            },
            Arc::new(StorageBridge(storage)),
        )
        .await?;
        Ok(Arc::new(RiderApp { core }))
    })
    .await
}

#[uniffi::export]
impl RiderApp {
    /// The current state (memory only; fine on the UI thread).
    pub fn state(&self) -> RiderState {
        self.core.state()
    }

    /// The cities of the catalog the app prices with (no I/O): ids for the form's `city_id`,
    /// names, time zones, currencies and airports.
    pub fn cities(&self) -> Vec<CityInfo> {
        self.core.cities()
    }

    /// The version of the catalog the app prices with (the server's once fetched).
    pub fn catalog_version(&self) -> String {
        self.core.catalog_version()
    }

    /// Validates the edited form (no I/O) and returns the state with its messages.
    pub fn edit_form(&self, form: QuoteForm) -> RiderState {
        self.core.edit_form(form)
    }

    /// Sets (or, with `None`, removes) the one listener told of every state change. The Kotlin
    /// `states()` and Swift `states()` adapters set it; use them instead.
    pub fn set_listener(&self, listener: Option<Arc<dyn StateListener>>) {
        self.core.set_listener(
            listener.map(|l| Arc::new(StateBridge(l)) as Arc<dyn core_app::StateListener>),
        );
    }

    /// Binding quotes, or estimates when offline. Invalid input throws `InvalidInput`.
    pub async fn request_quotes(&self) -> Result<RiderState, ChauffeurError> {
        let app = self.core.clone();
        on_runtime(async move { app.request_quotes().await }).await
    }

    /// Creates an account and signs in: the token goes to the secure storage, the bookings are
    /// fetched. A taken e-mail is `Refused` (`email_taken`).
    pub async fn sign_up(
        &self,
        email: String,
        password: String,
        name: Option<String>,
    ) -> Result<RiderState, ChauffeurError> {
        let app = self.core.clone();
        on_runtime(async move { app.sign_up(&email, &password, name.as_deref()).await }).await
    }

    /// Signs in: the token goes to the secure storage, the bookings are fetched. Wrong
    /// credentials are `Refused` 401 `invalid_credentials`.
    pub async fn log_in(
        &self,
        email: String,
        password: String,
    ) -> Result<RiderState, ChauffeurError> {
        let app = self.core.clone();
        on_runtime(async move { app.log_in(&email, &password).await }).await
    }

    /// Signs out and forgets the rider's data here. Unsent bookings or cancellations make it
    /// fail with `unsent_changes` unless `discard_unsent`.
    pub async fn log_out(&self, discard_unsent: bool) -> Result<RiderState, ChauffeurError> {
        let app = self.core.clone();
        on_runtime(async move { app.log_out(discard_unsent).await }).await
    }

    /// Places in `city` matching `query` (airports, stations, centres; addresses when the server
    /// has a geocoder), best first: for the pickup and drop-off fields.
    pub async fn search_places(
        &self,
        city: String,
        query: String,
    ) -> Result<Vec<Place>, ChauffeurError> {
        let app = self.core.clone();
        on_runtime(async move { app.search_places(&city, &query).await }).await
    }

    /// The places nearest to a point (a tap on the map) and the city serving it.
    pub async fn places_near(&self, lat: f64, lon: f64) -> Result<NearbyPlaces, ChauffeurError> {
        let app = self.core.clone();
        on_runtime(async move {
            let answer = app.places_near(lat, lon).await?;
            Ok(NearbyPlaces {
                city_id: answer.city_id,
                places: answer.places,
            })
        })
        .await
    }

    /// Books the quoted class (through the outbox: offline it waits, and shows as pending).
    pub async fn book(&self, class: VehicleClass) -> Result<RiderState, ChauffeurError> {
        let app = self.core.clone();
        on_runtime(async move { app.book(class).await }).await
    }

    /// The payment hook: the card the next bookings are paid with, as the id the platform's
    /// payment SDK produced for it (Stripe's `pm_…`; `pm_card_visa` with the dev server's test
    /// provider). Card details never pass through the SDK; `None` forgets it. A server that
    /// takes payments refuses a booking without one (`payment_method_required`).
    pub fn use_payment_method(&self, payment_method_id: Option<String>) {
        self.core.use_payment_method(payment_method_id);
    }

    /// After the card step (3-D Secure) the provider's SDK ran for a booking in
    /// `PaymentPending`: asks the server how it ended and refreshes the lists.
    pub async fn confirm_payment(&self, booking_id: String) -> Result<RiderState, ChauffeurError> {
        let app = self.core.clone();
        on_runtime(async move { app.confirm_payment(&booking_id).await }).await
    }

    /// Which card payment the server takes (`none`, `stripe`, `test`) and the provider's
    /// publishable key, to set up the provider's SDK before the first booking.
    pub async fn payments_config(&self) -> Result<PaymentSetup, ChauffeurError> {
        let app = self.core.clone();
        on_runtime(async move { app.payments_config().await }).await
    }

    /// The booking's invoice as PDF bytes, in `language` (`de` or `en`); refused with
    /// `no_invoice_yet` while nothing is charged.
    pub async fn invoice_pdf(
        &self,
        booking_id: String,
        language: String,
    ) -> Result<Vec<u8>, ChauffeurError> {
        let app = self.core.clone();
        on_runtime(async move { app.invoice_pdf(&booking_id, &language).await }).await
    }

    /// Sync the outbox, then refresh the catalog and bookings.
    pub async fn refresh(&self) -> Result<RiderState, ChauffeurError> {
        let app = self.core.clone();
        on_runtime(async move { app.refresh().await }).await
    }

    /// Opens a booking with its history (from the cache when offline).
    pub async fn open_booking(&self, booking_id: String) -> Result<RiderState, ChauffeurError> {
        let app = self.core.clone();
        on_runtime(async move { app.open_booking(&booking_id).await }).await
    }

    /// The rider left the booking's screen (no I/O).
    pub fn close_booking(&self) -> RiderState {
        self.core.close_booking()
    }

    /// The rider read a refusal (`RefusedIntent.seq`): it goes from the state.
    pub async fn dismiss_refusal(&self, seq: i64) -> Result<RiderState, ChauffeurError> {
        let app = self.core.clone();
        on_runtime(async move { app.dismiss_refusal(seq).await }).await
    }

    /// Step one of cancelling: the fee to accept.
    pub async fn cancellation_terms(
        &self,
        booking_id: String,
    ) -> Result<RiderState, ChauffeurError> {
        let app = self.core.clone();
        on_runtime(async move { app.cancellation_terms(&booking_id).await }).await
    }

    /// Step two: cancel, accepting the fee shown in step one.
    pub async fn confirm_cancellation(&self) -> Result<RiderState, ChauffeurError> {
        let app = self.core.clone();
        on_runtime(async move { app.confirm_cancellation().await }).await
    }

    /// Follows a booking live; the state's active ride follows it, and `listener` gets every
    /// event until the returned subscription is cancelled.
    pub async fn follow_ride(
        &self,
        booking_id: String,
        listener: Option<Arc<dyn RideListener>>,
    ) -> Result<Arc<RideSubscription>, ChauffeurError> {
        let app = self.core.clone();
        on_runtime(async move {
            let forward =
                listener.map(|l| Arc::new(RideBridge(l)) as Arc<dyn ride_events::RideListener>);
            let handle = app.follow_ride(&booking_id, forward)?;
            Ok(Arc::new(RideSubscription {
                handle: Mutex::new(Some(handle)),
            }))
        })
        .await
    }
}

// ---------------------------------------------------------------------------------------------
// Pure functions

/// Fare estimates for a form from the catalog shipped in the library: the same fare engine as
/// the server's binding quotes. Pure computation (microseconds).
#[uniffi::export]
pub fn estimate_fares(
    form: QuoteForm,
    now: SystemTime,
) -> Result<Vec<QuoteOption>, ChauffeurError> {
    estimate(&form, now.into())
}

fn estimate(
    form: &core_app::QuoteForm,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<QuoteOption>, ChauffeurError> {
    let catalog = shipped_catalog()?;
    core_app::estimate(catalog, form, now).map_err(ChauffeurError::from)
}

fn shipped_catalog() -> Result<&'static chauffeur_core::Catalog, ChauffeurError> {
    static CATALOG: OnceLock<Result<chauffeur_core::Catalog, String>> = OnceLock::new();
    CATALOG
        .get_or_init(|| chauffeur_core::Catalog::shipped().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| ChauffeurError::Unexpected {
            code: "invalid_catalog".into(),
            detail: e.clone(),
        })
}

/// For the binding-cost benchmark: runs `estimate_fares` `iterations` times inside Rust and
/// returns the nanoseconds it took, so one process measures both sides of the boundary.
#[uniffi::export]
pub fn benchmark_estimate_in_rust(
    form: QuoteForm,
    now: SystemTime,
    iterations: i32,
) -> Result<i64, ChauffeurError> {
    let form: core_app::QuoteForm = form;
    let now = now.into();
    let started = std::time::Instant::now();
    for _ in 0..iterations {
        std::hint::black_box(estimate(std::hint::black_box(&form), now)?);
    }
    Ok(i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX))
}

/// The SDK's version and the version of the catalog shipped in it, apart.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SdkInfo {
    /// The SDK's semantic version, e.g. `0.1.0`.
    pub version: String,
    /// The version of the catalog the library ships (used until the server's is fetched).
    pub shipped_catalog_version: String,
}

/// The SDK's version and the version of the catalog it ships.
#[uniffi::export]
pub fn sdk_info() -> SdkInfo {
    SdkInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        shipped_catalog_version: shipped_catalog()
            .map_or_else(|_| "invalid".to_owned(), |c| c.version().to_owned()),
    }
}

/// The cities of the catalog shipped in the library (no I/O): what a picker shows before an
/// app is open.
#[uniffi::export]
pub fn shipped_cities() -> Result<Vec<CityInfo>, ChauffeurError> {
    Ok(core_app::cities_of(shipped_catalog()?))
}

/// The SDK's version and the catalog version it ships, as one line: `0.1.0 (catalog 2026-11)`.
#[uniffi::export]
pub fn sdk_version() -> String {
    let catalog =
        shipped_catalog().map_or_else(|_| "invalid".to_owned(), |c| c.version().to_owned());
    format!("{} (catalog {catalog})", env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_through_the_export_equal_the_fare_engines_quotes() {
        let form = QuoteForm {
            city_id: "berlin".into(),
            pickup: Some(LatLon {
                lat: 52.3667,
                lon: 13.5033,
            }),
            dropoff: Some(LatLon {
                lat: 52.5219,
                lon: 13.4132,
            }),
            hours: None,
            pickup_local: core_app::LocalDateTime::parse("2026-12-08T14:00"),
            dst_choice: None,
            passengers: 2,
            bags: 2,
            meet_and_greet: false,
            child_seats: 0,
            flight_number: String::new(),
            notes: String::new(),
        };
        let now: chrono::DateTime<chrono::Utc> = "2026-12-01T10:00:00Z".parse().unwrap();
        let quotes = estimate_fares(form.clone(), now.into()).unwrap();
        // The README's worked example: BER airport to Alexanderplatz, Business.
        assert_eq!(quotes[0].class, VehicleClass::Business);
        assert_eq!(quotes[0].total, "EUR 93.00");
        assert!(quotes.iter().all(|q| q.estimate));
        let err = estimate_fares(
            QuoteForm {
                passengers: 9,
                ..form
            },
            now.into(),
        )
        .unwrap_err();
        assert_eq!(err.code(), "capacity_exceeded");
    }

    #[test]
    fn the_sdk_tells_its_version_its_catalog_and_the_cities() {
        let info = sdk_info();
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(
            sdk_version(),
            format!(
                "{} (catalog {})",
                info.version, info.shipped_catalog_version
            )
        );
        let cities = shipped_cities().unwrap();
        let berlin = cities.iter().find(|c| c.id == "berlin").unwrap();
        assert_eq!(
            (berlin.time_zone.as_str(), berlin.currency.as_str()),
            ("Europe/Berlin", "EUR")
        );
        assert!(berlin.airports.iter().any(|a| a.iata == "BER"));
    }
}
