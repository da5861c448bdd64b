//! Chauffeur positions: the latest one of each chauffeur, and who is online near a pickup.

use chauffeur_core::catalog::VehicleClass;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Store, StoreError};

impl Store {
    /// Upserts the latest positions, all in one transaction.
    pub async fn save_positions(
        &self,
        positions: &[(Uuid, crate::live::Position)],
    ) -> Result<(), StoreError> {
        write_turn!(self, positions::save_positions(positions))
    }

    /// A chauffeur's latest position.
    pub async fn position_of(
        &self,
        chauffeur: Uuid,
    ) -> Result<Option<crate::live::Position>, StoreError> {
        read!(self, positions::position_of(chauffeur))
    }

    /// Chauffeurs online (a position since `since`, in one of `cells`) for an on-demand
    /// ride: their partner is active in the city and has a fitting vehicle; they have no ride
    /// overlapping `[starts, ends)`. Rows: (chauffeur, partner, vehicle, lat, lon).
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    pub async fn online_chauffeurs(
        &self,
        city_id: &str,
        class: VehicleClass,
        passengers: i64,
        bags: i64,
        since: DateTime<Utc>,
        starts: DateTime<Utc>,
        ends: DateTime<Utc>,
        cells: &[i64],
    ) -> Result<Vec<(Uuid, Uuid, Uuid, f64, f64)>, StoreError> {
        read!(
            self,
            positions::online_chauffeurs(
                city_id, class, passengers, bags, since, starts, ends, cells
            )
        )
    }
}
