//! The booking archive: every version of every booking, in the order they were written, a page
//! at a time.

use chrono::{DateTime, Utc};
use sqlx::Pool;

use super::Db;
use crate::store::archive::ArchiveRow;
use crate::store::StoreError;

/// History entries written in `[from, to)` after the entry `after_id`, oldest first, with the
/// rider's and passenger's data as they are now (erased data stays erased).
pub async fn history_page(
    pool: &Pool<Db>,
    after_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<ArchiveRow>, StoreError> {
    let rows = sqlx::query_as::<Db, ArchiveRow>(
        "SELECT h.id, h.booking_id, h.version, h.at, h.actor, h.actor_id, h.from_state, \
         h.to_state, h.snapshot, b.rider_id, u.name AS rider_name, u.email AS rider_email, \
         u.erased_at AS rider_erased_at, p.passenger_name, p.passenger_phone, p.flight_number \
         FROM booking_history h JOIN bookings b ON b.id = h.booking_id \
         JOIN users u ON u.id = b.rider_id \
         LEFT JOIN booking_personal p ON p.booking_id = h.booking_id \
         WHERE h.id > $1 AND h.at >= $2 AND h.at < $3 ORDER BY h.id LIMIT $4",
    )
    .bind(after_id)
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows)
}
