//! The live ride: chauffeurs' positions come in often, are rate-limited per chauffeur, kept in
//! memory and written to the database in one batch a second; riders' streams read them back
//! (from any replica) with an ETA to the pickup computed by the core's road estimate.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chauffeur_core::distance::{driving_time_s, road_distance_m};
use chauffeur_core::wire::PositionEvent;
use chauffeur_core::{BookingState, LatLon};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::state::AppState;

/// The H3 resolution of stored positions: about 3.2 km edges.
pub const CELL_RESOLUTION: h3o::Resolution = h3o::Resolution::Six;

/// The H3 cell of a position, as stored.
pub fn cell_of(lat: f64, lon: f64) -> Option<i64> {
    let cell = h3o::LatLng::new(lat, lon).ok()?.to_cell(CELL_RESOLUTION);
    i64::try_from(u64::from(cell)).ok()
}

/// Every cell that may hold a point within `radius_m` of `at` (a grid disk wide enough to be
/// safe: neighbouring cell centres are at least 1.5 edge lengths apart).
pub fn cells_around(at: LatLon, radius_m: u32) -> Vec<i64> {
    let Ok(centre) = h3o::LatLng::new(at.lat, at.lon) else {
        return Vec::new();
    };
    let step = 1.5 * CELL_RESOLUTION.edge_length_m();
    let k = (f64::from(radius_m) / step).ceil() as u32 + 1;
    centre
        .to_cell(CELL_RESOLUTION)
        .grid_disk::<Vec<_>>(k)
        .into_iter()
        .filter_map(|c| i64::try_from(u64::from(c)).ok())
        .collect()
}

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

/// The assigned chauffeur's last position while en route, with an ETA to the pickup.
pub async fn position_for_rider(state: &AppState, booking_id: Uuid) -> Option<PositionEvent> {
    let (booking, _) = state.store.booking(booking_id).await.ok()??;
    if booking.state != BookingState::EnRoute {
        return None;
    }
    let position = state
        .store
        .position_of(booking.chauffeur_id?)
        .await
        .ok()??;
    let eta_s = state.catalog.city(&booking.city_id).ok().map(|city| {
        let here = LatLon {
            lat: position.lat,
            lon: position.lon,
        };
        let metres = road_distance_m(city, here, booking.quote.pickup_point);
        driving_time_s(city, metres, position.at)
    });
    Some(PositionEvent {
        booking_id,
        lat: position.lat,
        lon: position.lon,
        at: position.at,
        eta_s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chauffeur_core::great_circle_m;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_cells_around_a_pickup_hold_every_point_within_the_radius(
            at in (48.0f64..60.0, -10.0f64..30.0),
            offset in (-0.3f64..0.3, -0.3f64..0.3),
            radius in 500u32..20_000,
        ) {
            let at = LatLon { lat: at.0, lon: at.1 };
            let point = LatLon { lat: at.lat + offset.0, lon: at.lon + offset.1 };
            if great_circle_m(at, point) <= f64::from(radius) {
                let cell = cell_of(point.lat, point.lon).unwrap();
                prop_assert!(cells_around(at, radius).contains(&cell));
            }
        }
    }
}
