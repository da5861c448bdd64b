//! Chauffeur positions: the latest one of each chauffeur, and who is online near a pickup.

use chauffeur_core::catalog::VehicleClass;
use chauffeur_core::LatLon;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Store, StoreError};

/// Whom an on-demand ride can be offered to: chauffeurs online (a position since
/// `online_since`, in one of `cells`) whose partner is active in the city and has a fitting
/// vehicle, with no ride overlapping `[free_from, free_until)`.
#[derive(Debug, Clone)]
pub struct ChauffeurSearch<'a> {
    pub city_id: &'a str,
    pub class: VehicleClass,
    pub passengers: i64,
    pub bags: i64,
    pub online_since: DateTime<Utc>,
    pub free_from: DateTime<Utc>,
    pub free_until: DateTime<Utc>,
    pub cells: &'a [i64],
}

/// A chauffeur online near a pickup, the partner they drive for and the first fitting vehicle
/// of that partner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AvailableChauffeur {
    pub chauffeur_id: Uuid,
    pub partner_id: Uuid,
    pub vehicle_id: Uuid,
    pub position: LatLon,
}

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

    /// Chauffeurs online near a pickup who could take an on-demand ride (see
    /// `ChauffeurSearch`), each with the vehicle they would drive.
    pub async fn online_chauffeurs(
        &self,
        search: &ChauffeurSearch<'_>,
    ) -> Result<Vec<AvailableChauffeur>, StoreError> {
        read!(self, positions::online_chauffeurs(search))
    }
}
