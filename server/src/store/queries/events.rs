//! Events for the riders' and partners' streams.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::Pool;
use uuid::Uuid;

use super::{Conn, Db, NOTIFY};
use crate::store::rows::EventRow;
use crate::store::{Booking, StoreError, StreamEvent};

/// Appends an event for the streams, in the caller's transaction.
pub(super) async fn append_event(
    tx: &mut Conn,
    booking_id: Option<Uuid>,
    partner_id: Option<Uuid>,
    kind: &str,
    payload: Value,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query::<Db>(
        "INSERT INTO events (booking_id, partner_id, kind, payload, at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(booking_id)
    .bind(partner_id)
    .bind(kind)
    .bind(Json(payload))
    .bind(at)
    .execute(&mut *tx)
    .await?;
    if let Some(notify) = NOTIFY {
        sqlx::query::<Db>(notify).execute(&mut *tx).await?;
    }
    Ok(())
}

pub(super) fn status_payload(booking: &Booking) -> Value {
    serde_json::json!({
        "booking_id": booking.id,
        "state": booking.state.as_str(),
        "version": booking.version,
        "at": booking.updated_at,
    })
}

pub async fn events_after(
    pool: &Pool<Db>,
    booking_id: Option<Uuid>,
    partner_id: Option<Uuid>,
    after_id: i64,
) -> Result<Vec<StreamEvent>, StoreError> {
    let rows = sqlx::query_as::<Db, EventRow>(
        "SELECT id, kind, payload, at FROM events \
         WHERE id > $1 \
         AND (($2 IS NOT NULL AND booking_id = $2) OR ($3 IS NOT NULL AND partner_id = $3)) \
         ORDER BY id LIMIT 500",
    )
    .bind(after_id)
    .bind(booking_id)
    .bind(partner_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(StreamEvent::from).collect())
}
