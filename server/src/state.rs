//! What every request, the dispatcher and the live-position writer share: the app state, its
//! clock and the service limits. Nothing here knows about HTTP routes.

use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderValue;
use chauffeur_core::places::PlaceIndex;
use chauffeur_core::Catalog;
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use uuid::Uuid;

use crate::auth::PasswordHashing;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::tokens::QuoteSigner;

/// Where "now" comes from; tests and background work can substitute their own.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The system clock plus an offset that tests move forward (only with `--test-clock`), so
/// offer expiry, dispatch deadlines and waiting times can be tested without waiting.
#[derive(Default)]
pub struct ControlledClock {
    offset_ms: std::sync::atomic::AtomicI64,
}

impl ControlledClock {
    pub fn advance(&self, by: ChronoDuration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ControlledClock {
    fn now(&self) -> DateTime<Utc> {
        let offset = self.offset_ms.load(std::sync::atomic::Ordering::SeqCst);
        Utc::now() + ChronoDuration::milliseconds(offset)
    }
}

pub const SESSION_DAYS: i64 = 30;

pub struct Limits {
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
    pub cors_origins: Vec<HeaderValue>,
    pub cors_any: bool,
}

/// Shared by every request; cloned per request, so it is one `Arc`.
#[derive(Clone)]
pub struct AppState(pub Arc<AppInner>);

impl std::ops::Deref for AppState {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

pub struct AppInner {
    pub store: Store,
    pub catalog: Arc<Catalog>,
    pub catalog_json: Arc<str>,
    /// The built-in places riders search (`GET /v1/places`).
    pub places: Arc<PlaceIndex>,
    /// The geocoder behind the place search, with `--geocoder-url`.
    pub geocoder: Option<Arc<crate::geocoder::Geocoder>>,
    pub signer: QuoteSigner,
    pub hashing: PasswordHashing,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    pub in_flight: InFlightKeys,
    /// Partners offered a booking at once (the core's default is 3).
    pub dispatch_batch_size: usize,
    /// Present only when started with `--test-clock`.
    pub test_clock: Option<Arc<ControlledClock>>,
    /// Chauffeurs' positions waiting for the next batch write.
    pub positions: crate::live::PositionBuffer,
    /// Whose `X-Forwarded-For` names the client (for the log-in throttle).
    pub trusted_proxies: crate::throttle::TrustedProxies,
    /// The seller of record on invoices.
    pub invoice_issuer: chauffeur_core::invoice::Issuer,
    /// Card payments, when a provider is configured.
    pub payments: Option<Arc<crate::payments::Payments>>,
}

impl AppState {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

/// The (rider, key) pairs whose create is running in this process; a guard removes its pair
/// when the request ends, however it ends.
pub type InFlightKeys = Arc<std::sync::Mutex<std::collections::HashSet<(Uuid, String)>>>;
