//! Creating a booking under an idempotency key.

use chauffeur_core::booking::Actor;
use sqlx::types::Json;
use sqlx::Pool;
use uuid::Uuid;

use super::bookings::append_history;
use super::events::{append_event, status_payload};
use super::{Conn, Db, BEGIN_WRITE, TRY_KEY_LOCK};
use crate::store::rows::StoredKeyRow;
use crate::store::{is_unique_violation, Booking, Created, IdempotentCreate, Personal, StoreError};

/// Creates the booking under its idempotency key, all in one transaction: the key
/// with the response to replay, the booking, its personal data and its first history
/// entry. An existing key answers Replay or Mismatch and creates nothing.
pub async fn create_booking_idempotent(
    pool: &Pool<Db>,
    request: &IdempotentCreate<'_>,
    booking: &Booking,
    personal: &Personal,
) -> Result<Created, StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let outcome = create_booking_idempotent_in(&mut tx, request, booking, personal).await;
    if matches!(outcome, Ok(Created::Created)) {
        tx.commit().await?;
    } else {
        // Nothing to keep; an error from the rollback would only hide the first one.
        let _ = tx.rollback().await;
    }
    outcome
}

/// The work of `create_booking_idempotent` inside a transaction the caller owns
/// (and commits only if the answer is `Created`).
pub async fn create_booking_idempotent_in(
    tx: &mut Conn,
    request: &IdempotentCreate<'_>,
    booking: &Booking,
    personal: &Personal,
) -> Result<Created, StoreError> {
    if let Some(lock_sql) = TRY_KEY_LOCK {
        // Another replica (or connection) working on the same key holds this lock
        // until its transaction ends.
        let locked = sqlx::query_scalar::<Db, bool>(lock_sql)
            .bind(format!("{}:{}", request.user_id, request.key))
            .fetch_one(&mut *tx)
            .await?;
        if !locked {
            return Ok(Created::InProgress);
        }
    }
    let existing = sqlx::query_as::<Db, StoredKeyRow>(
        "SELECT request_hash, response_status, response_body FROM idempotency_keys \
         WHERE user_id = $1 AND idem_key = $2",
    )
    .bind(request.user_id)
    .bind(request.key)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(stored) = existing {
        let outcome = if stored.request_hash == request.request_hash {
            Created::Replay {
                status: u16::try_from(stored.response_status).unwrap_or(500),
                body: stored.response_body,
            }
        } else {
            Created::Mismatch
        };
        return Ok(outcome);
    }
    sqlx::query::<Db>(
        "INSERT INTO bookings (id, rider_id, city_id, state, vehicle_class, product, \
         pickup_at, price_minor, currency, quote, child_seats, version, created_at, \
         updated_at, payment, payment_status, payment_intent_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(booking.id)
    .bind(booking.rider_id)
    .bind(&booking.city_id)
    .bind(booking.state.as_str())
    .bind(booking.vehicle_class.as_str())
    .bind(booking.product.as_str())
    .bind(booking.pickup_at)
    .bind(booking.price_minor)
    .bind(&booking.currency)
    .bind(Json(&booking.quote))
    .bind(booking.child_seats)
    .bind(booking.version)
    .bind(booking.created_at)
    .bind(booking.updated_at)
    .bind(booking.payment.as_ref().map(Json))
    .bind(booking.payment.as_ref().map(|p| p.status.as_str()))
    .bind(booking.payment.as_ref().map(|p| p.intent_id.as_str()))
    .execute(&mut *tx)
    .await?;
    sqlx::query::<Db>(
        "INSERT INTO booking_personal \
         (booking_id, passenger_name, passenger_phone, flight_number, notes) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(booking.id)
    .bind(&personal.passenger_name)
    .bind(&personal.passenger_phone)
    .bind(&personal.flight_number)
    .bind(&personal.notes)
    .execute(&mut *tx)
    .await?;
    append_history(
        &mut *tx,
        booking,
        booking.created_at,
        Actor::Rider,
        Some(booking.rider_id),
        None,
    )
    .await?;
    append_event(
        &mut *tx,
        Some(booking.id),
        None,
        "status",
        status_payload(booking),
        booking.created_at,
    )
    .await?;
    if let Some(provider_key) = request.payment_attempt {
        // The authorisation is now the booking's: nothing left for the reconciliation.
        sqlx::query::<Db>("DELETE FROM payment_attempts WHERE provider_key = $1")
            .bind(provider_key)
            .execute(&mut *tx)
            .await?;
    }
    let inserted = sqlx::query::<Db>(
        "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, \
         response_status, response_body, booking_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(request.user_id)
    .bind(request.key)
    .bind(request.request_hash)
    .bind(i32::from(request.response_status))
    .bind(request.response_body)
    .bind(booking.id)
    .bind(booking.created_at)
    .execute(&mut *tx)
    .await;
    match inserted {
        // Another transaction inserted the key after our look-up (without the
        // advisory lock this can only be a concurrent duplicate).
        Err(e) if is_unique_violation(&e) => return Ok(Created::InProgress),
        Err(e) => return Err(e.into()),
        Ok(_) => {}
    }
    Ok(Created::Created)
}

/// The first answer stored for the user's key: (request hash, status, body).
pub async fn stored_answer(
    pool: &Pool<Db>,
    user_id: Uuid,
    key: &str,
) -> Result<Option<(String, u16, String)>, StoreError> {
    let stored = sqlx::query_as::<Db, StoredKeyRow>(
        "SELECT request_hash, response_status, response_body FROM idempotency_keys \
         WHERE user_id = $1 AND idem_key = $2",
    )
    .bind(user_id)
    .bind(key)
    .fetch_optional(pool)
    .await?;
    Ok(stored.map(|s| {
        (
            s.request_hash,
            u16::try_from(s.response_status).unwrap_or(500),
            s.response_body,
        )
    }))
}

/// How many first answers are kept for a user's requests.
pub async fn stored_answers_of(pool: &Pool<Db>, user_id: Uuid) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar::<Db, i64>("SELECT COUNT(*) FROM idempotency_keys WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(pool)
            .await?,
    )
}
