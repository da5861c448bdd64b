//! chauffeur-core: Chauffeur's shared domain, with no I/O. Money, distance, pickup times, the
//! catalog, the fare engine, the booking state machine and the cancellation policy. The server,
//! the rider apps (through chauffeur-ffi) and the web all use this one crate, so an offline
//! estimate, a binding quote and a receipt come from the same code.

pub mod booking;
pub mod cancellation;
pub mod catalog;
pub mod distance;
pub mod error;
pub mod fare;
pub mod money;
pub mod pickup;

pub use booking::{transition, Actor, BookingState};
pub use cancellation::{cancellation_fee, confirm_cancellation, CancellationFee};
pub use catalog::{Catalog, City, PickupPlace, VehicleClass};
pub use distance::{great_circle_m, EstimatedRouter, LatLon, RouteEstimate, Router};
pub use error::{CoreError, ERROR_CODES};
pub use fare::{
    final_fare, price, quote, quote_all, DeclaredExtras, Extras, Fare, FareLine, FareLineKind,
    ProductKind, ProductRequest, Quote, QuoteRequest, Receipt,
};
pub use money::{Currency, Money};
pub use pickup::{resolve_pickup, DstChoice, PickupTime, ResolvedPickup};
