//! Reading and listing bookings, their history, state transitions, and erasing a user's
//! personal data.

use chrono::{DateTime, Utc};
use sqlx::{Pool, Row};
use uuid::Uuid;

use chauffeur_core::booking::{Actor, BookingState};
use chauffeur_core::catalog::VehicleClass;
use chauffeur_core::fare::ProductKind;
use serde_json::Value;
use sqlx::types::Json;

use super::events::{append_event, status_payload};
use super::{Conn, Db, DbRow, BEGIN_WRITE};
use crate::store::{
    is_overlap, AssignmentChange, Booking, HistoryEntry, Personal, StoreError, Transition,
};

pub(super) fn booking_from(row: &DbRow) -> Result<Booking, StoreError> {
    let text = |col: &str| -> Result<String, StoreError> { Ok(row.try_get::<String, _>(col)?) };
    let state = text("state")?;
    let class = text("vehicle_class")?;
    let product = text("product")?;
    Ok(Booking {
        id: row.try_get("id")?,
        rider_id: row.try_get("rider_id")?,
        city_id: text("city_id")?,
        state: BookingState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("state {state:?}")))?,
        vehicle_class: VehicleClass::parse(&class)
            .ok_or_else(|| StoreError::Corrupt(format!("class {class:?}")))?,
        product: ProductKind::parse(&product)
            .ok_or_else(|| StoreError::Corrupt(format!("product {product:?}")))?,
        pickup_at: row.try_get("pickup_at")?,
        price_minor: row.try_get("price_minor")?,
        currency: text("currency")?,
        quote: row.try_get::<Json<Value>, _>("quote")?.0,
        child_seats: row.try_get("child_seats")?,
        cancellation_fee_minor: row.try_get("cancellation_fee_minor")?,
        partner_id: row.try_get("partner_id")?,
        chauffeur_id: row.try_get("chauffeur_id")?,
        vehicle_id: row.try_get("vehicle_id")?,
        receipt: row
            .try_get::<Option<Json<Value>>, _>("receipt")?
            .map(|j| j.0),
        final_price_minor: row.try_get("final_price_minor")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn history_from(row: &DbRow) -> Result<HistoryEntry, StoreError> {
    Ok(HistoryEntry {
        version: row.try_get("version")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        actor_id: row.try_get("actor_id")?,
        from_state: row.try_get("from_state")?,
        to_state: row.try_get("to_state")?,
        snapshot: row.try_get::<Json<Value>, _>("snapshot")?.0,
    })
}

fn snapshot(booking: &Booking) -> Result<Json<Value>, StoreError> {
    serde_json::to_value(booking)
        .map(Json)
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A booking read inside the caller's transaction.
pub(super) async fn booking_in(tx: &mut Conn, id: Uuid) -> Result<Option<Booking>, StoreError> {
    let row = sqlx::query::<Db>(
        "SELECT id, rider_id, city_id, state, vehicle_class, product, pickup_at, \
         price_minor, currency, quote, child_seats, cancellation_fee_minor, version, \
         created_at, updated_at, partner_id, chauffeur_id, vehicle_id, receipt, \
         final_price_minor FROM bookings WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    row.map(|r| booking_from(&r)).transpose()
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

pub async fn bookings_of(pool: &Pool<Db>, rider_id: Uuid) -> Result<Vec<Booking>, StoreError> {
    let rows = sqlx::query::<Db>(
        "SELECT id, rider_id, city_id, state, vehicle_class, product, pickup_at, \
         price_minor, currency, quote, child_seats, cancellation_fee_minor, version, \
         created_at, updated_at, partner_id, chauffeur_id, vehicle_id, receipt, \
         final_price_minor FROM bookings WHERE rider_id = $1 \
         ORDER BY pickup_at DESC, id DESC",
    )
    .bind(rider_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(booking_from).collect()
}

pub async fn booking(pool: &Pool<Db>, id: Uuid) -> Result<Option<(Booking, Personal)>, StoreError> {
    let row = sqlx::query::<Db>(
        "SELECT b.id, b.rider_id, b.city_id, b.state, b.vehicle_class, b.product, \
         b.pickup_at, b.price_minor, b.currency, b.quote, b.child_seats, \
         b.cancellation_fee_minor, b.version, b.created_at, b.updated_at, b.partner_id, \
         b.chauffeur_id, b.vehicle_id, b.receipt, b.final_price_minor, \
         p.passenger_name, p.passenger_phone, p.flight_number, p.notes \
         FROM bookings b LEFT JOIN booking_personal p ON p.booking_id = b.id \
         WHERE b.id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        let personal = Personal {
            passenger_name: r.try_get("passenger_name")?,
            passenger_phone: r.try_get("passenger_phone")?,
            flight_number: r.try_get("flight_number")?,
            notes: r.try_get("notes")?,
        };
        Ok((booking_from(&r)?, personal))
    })
    .transpose()
}

pub async fn history(pool: &Pool<Db>, booking_id: Uuid) -> Result<Vec<HistoryEntry>, StoreError> {
    let rows = sqlx::query::<Db>(
        "SELECT version, at, actor, actor_id, from_state, to_state, snapshot \
         FROM booking_history WHERE booking_id = $1 ORDER BY version",
    )
    .bind(booking_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(history_from).collect()
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
    if let Some((receipt, total)) = &t.receipt {
        after.receipt = Some(receipt.clone());
        after.final_price_minor = Some(*total);
    }
    if t.given_back_by.is_some() {
        after.partner_id = None;
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
         receipt = $8, final_price_minor = $9 WHERE id = $10 AND version = $11",
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

/// Bookings by one of the columns that name who serves them.
pub async fn bookings_served_by(
    pool: &Pool<Db>,
    partner_id: Option<Uuid>,
    chauffeur_id: Option<Uuid>,
) -> Result<Vec<Booking>, StoreError> {
    let rows = sqlx::query::<Db>(
        "SELECT id, rider_id, city_id, state, vehicle_class, product, pickup_at, \
         price_minor, currency, quote, child_seats, cancellation_fee_minor, version, \
         created_at, updated_at, partner_id, chauffeur_id, vehicle_id, receipt, \
         final_price_minor FROM bookings \
         WHERE ($1 IS NOT NULL AND partner_id = $1) OR ($2 IS NOT NULL AND chauffeur_id = $2) \
         ORDER BY pickup_at, id",
    )
    .bind(partner_id)
    .bind(chauffeur_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(booking_from).collect()
}

/// Pending bookings, soonest pickup first: the dispatcher's work list.
pub async fn pending_bookings(pool: &Pool<Db>, limit: i64) -> Result<Vec<Uuid>, StoreError> {
    let rows = sqlx::query::<Db>(
        "SELECT id FROM bookings WHERE state = 'pending' ORDER BY pickup_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?)
}

/// Erases a user's personal data. Bookings and their history stay, anonymised.
pub async fn erase_user(
    pool: &Pool<Db>,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
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
    tx.commit().await?;
    Ok(())
}
