//! chauffeur-core: Chauffeur's shared domain, with no I/O. Money, distance, pickup times, the
//! catalog, the fare engine, the booking state machine and the cancellation policy. The server,
//! the rider apps (through chauffeur-ffi) and the web all use this one crate, so an offline
//! estimate, a binding quote and a receipt come from the same code.
//!
//! ```
//! use chauffeur_core::*;
//!
//! let catalog = Catalog::shipped()?;
//! let now = "2026-12-01T10:00:00Z".parse().expect("a valid instant");
//! let request = QuoteRequest {
//!     city_id: "berlin".into(),
//!     pickup: LatLon::new(52.3667, 13.5033, "pickup")?, // BER airport
//!     product: ProductRequest::Transfer {
//!         dropoff: LatLon::new(52.5219, 13.4132, "dropoff")?, // Alexanderplatz
//!         stops: vec![],
//!     },
//!     pickup_time: PickupTime::Instant { at: "2026-12-08T13:00:00Z".parse().expect("instant") },
//!     passengers: 2,
//!     bags: 2,
//!     extras: Extras::default(),
//! };
//! let quotes = quote_all(&catalog, &EstimatedRouter, &request, now)?;
//! let business = &quotes[0];
//! assert_eq!(business.class, VehicleClass::Business);
//! assert_eq!(business.total().to_string(), "EUR 93.00");
//! assert_eq!(business.fare.net.amount_minor + business.fare.vat.amount_minor, 9_300);
//! # Ok::<(), CoreError>(())
//! ```

// Purity is checked by lints: `core/clippy.toml` disallows clocks and I/O, and only `rider` may
// use them (tried: a `Utc::now()` in `domain` fails `cargo clippy -p chauffeur-core -- -D warnings`).
pub mod domain;
#[cfg(feature = "client")]
#[allow(clippy::disallowed_methods, clippy::disallowed_types)]
pub mod rider;

// UniFFI (feature `uniffi`): the records and enums the rider app's state is made of derive the FFI
// traits here, so chauffeur-ffi exports them as they are. Instants cross as `SystemTime`
// (java.time.Instant, Swift Date).
#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();
#[cfg(feature = "uniffi")]
#[allow(clippy::disallowed_types)]
mod ffi_types {
    /// An instant in UTC; Kotlin and Swift see it as `Timestamp`, an alias of their instant type.
    pub type Timestamp = chrono::DateTime<chrono::Utc>;
    uniffi::custom_type!(Timestamp, std::time::SystemTime, { remote });

    /// An open set of codes: a string across the FFI (Kotlin and Swift compare it with the
    /// codes they know), so a code a newer server adds still arrives intact.
    use crate::wire::ErrorCode;
    uniffi::custom_type!(ErrorCode, String, {
        try_lift: |code| Ok(ErrorCode::new(code)),
    });
}

// The modules' old paths (`chauffeur_core::fare`, `chauffeur_core::client`, …) stay valid.
pub use domain::{
    booking, cancellation, catalog, dispatch, distance, error, fare, invoice, money, payment,
    pickup, places, wire,
};
#[cfg(feature = "client")]
pub use rider::{cache, client, machine, ride_events, rider_app, secure_store, sync};

pub use booking::{transition, Actor, BookingState};
pub use cancellation::{cancellation_fee, confirm_cancellation, CancellationFee};
pub use catalog::{Catalog, City, PickupPlace, VehicleClass};
pub use distance::{great_circle_m, EstimatedRouter, KnownRoute, LatLon, RouteEstimate, Router};
pub use error::{CoreError, ERROR_CODES};
pub use fare::{
    final_fare, price, quote, quote_all, DeclaredExtras, Extras, Fare, FareLine, FareLineKind,
    ProductKind, ProductRequest, Quote, QuoteRequest, Receipt,
};
pub use money::{Currency, Money};
pub use pickup::{resolve_pickup, DstChoice, PickupTime, ResolvedPickup};
