//! Invoices and their gap-free numbering.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::Pool;
use uuid::Uuid;

use super::{Db, BEGIN_WRITE};
use crate::store::{is_unique_violation, IssuedInvoice, StoreError};

/// The booking's invoice if it has one; otherwise takes the issuer's next number and stores
/// `document` under it, in one transaction (a number is only ever used by a stored invoice).
pub async fn issue_invoice(
    pool: &Pool<Db>,
    booking_id: Uuid,
    issuer: &str,
    issued_at: DateTime<Utc>,
    document: &Value,
) -> Result<IssuedInvoice, StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    if let Some(existing) = sqlx::query_as::<Db, (i64, DateTime<Utc>, Json<Value>)>(
        "SELECT number, issued_at, document FROM invoices WHERE booking_id = $1",
    )
    .bind(booking_id)
    .fetch_optional(&mut *tx)
    .await?
    {
        tx.commit().await?;
        return Ok(IssuedInvoice {
            sequence: existing.0,
            issued_at: existing.1,
            document: existing.2 .0,
        });
    }
    let sequence = sqlx::query_scalar::<Db, i64>(
        "INSERT INTO invoice_counters (issuer, last_number) VALUES ($1, 1) \
         ON CONFLICT (issuer) DO UPDATE SET last_number = invoice_counters.last_number + 1 \
         RETURNING last_number",
    )
    .bind(issuer)
    .fetch_one(&mut *tx)
    .await?;
    let inserted = sqlx::query::<Db>(
        "INSERT INTO invoices (booking_id, issuer, number, issued_at, document) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(booking_id)
    .bind(issuer)
    .bind(sequence)
    .bind(issued_at)
    .bind(Json(document))
    .execute(&mut *tx)
    .await;
    match inserted {
        Ok(_) => tx.commit().await?,
        // Another request issued this booking's invoice meanwhile (PostgreSQL lets both
        // look first): ours rolls back, number included, and theirs is the invoice.
        Err(e) if is_unique_violation(&e) => {
            tx.rollback().await?;
            return invoice(pool, booking_id).await?.ok_or(StoreError::Stale);
        }
        Err(e) => return Err(e.into()),
    }
    Ok(IssuedInvoice {
        sequence,
        issued_at,
        document: document.clone(),
    })
}

/// The booking's invoice, if one was issued.
pub async fn invoice(
    pool: &Pool<Db>,
    booking_id: Uuid,
) -> Result<Option<IssuedInvoice>, StoreError> {
    let row = sqlx::query_as::<Db, (i64, DateTime<Utc>, Json<Value>)>(
        "SELECT number, issued_at, document FROM invoices WHERE booking_id = $1",
    )
    .bind(booking_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(sequence, issued_at, document)| IssuedInvoice {
        sequence,
        issued_at,
        document: document.0,
    }))
}
