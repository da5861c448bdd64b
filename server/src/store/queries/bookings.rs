//! Reading and listing bookings, their history, state transitions, and erasing a user's
//! personal data.

use chauffeur_core::booking::{Actor, BookingState};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::Pool;
use uuid::Uuid;

use super::events::{append_event, status_payload};
use super::{Conn, Db, BEGIN_WRITE};
use crate::store::rows::{BookingRow, BookingWithPersonalRow, HistoryRow, RiderHistoryRow};
use crate::store::{
    is_overlap, AssignmentChange, Booking, HistoryEntry, PageKey, Personal, StoreError, Transition,
};

fn snapshot(booking: &Booking) -> Result<Json<Value>, StoreError> {
    serde_json::to_value(booking)
        .map(Json)
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A booking read inside the caller's transaction.
pub(super) async fn booking_in(tx: &mut Conn, id: Uuid) -> Result<Option<Booking>, StoreError> {
    let row = sqlx::query_as::<Db, BookingRow>(concat!(
        "SELECT ",
        booking_columns!(),
        " FROM bookings WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    row.map(Booking::try_from).transpose()
}

/// Appends the booking's new version to its history, in the caller's transaction.
pub(super) async fn append_history(
    tx: &mut Conn,
    booking: &Booking,
    at: DateTime<Utc>,
    actor: Actor,
    actor_id: Option<Uuid>,
    from_state: Option<BookingState>,
) -> Result<(), StoreError> {
    sqlx::query::<Db>(
        "INSERT INTO booking_history \
         (booking_id, version, at, actor, actor_id, from_state, to_state, snapshot) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(booking.id)
    .bind(booking.version)
    .bind(at)
    .bind(actor.as_str())
    .bind(actor_id)
    .bind(from_state.map(|s| s.as_str()))
    .bind(booking.state.as_str())
    .bind(snapshot(booking)?)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn booking(pool: &Pool<Db>, id: Uuid) -> Result<Option<(Booking, Personal)>, StoreError> {
    // booking_personal shares no column name with bookings, so the names need no table.
    let row = sqlx::query_as::<Db, BookingWithPersonalRow>(concat!(
        "SELECT ",
        booking_columns!(),
        ", passenger_name, passenger_phone, flight_number, notes \
         FROM bookings b LEFT JOIN booking_personal p ON p.booking_id = b.id \
         WHERE b.id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(<(Booking, Personal)>::try_from).transpose()
}

pub async fn history(pool: &Pool<Db>, booking_id: Uuid) -> Result<Vec<HistoryEntry>, StoreError> {
    let rows = sqlx::query_as::<Db, HistoryRow>(
        "SELECT version, at, actor, actor_id, from_state, to_state, snapshot \
         FROM booking_history WHERE booking_id = $1 ORDER BY version",
    )
    .bind(booking_id)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(HistoryEntry::try_from).collect()
}

/// A rider's bookings with their personal data, latest pickup first.
pub async fn rider_bookings_with_personal(
    pool: &Pool<Db>,
    rider_id: Uuid,
    after: Option<PageKey>,
    limit: i64,
) -> Result<Vec<(Booking, Personal)>, StoreError> {
    let (after_at, after_id) = after.unzip();
    let rows = sqlx::query_as::<Db, BookingWithPersonalRow>(concat!(
        "SELECT ",
        booking_columns!(),
        ", passenger_name, passenger_phone, flight_number, notes \
         FROM bookings b LEFT JOIN booking_personal p ON p.booking_id = b.id \
         WHERE rider_id = $1 \
           AND ($2 IS NULL OR pickup_at < $2 OR (pickup_at = $2 AND id < $3)) \
         ORDER BY pickup_at DESC, id DESC LIMIT $4"
    ))
    .bind(rider_id)
    .bind(after_at)
    .bind(after_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(<(Booking, Personal)>::try_from)
        .collect()
}

/// Bookings served by a partner or a chauffeur, with their personal data, soonest pickup
/// first, from after `after`.
pub async fn served_bookings_with_personal(
    pool: &Pool<Db>,
    partner_id: Option<Uuid>,
    chauffeur_id: Option<Uuid>,
    after: Option<PageKey>,
    limit: i64,
) -> Result<Vec<(Booking, Personal)>, StoreError> {
    let (after_at, after_id) = after.unzip();
    let rows = sqlx::query_as::<Db, BookingWithPersonalRow>(concat!(
        "SELECT ",
        booking_columns!(),
        ", passenger_name, passenger_phone, flight_number, notes \
         FROM bookings b LEFT JOIN booking_personal p ON p.booking_id = b.id \
         WHERE (($1 IS NOT NULL AND partner_id = $1) OR ($2 IS NOT NULL AND chauffeur_id = $2)) \
           AND ($3 IS NULL OR pickup_at > $3 OR (pickup_at = $3 AND id > $4)) \
         ORDER BY pickup_at, id LIMIT $5"
    ))
    .bind(partner_id)
    .bind(chauffeur_id)
    .bind(after_at)
    .bind(after_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(<(Booking, Personal)>::try_from)
        .collect()
}

/// The history of a rider's bookings from `newest` down to `oldest` (inclusive, in the rider
/// list's order): one page of an export. Each booking's entries in version order.
pub async fn rider_history_between(
    pool: &Pool<Db>,
    rider_id: Uuid,
    newest: PageKey,
    oldest: PageKey,
) -> Result<Vec<(Uuid, HistoryEntry)>, StoreError> {
    let rows = sqlx::query_as::<Db, RiderHistoryRow>(
        "SELECT h.booking_id, h.version, h.at, h.actor, h.actor_id, h.from_state, h.to_state, \
         h.snapshot FROM booking_history h JOIN bookings b ON b.id = h.booking_id \
         WHERE b.rider_id = $1 \
           AND (b.pickup_at < $2 OR (b.pickup_at = $2 AND b.id <= $3)) \
           AND (b.pickup_at > $4 OR (b.pickup_at = $4 AND b.id >= $5)) \
         ORDER BY h.booking_id, h.version",
    )
    .bind(rider_id)
    .bind(newest.0)
    .bind(newest.1)
    .bind(oldest.0)
    .bind(oldest.1)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|row| Ok((row.booking_id, row.entry.try_into()?)))
        .collect()
}

/// Moves a booking to a new state if nobody changed it since `expected_version`, and
/// appends the history entry in the same transaction.
pub async fn transition(pool: &Pool<Db>, t: &Transition) -> Result<Booking, StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let Some(before) = booking_in(&mut tx, t.booking_id).await? else {
        return Err(StoreError::Stale);
    };
    let mut after = Booking {
        state: t.to,
        version: before.version + 1,
        updated_at: t.at,
        cancellation_fee_minor: t.cancellation_fee_minor.or(before.cancellation_fee_minor),
        ..before.clone()
    };
    if let Some(receipt) = &t.receipt {
        after.receipt = Some(receipt.clone());
        after.final_price_minor = Some(receipt.fare.total.amount_minor);
    }
    if t.given_back_by.is_some() {
        after.partner_id = None;
    }
    if let Some(payment) = &t.payment {
        after.payment = Some(payment.clone());
    }
    match &t.assignment {
        AssignmentChange::Keep => {}
        AssignmentChange::Release => {
            after.chauffeur_id = None;
            after.vehicle_id = None;
        }
        AssignmentChange::Assign {
            chauffeur_id,
            vehicle_id,
            ..
        } => {
            after.chauffeur_id = Some(*chauffeur_id);
            after.vehicle_id = Some(*vehicle_id);
        }
    }
    let updated = sqlx::query::<Db>(
        "UPDATE bookings SET state = $1, version = $2, updated_at = $3, \
         cancellation_fee_minor = $4, partner_id = $5, chauffeur_id = $6, vehicle_id = $7, \
         receipt = $8, final_price_minor = $9, payment = $12, payment_status = $13, \
         payment_intent_id = $14 \
         WHERE id = $10 AND version = $11",
    )
    .bind(after.state.as_str())
    .bind(after.version)
    .bind(after.updated_at)
    .bind(after.cancellation_fee_minor)
    .bind(after.partner_id)
    .bind(after.chauffeur_id)
    .bind(after.vehicle_id)
    .bind(after.receipt.as_ref().map(Json))
    .bind(after.final_price_minor)
    .bind(t.booking_id)
    .bind(t.expected_version)
    .bind(after.payment.as_ref().map(Json))
    .bind(after.payment.as_ref().map(|p| p.status.as_str()))
    .bind(after.payment.as_ref().map(|p| p.intent_id.as_str()))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated != 1 {
        tx.rollback().await?;
        return Err(StoreError::Stale);
    }
    match &t.assignment {
        AssignmentChange::Keep => {}
        AssignmentChange::Release => {
            sqlx::query::<Db>("DELETE FROM assignments WHERE booking_id = $1")
                .bind(t.booking_id)
                .execute(&mut *tx)
                .await?;
        }
        AssignmentChange::Assign {
            partner_id,
            chauffeur_id,
            vehicle_id,
            starts_at,
            ends_at,
        } => {
            sqlx::query::<Db>("DELETE FROM assignments WHERE booking_id = $1")
                .bind(t.booking_id)
                .execute(&mut *tx)
                .await?;
            let inserted = sqlx::query::<Db>(
                "INSERT INTO assignments \
                 (booking_id, partner_id, chauffeur_id, vehicle_id, starts_at, ends_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(t.booking_id)
            .bind(partner_id)
            .bind(chauffeur_id)
            .bind(vehicle_id)
            .bind(starts_at)
            .bind(ends_at)
            .execute(&mut *tx)
            .await;
            if let Err(e) = inserted {
                return Err(if is_overlap(&e) {
                    StoreError::Conflict("chauffeur_busy")
                } else {
                    e.into()
                });
            }
        }
    }
    if let Some(partner_id) = t.given_back_by {
        sqlx::query::<Db>(
            "INSERT INTO give_backs (booking_id, partner_id, at) VALUES ($1, $2, $3)",
        )
        .bind(t.booking_id)
        .bind(partner_id)
        .bind(t.at)
        .execute(&mut *tx)
        .await?;
        sqlx::query::<Db>(
            "UPDATE offers SET state = 'withdrawn' WHERE booking_id = $1 AND state = 'accepted'",
        )
        .bind(t.booking_id)
        .execute(&mut *tx)
        .await?;
    }
    append_history(
        &mut tx,
        &after,
        t.at,
        t.actor,
        t.actor_id,
        Some(before.state),
    )
    .await?;
    let partner = after.partner_id.or(before.partner_id);
    append_event(
        &mut tx,
        Some(after.id),
        partner,
        "status",
        status_payload(&after),
        t.at,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Pending bookings, soonest pickup first: the dispatcher's work list.
pub async fn pending_bookings(pool: &Pool<Db>, limit: i64) -> Result<Vec<Uuid>, StoreError> {
    let ids = sqlx::query_scalar::<Db, Uuid>(
        "SELECT id FROM bookings WHERE state = 'pending' ORDER BY pickup_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(ids)
}

/// Erases a user's personal data. Bookings and their history stay, anonymised.
pub async fn erase_user(
    pool: &Pool<Db>,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    // Inside the erasing transaction: a booking that is still ahead (booked meanwhile, or not
    // cancelled) keeps the account, so no partner is ever offered a ride whose passenger is gone.
    let ahead = sqlx::query_scalar::<Db, i64>(
        "SELECT COUNT(*) FROM bookings WHERE rider_id = $1 \
         AND state NOT IN ('completed', 'cancelled', 'no_show', 'unfulfilled')",
    )
    .bind(user_id)
    .fetch_one(&mut *tx)
    .await?;
    if ahead > 0 {
        return Err(StoreError::Stale);
    }
    sqlx::query::<Db>(
        "UPDATE users SET email = $1, password_hash = '!', name = NULL, phone = NULL, \
         erased_at = $2 WHERE id = $3",
    )
    .bind(format!("erased-{user_id}@erased.invalid"))
    .bind(now)
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query::<Db>(
        "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query::<Db>(
        "UPDATE booking_personal SET passenger_name = NULL, passenger_phone = NULL, \
         flight_number = NULL, notes = NULL \
         WHERE booking_id IN (SELECT id FROM bookings WHERE rider_id = $1)",
    )
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    // The stored first answers of the rider's booking requests hold the passenger's details
    // too; the account can no longer sign in to replay them, so they go.
    sqlx::query::<Db>("DELETE FROM idempotency_keys WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
