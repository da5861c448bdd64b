//! The live ride: chauffeurs' positions come in often, are rate-limited per chauffeur, kept in
//! memory and written to the database in one batch a second; riders' streams read them back
//! (from any replica) with an ETA to the pickup computed by the core's road estimate.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chauffeur_core::distance::{driving_time_s, road_distance_m};
use chauffeur_core::{BookingState, LatLon, Quote};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::api::AppState;

/// At most one accepted position per chauffeur in this interval; more answer 429.
pub const MIN_UPDATE_INTERVAL: Duration = Duration::from_millis(900);

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Position {
    pub lat: f64,
    pub lon: f64,
    pub at: DateTime<Utc>,
}

/// Positions waiting for the next batch write, and when each chauffeur last sent one.
#[derive(Default)]
pub struct PositionBuffer {
    pending: Mutex<HashMap<Uuid, Position>>,
    last_accepted: Mutex<HashMap<Uuid, Instant>>,
}

impl PositionBuffer {
    /// Accepts a position unless the chauffeur sent one less than `MIN_UPDATE_INTERVAL` ago.
    pub fn offer(&self, chauffeur: Uuid, position: Position) -> bool {
        let now = Instant::now();
        let Ok(mut last) = self.last_accepted.lock() else {
            return false;
        };
        if last
            .get(&chauffeur)
            .is_some_and(|t| now.duration_since(*t) < MIN_UPDATE_INTERVAL)
        {
            return false;
        }
        last.insert(chauffeur, now);
        drop(last);
        if let Ok(mut pending) = self.pending.lock() {
            pending.insert(chauffeur, position);
        }
        true
    }

    fn take(&self) -> Vec<(Uuid, Position)> {
        self.pending
            .lock()
            .map(|mut p| p.drain().collect())
            .unwrap_or_default()
    }
}

/// Writes the buffered positions every `interval`, all in one transaction.
pub async fn flush_positions(state: AppState, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    loop {
        ticker.tick().await;
        let batch = state.positions.take();
        if batch.is_empty() {
            continue;
        }
        if let Err(e) = state.store.save_positions(&batch).await {
            tracing::warn!(error = %e, count = batch.len(), "could not save chauffeur positions");
        }
    }
}

/// What a rider sees of the chauffeur on the way.
#[derive(Debug, Clone, Serialize)]
pub struct RiderPosition {
    pub booking_id: Uuid,
    pub lat: f64,
    pub lon: f64,
    pub at: DateTime<Utc>,
    /// Estimated seconds to the pickup point.
    pub eta_s: Option<u32>,
}

/// The assigned chauffeur's last position while en route, with an ETA to the pickup.
pub async fn position_for_rider(state: &AppState, booking_id: Uuid) -> Option<RiderPosition> {
    let (booking, _) = state.store.booking(booking_id).await.ok()??;
    if booking.state != BookingState::EnRoute {
        return None;
    }
    let position = state
        .store
        .position_of(booking.chauffeur_id?)
        .await
        .ok()??;
    let eta_s = serde_json::from_value::<Quote>(booking.quote.clone())
        .ok()
        .and_then(|quote| {
            let city = state.catalog.city(&booking.city_id).ok()?;
            let here = LatLon {
                lat: position.lat,
                lon: position.lon,
            };
            let metres = road_distance_m(city, here, quote.pickup_point);
            Some(driving_time_s(city, metres, position.at))
        });
    Some(RiderPosition {
        booking_id,
        lat: position.lat,
        lon: position.lon,
        at: position.at,
        eta_s,
    })
}
