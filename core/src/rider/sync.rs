//! Replaying the outbox (feature `client`): every intent made offline goes to the server in the
//! order it was made, with its own idempotency key, so it is applied exactly once even if the
//! app died after the server committed but before it heard the answer. A refusal is kept with
//! its reason; a network failure stops the round and leaves the rest for the next one.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::cache::{Cache, CacheError, CachedBooking};
use crate::client::{ApiClient, ClientError};

#[derive(Debug, Default, Clone, PartialEq)]
pub struct SyncReport {
    pub sent: usize,
    pub refused: usize,
    /// Entries still waiting (the network failed part-way).
    pub waiting: usize,
    /// The bookings the server returned, by the idempotency key of the entry that made them.
    pub confirmed: Vec<(String, CachedBooking)>,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Cache(#[from] CacheError),
}

/// The cache's view of a booking the server returned.
pub fn cached_from_server(booking: &Value) -> Option<CachedBooking> {
    Some(CachedBooking {
        id: booking["id"].as_str()?.to_owned(),
        city_id: booking["city_id"].as_str()?.to_owned(),
        state: booking["state"].as_str()?.to_owned(),
        pickup_at: booking["pickup_at"]
            .as_str()?
            .parse::<DateTime<Utc>>()
            .ok()?,
        version: booking["version"].as_i64()?,
        json: booking.to_string(),
        pending_sync: false,
    })
}

/// Sends the pending outbox entries in order.
pub async fn sync_outbox(cache: &mut Cache, api: &ApiClient) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    let pending = cache.pending()?;
    let total = pending.len();
    for entry in pending {
        let body: Value = serde_json::from_str(&entry.body).unwrap_or(Value::Null);
        let outcome = match entry.kind.as_str() {
            "create_booking" => api.create_booking(&entry.idempotency_key, &body).await,
            "cancel_booking" => match (
                entry.booking_id.as_deref(),
                body["acknowledged_fee_minor"].as_i64(),
            ) {
                (Some(id), Some(fee)) => api.cancel(id, fee).await,
                _ => Err(ClientError::Decode(
                    "a cancel entry without booking or fee".into(),
                )),
            },
            other => Err(ClientError::Decode(format!(
                "unknown outbox entry kind {other:?}"
            ))),
        };
        match outcome {
            // Still no final answer (offline, or the key is being applied by another request,
            // or the server is briefly unavailable): this entry and the rest wait for the next
            // round, in order.
            Err(e) if e.is_transient() => {
                report.waiting = total - report.sent - report.refused;
                break;
            }
            Ok(booking) => {
                let confirmed = cached_from_server(&booking);
                cache.mark_sent(entry.seq, confirmed.as_ref())?;
                report.sent += 1;
                if let Some(b) = confirmed {
                    report.confirmed.push((entry.idempotency_key, b));
                }
            }
            Err(ClientError::Api {
                status,
                code,
                detail,
            }) => {
                cache.mark_refused(entry.seq, Some(status), &code, &detail)?;
                report.refused += 1;
            }
            // An answer that could not be read (network failures and timeouts are transient,
            // above).
            Err(other) => {
                cache.mark_refused(entry.seq, None, "unexpected_answer", &other.to_string())?;
                report.refused += 1;
            }
        }
    }
    if total > 0 {
        log::info!(
            "outbox: {} sent, {} refused, {} waiting",
            report.sent,
            report.refused,
            report.waiting
        );
    }
    Ok(report)
}
