//! Payment attempts (authorisations asked of the provider before their booking is written) and
//! the bookings whose payment is still open.

use chrono::{DateTime, Utc};
use sqlx::Pool;
use uuid::Uuid;

use super::{Db, BEGIN_WRITE};
use crate::store::{is_unique_violation, AttemptStart, PaymentAttempt, StoreError};

type AttemptRow = (
    String,
    Uuid,
    String,
    i64,
    String,
    Uuid,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

fn attempt_of(row: AttemptRow) -> PaymentAttempt {
    PaymentAttempt {
        provider_key: row.0,
        user_id: row.1,
        payment_method: row.2,
        amount_minor: row.3,
        currency: row.4,
        booking_id: row.5,
        created_at: row.6,
        abandoned_at: row.7,
    }
}

macro_rules! select_attempts {
    ($rest:literal) => {
        concat!(
            "SELECT provider_key, user_id, payment_method, amount_minor, currency, booking_id, \
             created_at, abandoned_at FROM payment_attempts ",
            $rest
        )
    };
}

/// Records the attempt unless one with its provider key exists; then answers that one.
pub async fn begin_attempt(
    pool: &Pool<Db>,
    attempt: &PaymentAttempt,
) -> Result<AttemptStart, StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let existing = sqlx::query_as::<Db, AttemptRow>(select_attempts!("WHERE provider_key = $1"))
        .bind(&attempt.provider_key)
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(row) = existing {
        tx.commit().await?;
        return Ok(AttemptStart::Existing(attempt_of(row)));
    }
    let inserted = sqlx::query::<Db>(
        "INSERT INTO payment_attempts (provider_key, user_id, payment_method, amount_minor, \
         currency, booking_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&attempt.provider_key)
    .bind(attempt.user_id)
    .bind(&attempt.payment_method)
    .bind(attempt.amount_minor)
    .bind(&attempt.currency)
    .bind(attempt.booking_id)
    .bind(attempt.created_at)
    .execute(&mut *tx)
    .await;
    match inserted {
        Ok(_) => {
            tx.commit().await?;
            Ok(AttemptStart::New)
        }
        Err(e) if is_unique_violation(&e) => {
            let _ = tx.rollback().await;
            Err(StoreError::Conflict("payment attempt"))
        }
        Err(e) => Err(e.into()),
    }
}

/// Forgets an attempt that created nothing (declined) or whose hold was released.
pub async fn drop_attempt(pool: &Pool<Db>, provider_key: &str) -> Result<(), StoreError> {
    sqlx::query::<Db>("DELETE FROM payment_attempts WHERE provider_key = $1")
        .bind(provider_key)
        .execute(pool)
        .await?;
    Ok(())
}

/// Attempts begun before `before` whose booking was never written and that are not abandoned.
pub async fn stale_attempts(
    pool: &Pool<Db>,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<PaymentAttempt>, StoreError> {
    let rows = sqlx::query_as::<Db, AttemptRow>(select_attempts!(
        "WHERE created_at < $1 AND abandoned_at IS NULL ORDER BY created_at LIMIT $2"
    ))
    .bind(before)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(attempt_of).collect())
}

/// Marks an attempt released by the reconciliation, and forgets those abandoned before
/// `forget_before` (the provider no longer replays their keys).
pub async fn abandon_attempt(
    pool: &Pool<Db>,
    provider_key: &str,
    at: DateTime<Utc>,
    forget_before: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    sqlx::query::<Db>("UPDATE payment_attempts SET abandoned_at = $1 WHERE provider_key = $2")
        .bind(at)
        .bind(provider_key)
        .execute(&mut *tx)
        .await?;
    sqlx::query::<Db>("DELETE FROM payment_attempts WHERE abandoned_at < $1")
        .bind(forget_before)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Bookings whose payment is still open (authorised or waiting for the card step).
pub async fn open_payments(pool: &Pool<Db>, limit: i64) -> Result<Vec<Uuid>, StoreError> {
    Ok(sqlx::query_scalar::<Db, Uuid>(
        "SELECT id FROM bookings WHERE payment_status IN ('authorized', 'requires_action') \
         ORDER BY updated_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// The booking paid with the provider's intent `intent_id`.
pub async fn booking_of_intent(
    pool: &Pool<Db>,
    intent_id: &str,
) -> Result<Option<Uuid>, StoreError> {
    Ok(
        sqlx::query_scalar::<Db, Uuid>("SELECT id FROM bookings WHERE payment_intent_id = $1")
            .bind(intent_id)
            .fetch_optional(pool)
            .await?,
    )
}
