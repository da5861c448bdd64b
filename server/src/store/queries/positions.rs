//! Chauffeur positions and the chauffeurs online near a pickup.

use sqlx::Pool;
use uuid::Uuid;

use super::{Db, BEGIN_WRITE, NOTIFY};
use crate::live::Position;
use crate::store::rows::{OnlineChauffeurRow, PositionRow};
use crate::store::{AvailableChauffeur, ChauffeurSearch, StoreError};

/// Upserts the latest positions, all in one transaction.
pub async fn save_positions(
    pool: &Pool<Db>,
    positions: &[(Uuid, Position)],
) -> Result<(), StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    for (chauffeur, p) in positions {
        let Some(cell) = crate::live::cell_of(p.lat, p.lon) else {
            continue;
        };
        sqlx::query::<Db>(
            "INSERT INTO chauffeur_positions (chauffeur_id, lat, lon, at, cell) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (chauffeur_id) DO UPDATE SET lat = excluded.lat, lon = excluded.lon, \
             at = excluded.at, cell = excluded.cell",
        )
        .bind(chauffeur)
        .bind(p.lat)
        .bind(p.lon)
        .bind(p.at)
        .bind(cell)
        .execute(&mut *tx)
        .await?;
    }
    if let Some(notify) = NOTIFY {
        sqlx::query::<Db>(notify).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn position_of(pool: &Pool<Db>, chauffeur: Uuid) -> Result<Option<Position>, StoreError> {
    let row = sqlx::query_as::<Db, PositionRow>(
        "SELECT lat, lon, at FROM chauffeur_positions WHERE chauffeur_id = $1",
    )
    .bind(chauffeur)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(Position::from))
}

/// Chauffeurs online near a pickup who could take an on-demand ride.
pub async fn online_chauffeurs(
    pool: &Pool<Db>,
    search: &ChauffeurSearch<'_>,
) -> Result<Vec<AvailableChauffeur>, StoreError> {
    let cells = search.cells;
    if cells.is_empty() {
        return Ok(Vec::new());
    }
    // Only numbered placeholders are added to the text; the values are bound.
    let placeholders: Vec<String> = (0..cells.len()).map(|i| format!("${}", i + 9)).collect();
    let sql = format!(
        "SELECT cp.chauffeur_id, m.partner_id, cp.lat, cp.lon, \
         (SELECT v.id FROM vehicles v WHERE v.partner_id = m.partner_id AND v.active = $1 \
            AND v.vehicle_class = $3 AND v.seats >= $4 AND v.bags >= $5 \
            ORDER BY v.plate LIMIT 1) AS vehicle_id \
         FROM chauffeur_positions cp \
         JOIN partner_members m ON m.user_id = cp.chauffeur_id \
         JOIN users u ON u.id = cp.chauffeur_id \
         JOIN partners p ON p.id = m.partner_id \
         WHERE u.role = 'chauffeur' AND u.erased_at IS NULL AND p.active = $1 AND cp.at > $6 \
         AND EXISTS (SELECT 1 FROM partner_cities c WHERE c.partner_id = p.id AND c.city_id = $2) \
         AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.chauffeur_id = cp.chauffeur_id \
            AND a.starts_at < $8 AND $7 < a.ends_at) \
         AND cp.cell IN ({})",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_as::<Db, OnlineChauffeurRow>(sqlx::AssertSqlSafe(sql))
        .bind(true)
        .bind(search.city_id)
        .bind(search.class.as_str())
        .bind(search.passengers)
        .bind(search.bags)
        .bind(search.online_since)
        .bind(search.free_from)
        .bind(search.free_until);
    for cell in cells {
        query = query.bind(*cell);
    }
    let rows = query.fetch_all(pool).await?;
    // A chauffeur whose partner has no fitting vehicle cannot take the ride.
    Ok(rows
        .into_iter()
        .filter_map(OnlineChauffeurRow::available)
        .collect())
}
